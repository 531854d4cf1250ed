from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mck.cluster import ClusterPlan, Join, Probe, plan
from mck.node_status import Member, Status, parse_status
from mck.nodes import Node

# microk8s' own output, byte for byte: status_*.txt YAML came from running print_yaml of
# canonical/microk8s v1.32 scripts/wrappers/status.py (unchanged 1.28-1.36) with its helpers
# stubbed; the worker and stopped sentences are the echo lines of microk8s-status.wrapper and
# common/utils.py exit_if_stopped.
STATUS = Path(__file__).parent / "fixtures" / "status"


# ---- parse_status on microk8s' own output ---------------------------------------------------


def fixture(name: str) -> str:
    return (STATUS / name).read_text()


def test_a_fresh_node_is_ready_and_lists_only_loopback() -> None:
    status = parse_status(fixture("status_single.txt"), 0)

    assert status == Status("ready", (Member("127.0.0.1", "voter"),), None)


def test_an_ha_cluster_lists_every_member_with_its_role() -> None:
    status = parse_status(fixture("status_ha4.txt"), 0)

    assert status.state == "ready"
    assert status.members == (
        Member("10.77.0.1", "voter"),
        Member("10.77.0.2", "voter"),
        Member("10.77.0.3", "voter"),
        Member("10.77.0.4", "standby"),
    )


def test_not_running_is_not_ready_with_the_message() -> None:
    status = parse_status(fixture("status_not_ready.txt"), 1)

    assert status == Status(
        "not_ready",
        (Member("127.0.0.1", "voter"),),
        "microk8s is not running. Use microk8s inspect for a deeper inspection.",
    )


@pytest.mark.parametrize(
    "name, state", [("status_worker.txt", "worker"), ("status_stopped.txt", "stopped")]
)
def test_sentences_that_exit_zero_are_classified_by_content(name: str, state: str) -> None:
    status = parse_status(fixture(name), 0)

    assert status.state == state
    assert status.members == ()


@pytest.mark.parametrize(
    "stdout, rc",
    [("", 127), ("bash: line 1: /snap/bin/microk8s: command not found\n", 127)],
)
def test_a_missing_command_is_not_installed(stdout: str, rc: int) -> None:
    assert parse_status(stdout, rc).state == "not_installed"


@pytest.mark.parametrize(
    "stdout, rc, message",
    [
        ("", 1, "no output (exit code 1)"),
        ("Insufficient permissions to access MicroK8s.\n", 1, "Insufficient permissions"),
        ("microk8s:\n  running: True\n", 1, "exited 1"),
        ("microk8s:\n  running: maybe\n", 0, "running: 'maybe'"),
        (
            "microk8s:\n  running: True\nhigh-availability:\n  enabled: True\n  nodes:\n"
            "    - address: 10.0.0.1:19001\n",
            0,
            "without a role",
        ),
    ],
)
def test_anything_else_is_unknown_with_a_reason(stdout: str, rc: int, message: str) -> None:
    status = parse_status(stdout, rc)

    assert status.state == "unknown"
    assert status.message is not None and message in status.message


def test_addon_text_is_never_read_as_members_and_ipv6_addresses_lose_their_port() -> None:
    stdout = (
        "microk8s:\n"
        "  running: True\n"
        "high-availability:\n"
        "  enabled: True\n"
        "  nodes:\n"
        "    - address: [fd00::1]:19001\n"
        "      role: voter\n"
        "addons:\n"
        "  - name: registry\n"
        "    repository: core\n"
        "    description: Private image registry exposed on localhost:32000\n"
        "    version: 2.8.1\n"
        "    status: disabled\n"
        "    - address: 10.9.9.9:19001\n"
        "      role: voter\n"
    )

    assert parse_status(stdout, 0).members == (Member("fd00::1", "voter"),)


def test_ha_disabled_is_ready_without_members() -> None:
    stdout = "microk8s:\n  running: True\nhigh-availability:\n  enabled: False\naddons:\n"

    assert parse_status(stdout, 0) == Status("ready", (), None)


# ---- the planner ---------------------------------------------------------------------------

LOOP = "127.0.0.1"


def vm(name: str, public: str, private: str | None = None, *, nat: bool = False) -> Node:
    cloud = "aws" if nat else "digitalocean"
    return Node(name, cloud, public, private, "admin" if nat else "root", nat, f"x.{name}")


A = vm("do-0", "198.51.100.1", "10.0.0.1")
B = vm("do-1", "198.51.100.2", "10.0.0.2")
C = vm("do-2", "198.51.100.3", "10.0.0.3")
D = vm("do-3", "198.51.100.4", "10.0.0.4")
E = vm("do-4", "198.51.100.5", "10.0.0.5")
NAT = vm("aws-0", "203.0.113.7", "192.0.2.7", nat=True)  # sorts before every do-N


def ready(*members: tuple[Node | str, str]) -> Status:
    return Status("ready", tuple(Member(_ip(m), role) for m, role in members), None)


def _ip(m: Node | str) -> str:
    return m if isinstance(m, str) else m.public_ip


def alone(n: Node) -> Probe:
    return Probe(n, True, ready((LOOP, "voter")), None)


def member(n: Node, *members: tuple[Node | str, str]) -> Probe:
    return Probe(n, True, ready(*members), None)


def unreachable(n: Node) -> Probe:
    return Probe(n, False, None, "Failed to connect to the host via ssh: timed out\nmore")


def state(n: Node, st: str, message: str | None = None) -> Probe:
    return Probe(n, True, Status(st, (), message), None)  # type: ignore[arg-type]


AB = ((A, "voter"), (B, "voter"))


@dataclass
class Case:
    probes: list[Probe]
    leader: Node | None
    joins: list[tuple[Node, str]] = field(default_factory=list)  # (node, address)
    clusters: list[list[Node]] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    problems: list[tuple[Node | None, str]] = field(default_factory=list)  # reason fragment
    nat_ok: bool = False


CASES = {
    "all fresh: the first by name bootstraps, the others join its public IP": Case(
        [alone(C), alone(A), alone(B)],
        leader=A,
        joins=[(B, A.public_ip), (C, A.public_ip)],
    ),
    "a single fresh node is its own leader with nothing to join": Case([alone(A)], leader=A),
    "one cluster plus orphans: orphans join its first voter at its member address": Case(
        [
            member(A, (A.private_ip or "", "voter"), (B, "voter")),
            member(B, (A.private_ip or "", "voter"), (B, "voter")),
            alone(D),
            alone(C),
        ],
        leader=A,
        joins=[(C, "10.0.0.1"), (D, "10.0.0.1")],
        clusters=[[A, B]],
    ),
    "the leader is a ready voter, not a spare or standby, nor a voter that is not ready": Case(
        [
            member(A, (A, "spare"), (B, "voter"), (C, "voter"), (D, "standby")),
            Probe(B, True, Status("not_ready", ready((A, "spare"), (B, "voter")).members), None),
            member(C, (A, "spare"), (B, "voter"), (C, "voter"), (D, "standby")),
            member(D, (A, "spare"), (B, "voter"), (C, "voter"), (D, "standby")),
            alone(E),
        ],
        leader=C,
        joins=[(E, C.public_ip)],
        clusters=[[A, B, C, D]],
        problems=[(B, "do-1: microk8s is not ready")],
    ),
    "two multi-node clusters: a split is reported and nothing joins": Case(
        [
            member(A, *AB),
            member(B, *AB),
            member(C, (C, "voter"), (D, "voter")),
            alone(E),
            member(D, (C, "voter"), (D, "voter")),
        ],
        leader=None,
        clusters=[[A, B], [C, D]],
        problems=[
            (
                None,
                "2 separate clusters (do-0, do-1); (do-2, do-3); mck will not merge them "
                "automatically: that would wipe one cluster's data",
            )
        ],
    ),
    "an unreachable node is a problem and is not joined": Case(
        [unreachable(A), alone(B), alone(C)],
        leader=B,
        joins=[(C, B.public_ip)],
        problems=[(A, "do-0 is unreachable: Failed to connect to the host via ssh: timed out")],
    ),
    "a node that is not ready, stopped or not installed is a problem and is not joined": Case(
        [
            alone(A),
            state(B, "not_ready", "microk8s is not running"),
            state(C, "stopped", "microk8s is not running, try microk8s start"),
            state(D, "not_installed", "command not found"),
            state(E, "unknown", "Insufficient permissions to access MicroK8s."),
        ],
        leader=A,
        problems=[
            (B, "do-1: microk8s is not ready (microk8s is not running)"),
            (C, "do-2: microk8s is stopped"),
            (D, "do-3: microk8s is not installed"),
            (E, "do-4: cannot read microk8s status: Insufficient permissions"),
        ],
    ),
    "a worker counts as clustered: never joined, no problem": Case(
        [member(A, *AB), member(B, *AB), state(C, "worker"), alone(D)],
        leader=A,
        joins=[(D, A.public_ip)],
        clusters=[[A, B]],
    ),
    "a member address that matches no node is stale": Case(
        [
            member(A, *AB, ("198.51.100.99", "voter")),
            member(B, *AB, ("198.51.100.99", "voter")),
            alone(C),
        ],
        leader=A,
        joins=[(C, A.public_ip)],
        clusters=[[A, B]],
        stale=["198.51.100.99"],
    ),
    "an unreachable member still belongs to its cluster, by its listed address": Case(
        [member(A, *AB, (C.private_ip or "", "voter")), unreachable(C), member(B, *AB)],
        leader=A,
        clusters=[[A, B, C]],
        problems=[(C, "do-2 is unreachable")],
    ),
    "a NAT node without nat_ok is never leader nor joined": Case(
        [alone(NAT), alone(B), alone(A)],
        leader=A,
        joins=[(B, A.public_ip)],
        problems=[
            (
                NAT,
                "aws-0 is behind 1:1 NAT: its public IP 203.0.113.7 is not on the VM, "
                "and microk8s needs the join address bound locally",
            )
        ],
    ),
    "a NAT node with nat_ok may lead and join like any node": Case(
        [alone(NAT), alone(B), alone(A)],
        leader=NAT,
        joins=[(A, NAT.public_ip), (B, NAT.public_ip)],
        nat_ok=True,
    ),
    "a NAT orphan without nat_ok is not joined to an existing cluster either": Case(
        [member(A, *AB), member(B, *AB), alone(NAT)],
        leader=A,
        clusters=[[A, B]],
        problems=[(NAT, "aws-0 is behind 1:1 NAT")],
    ),
    "a lone NAT node needs no join address: no problem, nobody to lead": Case(
        [alone(NAT)], leader=None
    ),
    "a cluster without a ready voter cannot take joins": Case(
        [member(A, (A, "spare"), (B, "voter")), unreachable(B), alone(C)],
        leader=None,
        clusters=[[A, B]],
        problems=[
            (B, "do-1 is unreachable"),
            (None, "no reachable, ready voter"),
        ],
    ),
    "a ready node without datastore members is a problem, not an orphan": Case(
        [alone(A), Probe(B, True, Status("ready", (), None), None)],
        leader=A,
        problems=[(B, "do-1: microk8s lists no datastore members")],
    ),
    "a node that left but is still listed is not joined again (dqlite would refuse)": Case(
        [member(A, *AB), alone(B), alone(C)],
        leader=A,
        joins=[(C, A.public_ip)],
        clusters=[[A, B]],
        problems=[
            (
                B,
                "do-1 reports no cluster but the cluster of do-0 still lists it at 198.51.100.2: "
                "run `microk8s remove-node 198.51.100.2 --force` on do-0",
            ),
        ],
    ),
}


def run(case: Case) -> ClusterPlan:
    return plan(case.probes, nat_ok=case.nat_ok)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_plan(case: Case) -> None:
    result = run(case)

    assert result.leader == case.leader
    assert [(j.node, j.address) for j in result.joins] == case.joins
    assert all(j.leader == case.leader for j in result.joins)
    assert [list(c) for c in result.clusters] == case.clusters
    assert list(result.stale) == case.stale
    assert len(result.problems) == len(case.problems), result.problems
    for node, fragment in case.problems:
        matching = [p for p in result.problems if p.node == node and fragment in p.reason]
        assert matching, f"no problem for {node and node.name} with {fragment!r}: {result}"
    expected_nodes = {n for n, _ in case.problems}
    assert {p.node for p in result.problems} == expected_nodes
    assert all("\n" not in p.reason for p in result.problems)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_plan_does_not_depend_on_probe_order(case: Case) -> None:
    shuffled = list(case.probes)
    random.Random(7).shuffle(shuffled)

    assert plan(shuffled, nat_ok=case.nat_ok) == run(case)


# ---- clusters on the WireGuard mesh: members are addresses only the probe knows ------------

WG = {A: "10.77.0.1", B: "10.77.0.2", C: "10.77.0.3", D: "10.77.0.4"}


def wg_member(n: Node, members: list[str], *, known: bool = True) -> Probe:
    status = ready(*((m, "voter") for m in members))
    return Probe(n, True, status, None, WG[n] if known else None)


def test_a_fresh_leader_is_joined_on_its_cluster_ip() -> None:
    probes = [
        Probe(A, True, ready((LOOP, "voter")), None, WG[A]),
        Probe(B, True, ready((LOOP, "voter")), None, WG[B]),
    ]

    assert plan(probes, nat_ok=True).joins == (Join(B, A, "10.77.0.1"),)


def test_mesh_members_map_to_nodes_through_their_cluster_ip() -> None:
    listed = [WG[A], WG[B], "10.77.0.9"]
    probes = [
        wg_member(A, listed),
        wg_member(B, listed),
        Probe(C, True, ready((LOOP, "voter")), None, WG[C]),
    ]

    result = plan(probes, nat_ok=True)

    assert result.leader == A
    assert result.joins == (Join(C, A, "10.77.0.1"),)
    assert result.clusters == ((A, B),)
    assert result.stale == ("10.77.0.9",)
    assert result.problems == ()


def test_unknown_cluster_ips_never_make_a_live_member_stale() -> None:
    listed = [WG[A], WG[B]]
    probes = [wg_member(A, listed, known=False), wg_member(B, listed, known=False)]

    result = plan(probes, nat_ok=True)

    # Two reporting nodes, two unmatched addresses: those are the nodes' own.
    assert result.stale == ()
    assert result.clusters == ((A, B),)


def test_an_unmatched_address_that_may_be_stale_or_live_is_a_problem_not_stale() -> None:
    listed = [WG[A], WG[B], "10.77.0.9"]
    probes = [wg_member(A, listed, known=False), wg_member(B, listed)]

    result = plan(probes, nat_ok=True)

    assert result.stale == ()
    assert any("mck cannot tell which" in p.reason for p in result.problems)


def test_a_private_ip_two_clouds_share_maps_to_neither_node() -> None:
    twin_a = vm("b-0", "198.51.100.21", "10.0.0.9")
    twin_b = vm("b-1", "198.51.100.22", "10.0.0.9")
    listed: list[tuple[Node | str, str]] = [("10.0.0.9", "voter"), (twin_b, "voter")]
    probes = [member(twin_a, *listed), member(twin_b, *listed)]

    result = plan(probes, nat_ok=False)

    # b-0's entry cannot be told apart, so no voter is known for b-0; b-1 leads by its public IP.
    assert result.leader == twin_b
    assert result.stale == ()
