"""Per-node outcomes through the converge's phases (issue 14): what a run of the site playbook
says about each node, how the planner treats a node that failed, and how configure, probe and
report carry a failed node along without failing the others."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from mck import cluster, node_status
from mck.ansible import Ansible, Failure, HostStats, PlayResult
from mck.errors import MckError
from mck.nodes import Node
from mck.phases.configure import READY_TIMEOUT_VAR, configure
from mck.phases.context import Run, Settings
from mck.phases.outcomes import NodeOutcome, Outcomes, from_play
from mck.phases.probe import READY_TASK, probe_configured
from mck.phases.report import problem_lines
from mck.report import Ui
from mck.tofu import Tofu
from tests.unit.fakes import FakeAnsible

A, B, C = "mck-k8s-do-0", "mck-k8s-do-1", "mck-k8s-do-2"
READY_YAML = (
    "microk8s:\n  running: True\nhigh-availability:\n  enabled: True\n  nodes:\n"
    "    - address: {ip}:19001\n      role: voter\naddons:\n"
)

NOT_READY_YAML = (
    "microk8s:\n  running: False\nhigh-availability:\n  enabled: True\n  nodes:\n"
    "  message: microk8s is not running. Use microk8s inspect for a deeper inspection.\n"
)


def _node(name: str) -> Node:
    i = int(name[-1])
    return Node(name, "digitalocean", f"198.51.100.{i + 1}", None, "root", False, f"x[{i}]")


def _ready(ip: str) -> dict[str, Any]:
    return {"rc": 0, "stdout": READY_YAML.format(ip=ip)}


def _play(
    ok: tuple[str, ...] = (),
    unreachable: tuple[str, ...] = (),
    failed: dict[str, tuple[str, str]] | None = None,
) -> PlayResult:
    """A run of main.yml: `ok` hosts finished it (their readiness wait printed a status)."""
    failed = failed or {}
    result = PlayResult(status="failed" if unreachable or failed else "successful", rc=0)
    result.rc = 2 if unreachable or failed else 0
    for name in ok:
        result.hosts[name] = HostStats(ok=5)
        result.captured[name] = {READY_TASK: _ready(_node(name).public_ip)}
    for name in unreachable:
        result.hosts[name] = HostStats(ok=1, unreachable=True)
        result.failures.append(Failure(name, "common : Read the node", "ssh: No route to host"))
    for name, (task, message) in failed.items():
        result.hosts[name] = HostStats(ok=3, failed=1)
        result.failures.append(Failure(name, task, message))
        if task == READY_TASK:
            result.captured[name] = {READY_TASK: {"rc": 1, "stdout": NOT_READY_YAML}}
    return result


def test_each_host_of_the_site_playbook_gets_its_own_outcome() -> None:
    result = _play(
        ok=(A,),
        unreachable=(B,),
        failed={C: (READY_TASK, "microk8s:")},
    )
    result.hosts["d"] = HostStats(ok=2, failed=1)
    result.failures.append(Failure("d", "mesh : Install wireguard-tools", "No package found"))
    result.hosts["e"] = HostStats(ok=2)  # the play ended before it finished here
    outcomes = from_play(result, [A, B, C, "d", "e", "f"], last_task=READY_TASK, ready_timeout=30)
    assert outcomes[A] == NodeOutcome(A)
    assert outcomes[B] == NodeOutcome(B, "unreachable", "ssh: No route to host")
    assert outcomes[C].kind == "not_ready"
    # What microk8s said, not the first line of its YAML.
    assert outcomes[C].reason.startswith(
        "not ready within 30 s (microk8s is not running. Use microk8s inspect for a deeper "
        "inspection.); `microk8s inspect` on it says why"
    )
    assert outcomes["d"] == NodeOutcome(
        "d", "task_failed", "mesh : Install wireguard-tools: No package found"
    )
    assert (
        outcomes["e"].kind == "task_failed" and "stopped before it finished" in outcomes["e"].reason
    )
    assert outcomes["f"] == NodeOutcome("f", "task_failed", "the playbook never reached it")


def test_a_successful_run_is_every_host_ok_even_without_the_readiness_task() -> None:
    result = PlayResult(status="successful", rc=0, hosts={A: HostStats(ok=3), B: HostStats(ok=3)})
    assert all(o.ok for o in from_play(result, [A, B], last_task=None, ready_timeout=5).values())


def test_a_nodes_first_failure_is_its_outcome_and_the_others_stay_healthy() -> None:
    outcomes = Outcomes()
    outcomes.fail(B, "unreachable", "no SSH answer")
    outcomes.fail(B, "join_failed", "later, and only a consequence")
    assert outcomes.of(B).line() == f"{B}: unreachable: no SSH answer"
    assert outcomes.of(A).ok
    assert outcomes.healthy([_node(A), _node(B), _node(C)]) == [_node(A), _node(C)]


def _probe(name: str, *, members: tuple[str, ...] = (), up: bool = True) -> cluster.Probe:
    node = _node(name)
    if not up:
        return cluster.Probe(node, False, None, f"{name}: unreachable: gone", None)
    listed = tuple(node_status.Member(m, "voter") for m in members or (node.public_ip,))
    return cluster.Probe(node, True, node_status.Status("ready", listed), None)


def test_the_planner_joins_the_healthy_nodes_past_a_failed_one() -> None:
    plan = cluster.plan([_probe(A), _probe(B, up=False), _probe(C)], nat_ok=True)
    assert plan.leader == _node(A)
    assert [j.node.name for j in plan.joins] == [C]
    assert [p.node for p in plan.problems] == [_node(B)]


def test_a_failed_member_is_neither_stale_nor_rejoined() -> None:
    # B is in the cluster of A and C but did not answer: its member address still has an owner.
    members = tuple(_node(n).public_ip for n in (A, B, C))
    probes = [_probe(A, members=members), _probe(B, up=False), _probe(C, members=members)]
    plan = cluster.plan(probes, nat_ok=True)
    assert plan.stale == () and plan.joins == ()
    assert plan.leader == _node(A)
    assert [p.node for p in plan.problems] == [_node(B)]


def test_a_failed_node_is_reported_by_its_outcome_not_by_what_the_planner_saw() -> None:
    outcomes = Outcomes()
    outcomes.fail(B, "task_failed", "mesh : Write the WireGuard configuration: disk full")
    plan = cluster.plan([_probe(A), _probe(B, up=False)], nat_ok=True)
    split = cluster.Problem(None, "the nodes form 2 separate clusters")
    plan = cluster.ClusterPlan(plan.leader, plan.joins, problems=(*plan.problems, split))
    assert problem_lines(outcomes, plan) == [
        f"{B}: configure failed: mesh : Write the WireGuard configuration: disk full",
        "the nodes form 2 separate clusters",
    ]


def _run(tmp_path: Path, *results: PlayResult) -> tuple[Run, FakeAnsible]:
    ansible = FakeAnsible(list(results))
    settings = Settings(project=tmp_path, ready_timeout=42)
    run = Run(settings, Ui(), tmp_path, cast(Tofu, None), cast(Ansible, ansible))
    return run, ansible


def test_configure_leaves_failed_nodes_out_and_goes_on_with_the_rest(tmp_path: Path) -> None:
    run, ansible = _run(tmp_path, _play(ok=(A, C), unreachable=(B,)))
    nodes = [_node(A), _node(B), _node(C)]
    configured = configure(run, nodes, "none")
    assert ansible.calls[0]["extravars"] == {READY_TIMEOUT_VAR: 42}
    assert ansible.calls[0]["limit"] is None
    assert [o.name for o in run.outcomes.failed()] == [B]
    # The probe is the readiness wait's output; B's probe says why it is out.
    probes = probe_configured(run, nodes, configured, {})
    assert len(ansible.calls) == 1  # no probe run of its own
    by_name = {p.node.name: p for p in probes}
    status = by_name[A].status
    assert status is not None and status.state == "ready"
    assert not by_name[B].reachable
    assert by_name[B].error == f"{B}: unreachable: ssh: No route to host"


def test_configure_runs_only_on_nodes_still_in_the_run(tmp_path: Path) -> None:
    run, ansible = _run(tmp_path, _play(ok=(A,)))
    run.outcomes.fail(B, "unreachable", "not booted within 300 s: did not answer")
    configure(run, [_node(A), _node(B)], "none")
    assert ansible.calls[0]["limit"] == A


def test_configure_stops_the_run_when_no_node_got_through(tmp_path: Path) -> None:
    run, _ansible = _run(tmp_path, _play(unreachable=(A, B)))
    with pytest.raises(MckError) as error:
        configure(run, [_node(A), _node(B)], "none")
    assert error.value.exit_code == 1
    assert error.value.message.startswith(f"no node could be configured: {A}: unreachable: ")


def test_a_run_that_reached_no_host_is_a_failure_of_the_run(tmp_path: Path) -> None:
    run, _ansible = _run(tmp_path, PlayResult(status="failed", rc=4))
    with pytest.raises(MckError, match=r"main.yml failed \(ansible-runner failed, rc 4\)"):
        configure(run, [_node(A)], "none")
