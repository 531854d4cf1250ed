"""The node name policy (mck/names.py): refused in the plan phase, from the planned values,
every bad VM named at once; a state holding a bad name (made before, or by hand) never hides the
good nodes and never blocks the plan that fixes it. Plans are the recorded
tests/unit/fixtures/plan_changes.json (Terraform 1.11.4 `show -json`), edited per case."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mck import names
from mck.errors import EXIT_USAGE, MckError, UsageError
from mck.nodes import nodes_from_state, planned_nodes, read_state, read_stored_state
from mck.phases.plan import read_plan
from mck.tofu import Plan

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())  # type: ignore[no-any-return]


def _change(plan: dict[str, Any], address: str) -> dict[str, Any]:
    rc = next(r for r in plan["resource_changes"] if r["address"] == address)
    return rc["change"]  # type: ignore[no-any-return]


def _plan() -> dict[str, Any]:
    """The recorded plan with every name known at plan time: nothing to refuse."""
    plan = load("plan_changes.json")
    change = _change(plan, "aws_instance.node[1]")
    change["after"]["tags"] = {"Name": "mck-k8s-aws-1"}
    change["after_unknown"]["tags"] = False
    return plan


@pytest.mark.parametrize(
    "name, ok",
    [
        ("mck-k8s-do-0", True),
        ("node.eu-1", True),
        ("a", True),
        ("Web-1", False),  # Linode labels and AWS tags allow uppercase
        ("web_1", False),  # and underscores
        ("-lead", False),
        ("trail-", False),
        ("two words", False),
        ("a" * 64, False),  # a DNS label is 63 characters at most
        (".".join(["a" * 63] * 4), False),  # a hostname 253
    ],
)
def test_what_is_a_node_name(name: str, ok: bool) -> None:
    assert names.is_node_name(name) is ok


@pytest.mark.parametrize(
    "name, hint",
    [("Web_1", "web-1"), ("K8S__Node.EU_", "k8s-node.eu"), ("__", None), ("ok-1", "ok-1")],
)
def test_the_refusal_suggests_a_valid_spelling(name: str, hint: str | None) -> None:
    assert names.suggestion(name) == hint


def test_a_plan_with_good_names_passes() -> None:
    assert "mck-k8s-aws-1" in [n.name for n in planned_nodes(_plan())]


def test_bad_planned_names_are_refused_before_anything_is_applied_all_at_once() -> None:
    plan = _plan()
    _change(plan, "aws_instance.node[1]")["after"]["tags"] = {"Name": "Web_1"}  # created
    _change(plan, "linode_instance.node[0]")["after"]["label"] = "MCK-Linode-0"  # replaced
    _change(plan, "digitalocean_droplet.node[0]")["after"]["name"] = "db_0"  # kept as it is

    with pytest.raises(UsageError) as err:
        planned_nodes(plan)

    message = err.value.message
    assert err.value.exit_code == EXIT_USAGE
    assert message.startswith("refusing before anything is applied: 3 VMs cannot be nodes: ")
    assert "\n" not in message
    assert "aws_instance.node[1] is named 'Web_1', which cannot be a hostname" in message
    assert "set its tags.Name to lowercase letters, digits, '-' and '.' (e.g. 'web-1')" in message
    assert "linode_instance.node[0] is named 'MCK-Linode-0'" in message
    assert "set its label to" in message and "(e.g. 'mck-linode-0')" in message
    assert "digitalocean_droplet.node[0] is named 'db_0'" in message


def test_a_name_known_only_after_apply_is_refused_with_the_way_around() -> None:
    # As recorded: the Name tag comes from a value known only after apply (tags unknown).
    with pytest.raises(UsageError) as err:
        planned_nodes(load("plan_changes.json"))

    assert err.value.message == (
        "refusing before anything is applied: aws_instance.node[1]: its tags.Name is known "
        "only after apply (it depends on a value OpenTofu computes), and mck checks node names "
        "before it creates a VM: build the name from variables, count.index or each.key, or "
        "create what it depends on first (`tofu apply -target=…`)"
    )


@pytest.mark.parametrize("unknown", [True, {"Name": True}])
def test_an_unknown_tag_map_or_an_unknown_name_tag_are_both_unknown(unknown: object) -> None:
    plan = _plan()
    change = _change(plan, "aws_instance.node[1]")
    change["after"]["tags"] = {} if unknown is True else {"Owner": "ops"}
    change["after_unknown"]["tags"] = unknown

    with pytest.raises(UsageError, match=r"its tags\.Name is known only after apply"):
        planned_nodes(plan)


def test_a_missing_name_and_a_repeated_name_are_refused_in_the_plan_too() -> None:
    plan = _plan()
    _change(plan, "aws_instance.node[1]")["after"]["tags"] = {"Owner": "ops"}
    _change(plan, "digitalocean_droplet.node[2]")["after"]["name"] = "mck-k8s-do-0"

    with pytest.raises(UsageError) as err:
        planned_nodes(plan)

    assert "aws_instance.node[1] has no tags.Name" in err.value.message
    assert (
        "digitalocean_droplet.node[0] and digitalocean_droplet.node[2] are both named "
        "'mck-k8s-do-0'" in err.value.message
    )


def test_a_vm_that_is_deleted_may_keep_its_bad_name() -> None:
    plan = _plan()
    change = _change(plan, "digitalocean_droplet.node[1]")
    assert change["actions"] == ["delete"] and change["after"] is None
    change["before"]["name"] = "Old_One"  # going away: nothing to check
    assert len(planned_nodes(plan)) == 6


# ---- a bad name already in the state --------------------------------------------------------


def _state_with_bad_label() -> dict[str, Any]:
    state = load("state_count.json")
    linode = next(
        r
        for r in state["values"]["root_module"]["resources"]
        if r["address"] == "linode_instance.node[0]"
    )
    linode["values"]["label"] = "MCK-K8S-Linode-0"
    return state


def test_fixing_the_label_is_not_blocked_by_the_state_that_still_has_the_bad_one() -> None:
    # The state (made by an older mck, or by hand) has the bad label; the plan renames it in
    # place (a Linode label is updatable): the plan passes, and the state read before the apply
    # (to probe today's nodes) keeps the good nodes and sets the bad one aside.
    plan = _plan()
    linode = _change(plan, "linode_instance.node[0]")
    linode["actions"] = ["update"]
    linode["before"]["label"] = "MCK-K8S-Linode-0"
    assert "mck-k8s-linode-0" in [n.name for n in planned_nodes(plan)]

    today = read_state(_state_with_bad_label())

    assert [n.name for n in today.nodes] == ["mck-k8s-aws-0", "mck-k8s-do-0", "mck-k8s-do-1"]
    (unusable,) = today.unusable
    assert unusable.startswith("linode_instance.node[0] is named 'MCK-K8S-Linode-0'")


def test_every_unusable_vm_in_a_state_is_named_in_one_error() -> None:
    state = _state_with_bad_label()
    resources = state["values"]["root_module"]["resources"]
    droplet = next(r for r in resources if r["address"] == "digitalocean_droplet.node[1]")
    droplet["values"]["ipv4_address"] = None

    with pytest.raises(MckError) as err:
        nodes_from_state(state)

    message = err.value.message
    assert message.startswith("2 VMs cannot be nodes: ")
    assert "linode_instance.node[0] is named 'MCK-K8S-Linode-0'" in message
    assert "digitalocean_droplet.node[1] (mck-k8s-do-1) has no public IP" in message


def test_the_stored_state_sets_bad_names_aside_the_same_way() -> None:
    stored = load("stored_state_lab.json")
    good = read_stored_state(stored).nodes
    bad = copy.deepcopy(stored)
    linode = next(r for r in bad["resources"] if r["type"] == "linode_instance")
    linode["instances"][0]["attributes"]["label"] = "Bad_Label"

    result = read_stored_state(bad)

    assert [n.name for n in result.nodes] == [n.name for n in good if n.cloud != "linode"]
    assert len(result.unusable) == 1 and "'Bad_Label'" in result.unusable[0]


# ---- the converge's plan phase --------------------------------------------------------------


class _Tofu:
    """The three calls read_plan makes, answering with recorded JSON (no subprocess)."""

    def __init__(self, *, changes: bool, plan: dict[str, Any], state: dict[str, Any]) -> None:
        self.changes, self.plan_json, self.state = changes, plan, state

    def plan(self, planfile: Path) -> Plan:
        return Plan(self.changes)

    def show(self, planfile: Path) -> None:
        pass

    def show_json(self, planfile: Path | None = None) -> dict[str, Any]:
        return self.plan_json if planfile else load("show_state_lab.json")

    def state_pull(self) -> dict[str, Any]:
        return self.state


def _bad_stored_state() -> dict[str, Any]:
    state = load("stored_state_lab.json")
    linode = next(r for r in state["resources"] if r["type"] == "linode_instance")
    linode["instances"][0]["attributes"]["label"] = "Bad_Label"
    return state


def test_the_plan_phase_refuses_a_bad_name_the_plan_does_not_change(tmp_path: Path) -> None:
    tofu = _Tofu(changes=False, plan={}, state=_bad_stored_state())

    with pytest.raises(UsageError) as err:
        read_plan(tofu, tmp_path / "p")  # type: ignore[arg-type]

    assert err.value.message.startswith("refusing before anything is applied: ")
    assert "is named 'Bad_Label', which cannot be a hostname" in err.value.message


def test_the_plan_phase_refuses_a_bad_planned_name(tmp_path: Path) -> None:
    plan = _plan()
    _change(plan, "digitalocean_droplet.node[2]")["after"]["name"] = "New_Droplet"
    tofu = _Tofu(changes=True, plan=plan, state=load("stored_state_lab.json"))

    with pytest.raises(UsageError, match="'New_Droplet', which cannot be a hostname"):
        read_plan(tofu, tmp_path / "p")  # type: ignore[arg-type]
