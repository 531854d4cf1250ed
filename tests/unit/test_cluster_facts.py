"""The cluster's record in the OpenTofu state (mck/cluster_facts.py): written by one replace of
terraform_data.mck_facts, read back from `state pull`, `show -json` and a plan, left alone by
every other plan; a state from before the record falls back to the last inventory."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mck import cluster_facts
from mck.cluster_facts import ClusterFacts, HostKeys
from mck.errors import UsageError
from mck.phases.plan import _prior_resources
from mck.tofu import Tofu
from mck.tofu_json import stored_resources

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = shutil.which("terraform") or "/usr/local/bin/terraform"
FACTS = ClusterFacts(
    cluster_name="prod",
    encryption="mesh",
    public_api=True,
    mesh_ips={"prod-do-0": "10.77.0.1", "prod-linode-0": "10.77.0.2"},
    host_keys={"prod-do-0": HostKeys("456789012", ("ssh-ed25519 AAAAk",))},
    source="state",
)
INVENTORY = """[digitalocean]
prod-do-0 ansible_host=198.51.100.10 mck_mesh_ip=10.77.0.9

[all:vars]
mck_cluster_name=old
mck_encryption=none
"""


def test_the_record_reads_back_as_written() -> None:
    assert cluster_facts.parse(FACTS.record()) == FACTS
    assert json.loads(FACTS.record())["nodes"]["prod-linode-0"] == {"mesh_ip": "10.77.0.2"}


def test_the_state_record_wins_over_the_inventory_which_is_only_a_fallback() -> None:
    assert cluster_facts.read(FACTS.record(), INVENTORY) == FACTS
    old = cluster_facts.read(None, INVENTORY)
    assert old.source == "inventory" and old.host_keys == {}
    assert (old.cluster_name, old.encryption, dict(old.mesh_ips)) == (
        "old",
        "none",
        {"prod-do-0": "10.77.0.9"},
    )
    assert cluster_facts.read("", "") == ClusterFacts()


@pytest.mark.parametrize(
    ("record", "said"),
    [
        ("{not json", "is not JSON"),
        ('{"format": 9, "nodes": {}}', "has format 9, this mck reads 1"),
        ('{"format": 1}', "has no nodes map"),
        ('{"format": 1, "nodes": {"a": 3}}', "node 'a' is not an object"),
    ],
)
def test_a_record_mck_did_not_write_is_one_line_naming_it(record: str, said: str) -> None:
    with pytest.raises(UsageError) as caught:
        cluster_facts.parse(record)
    message = caught.value.message
    assert "terraform_data.mck_facts" in message and said in message and "\n" not in message


def test_a_project_without_mck_facts_tf_is_told_to_restore_it() -> None:
    cluster_facts.check_declared({"mck_facts": True})
    with pytest.raises(UsageError, match=r"restore mck_facts\.tf"):
        cluster_facts.check_declared({"cluster_name": True})


def test_deposed_and_other_resources_are_not_the_record() -> None:
    found = [
        {"address": "terraform_data.mck_facts", "deposed_key": "1", "values": {"input": "x"}},
        {"address": "module.m.terraform_data.mck_facts", "values": {"input": "y"}},
        {"address": "terraform_data.mck_facts", "values": {"input": {"value": "z"}}},
    ]
    assert cluster_facts.find_record(found) == "z"
    assert cluster_facts.find_record(found[:2]) is None


@pytest.fixture
def tofu(tmp_path: Path) -> Tofu:
    """A project of mck_facts.tf alone, on real Terraform (the record needs no provider)."""
    shutil.copy(REPO / "mck_facts.tf", tmp_path)
    found = Tofu(TERRAFORM, tmp_path, {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    found.init()
    return found


def test_terraform_keeps_the_record_and_plans_leave_it_alone(tofu: Tofu, tmp_path: Path) -> None:
    tofu.run(tofu.argv("apply", "-auto-approve"))  # what the converge's own apply creates: empty
    state = tofu.state_pull()
    assert state is not None and cluster_facts.find_record(stored_resources(state)) == ""
    cluster_facts.write(tofu, FACTS)
    state = tofu.state_pull()
    assert state is not None
    assert cluster_facts.parse(cluster_facts.find_record(stored_resources(state)) or "") == FACTS
    shown = tofu.show_json()
    assert cluster_facts.find_record(_prior_resources({"prior_state": shown})) == FACTS.record()
    # A plan without the variable (a `tofu plan` by hand, the converge's own) changes nothing,
    # and a saved plan carries the record in its prior state.
    planfile = tmp_path / "plan"
    assert not tofu.plan(planfile).changes
    plan_json = tofu.show_json(planfile)
    assert cluster_facts.find_record(_prior_resources(plan_json)) == FACTS.record()
    newer = ClusterFacts("prod", "mesh", False, {"prod-do-0": "10.77.0.1"}, source="state")
    cluster_facts.write(tofu, newer)
    state = tofu.state_pull()
    assert state is not None
    assert cluster_facts.find_record(stored_resources(state)) == newer.record()
