"""After the joins, the report waits (bounded) for dqlite to fill its voter seats: the third
member promotes one more node only once it has started, so a probe right after the last join
can show a spare about to vote, and a false warning that every voter sits on one cloud."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from mck import cluster, voters
from mck.ansible import Ansible, HostStats, PlayResult
from mck.node_status import Member, Status
from mck.nodes import Node
from mck.phases import act as act_phase
from mck.phases.context import Run, Settings
from mck.phases.probe import PROBE_TASK
from mck.report import Ui
from mck.tofu import Tofu
from tests.unit.fakes import FakeAnsible

NODES = [
    Node("do-0", "digitalocean", "198.51.100.1", None, "root", False, "d[0]"),
    Node("linode-0", "linode", "198.51.100.2", None, "root", False, "l[0]"),
    Node("do-1", "digitalocean", "198.51.100.3", None, "root", False, "d[1]"),
]


def _yaml(roles: dict[str, str]) -> str:
    members = "".join(f"    - address: {ip}:19001\n      role: {r}\n" for ip, r in roles.items())
    return (
        "microk8s:\n  running: True\nhigh-availability:\n  enabled: True\n  nodes:\n"
        f"{members}addons:\n"
    )


def _alone(node: Node) -> cluster.Probe:
    """A configured node that has not clustered: itself its only member."""
    status = Status("ready", (Member(node.public_ip, "voter"),))
    return cluster.Probe(node, True, status, None)


def _probed(*roles: str) -> PlayResult:
    """A probe run in which every node lists the three members with `roles` (by NODES order)."""
    listed = _yaml({n.public_ip: r for n, r in zip(NODES, roles, strict=True)})
    result = PlayResult("successful", 0)
    for node in NODES:
        result.hosts[node.name] = HostStats(ok=2)
        result.captured[node.name] = {PROBE_TASK: {"rc": 0, "stdout": listed}}
    return result


def _run(tmp_path: Path, results: list[PlayResult]) -> tuple[Run, FakeAnsible]:
    ansible = FakeAnsible(results)
    run = Run(Settings(project=tmp_path), Ui(), tmp_path, cast(Tofu, None), cast(Ansible, ansible))
    return run, ansible


def _act(run: Run) -> act_phase.Acted:
    """The act phase on NODES, none of them clustered yet (do-0 bootstraps, the others join)."""
    alone = [_alone(n) for n in NODES]
    return act_phase.act(
        run, NODES, alone, PlayResult("successful", 0), mode="none", cluster_ips={}
    )


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(act_phase, "SEATING_POLL", 0.01)


def test_seats_are_pending_only_while_a_cluster_of_three_has_fewer_voters() -> None:
    assert voters.seats_pending(["voter", "voter", "spare"])
    assert not voters.seats_pending(["voter", "voter", "voter", "spare"])
    assert not voters.seats_pending(["voter", "spare"])  # two members: one voter, for good


def test_the_report_waits_for_the_spare_about_to_vote(tmp_path: Path) -> None:
    joined = PlayResult("successful", 0)
    results = [
        joined,
        joined,
        _probed("voter", "spare", "voter"),
        _probed("voter", "voter", "voter"),
    ]
    run, ansible = _run(tmp_path, results)
    acted = _act(run)
    assert acted.joined == ["linode-0", "do-1"]
    assert len(ansible.calls) == 4  # two joins, then a probe until every seat is filled
    roles = {m.role for p in acted.probes if p.status for m in p.status.members}
    assert roles == {"voter"}


def test_the_wait_is_bounded_and_a_dead_member_is_no_seat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(act_phase, "SEATING_WAIT", 0.05)
    joined = PlayResult("successful", 0)
    stuck = [_probed("voter", "spare", "voter") for _ in range(50)]
    run, ansible = _run(tmp_path, [joined, joined, *stuck])
    _act(run)
    assert 4 <= len(ansible.calls) < 50  # gave up at the bound
    # A member that is not ready is not waited for: dqlite promotes online members only.
    down = _probed("voter", "spare", "voter")
    down.captured["linode-0"][PROBE_TASK] = {"rc": 0, "stdout": "microk8s is not running\n"}
    probes = act_phase.probes_from(down, NODES, {})
    assert act_phase._live_roles(probes) == ["voter", "voter"]
    assert not voters.seats_pending(act_phase._live_roles(probes))
