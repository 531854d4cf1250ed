"""mck/calico.py and playbooks/calico_read.yml: the configure run's read of Calico's settings,
and when it lets a converge skip the ansible run that would set them."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from mck import calico
from mck.ansible import PlayResult
from mck.cluster import ClusterPlan
from mck.nodes import Node

PLAY = yaml.safe_load(calico.READ.read_text())[0]
WG0 = '{"kind":"List","items":[{"kind":"DaemonSet","spec":{"template":{"spec":{"containers":[{"name":"calico-node","env":[{"name":"IP_AUTODETECTION_METHOD","value":"interface=wg0"}]}]}}}},{"kind":"ConfigMap","data":{"veth_mtu":"1370"}}]}'  # noqa: E501
FIRST_FOUND = WG0.replace("interface=wg0", "first-found")
AUTO_MTU = WG0.replace('"1370"', '"0"')


def _node(name: str) -> Node:
    return Node(name, "digitalocean", "198.51.100.1", None, "root", False, f"x.node[{name!r}]")


def _result(host: str, task: str, res: dict[str, Any]) -> PlayResult:
    return PlayResult("successful", 0, captured={host: {task: res}})


MESH_TASK, _ = calico.SETTINGS["mesh"]
WG_TASK, _ = calico.SETTINGS["calico-wireguard"]
A, B, C = _node("a"), _node("b"), _node("c")
ONE_CLUSTER = ClusterPlan(leader=A, clusters=((A, B),))


def test_the_read_play_runs_one_read_only_command_on_one_node_per_mode() -> None:
    assert PLAY["hosts"] == "k8s[0]" and PLAY["gather_facts"] is False
    by_name = {t["name"]: t for t in PLAY["tasks"]}
    assert set(by_name) == calico.READ_TASKS
    for mode, (task, playbook) in calico.SETTINGS.items():
        t = by_name[task]
        assert t["changed_when"] is False and t["failed_when"] is False
        assert mode in t["when"]
        assert playbook.is_file()
        # The setting playbook reads the same way before it sets (its own first task).
        first = yaml.safe_load(playbook.read_text())[0]["tasks"][0]
        assert first["name"] == task
        assert first["ansible.builtin.command"]["argv"] == t["ansible.builtin.command"]["argv"]


@pytest.mark.parametrize(
    ("mode", "task", "stdout", "in_place"),
    [
        ("mesh", MESH_TASK, WG0, True),
        ("mesh", MESH_TASK, FIRST_FOUND, False),
        ("mesh", MESH_TASK, AUTO_MTU, False),
        ("calico-wireguard", WG_TASK, "true", True),
        ("calico-wireguard", WG_TASK, "", False),
        ("calico-wireguard", WG_TASK, "false\n", False),
    ],
)
def test_read_from_says_whether_the_setting_is_in_place(
    mode: str, task: str, stdout: str, in_place: bool
) -> None:
    read = calico.read_from(_result("b", task, {"rc": 0, "stdout": stdout}), mode)
    assert read == calico.Read("b", in_place)


def test_a_failed_or_missing_read_is_no_read() -> None:
    failed = _result("b", MESH_TASK, {"rc": 1, "stdout": "", "stderr": "connection refused"})
    assert calico.read_from(failed, "mesh") is None
    assert calico.read_from(PlayResult("successful", 0), "mesh") is None
    # The other mode's read does not count, and `none` has no setting at all.
    assert calico.read_from(_result("b", WG_TASK, {"rc": 0, "stdout": "true"}), "mesh") is None
    assert calico.read_from(_result("b", MESH_TASK, {"rc": 0, "stdout": WG0}), "none") is None


def test_settled_only_when_read_in_place_on_a_member() -> None:
    yes = calico.Read("b", True)
    assert calico.settled(yes, ONE_CLUSTER)
    assert not calico.settled(calico.Read("b", False), ONE_CLUSTER)
    assert not calico.settled(None, ONE_CLUSTER)
    # Read on a node outside the leader's cluster: it says nothing about that cluster.
    assert not calico.settled(calico.Read("c", True), ONE_CLUSTER)
    # A single node that never clustered is its own leader.
    assert calico.settled(calico.Read("a", True), ClusterPlan(leader=A))
    # No leader, or a split: never settled (the playbook is skipped anyway, problems reported).
    assert not calico.settled(yes, ClusterPlan(leader=None))
    split = ClusterPlan(leader=A, clusters=((A, B), (C,)))
    assert not calico.settled(yes, split)
