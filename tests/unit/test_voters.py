"""The join order that spreads dqlite's voters over the clouds (mck/voters.py), and the planner
and preview using it. go-dqlite's rule, measured on this machine with Debian's go-dqlite 1.11.5
(app.New with WithFailureDomain, joined one at a time on loopback): domains 1,1,1,2,3 in that
join order → voters 1,1,1 and the 2 and 3 stand-bys, even after adjustment rounds; domains
1,2,3,1,1 → voters 1,2,3. `dqlite_voters` below replays that rule on a join order."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mck import preview
from mck.cluster import Probe, plan
from mck.node_status import Member, Status
from mck.nodes import Node, NodeChanges, PlannedNode
from mck.scaledown import ScaleDown
from mck.voters import TARGET_VOTERS, join_order, same_cloud_voters


@dataclass(frozen=True)
class P:
    name: str
    cloud: str


def dqlite_voters(order: list[str]) -> list[str]:
    """The voters after joining `order` one at a time (the first bootstraps), as go-dqlite
    assigns them (app.go maybePromoteOurselves + roles.go Assume): joiners are spares; the
    joiner that makes the cluster 3 becomes a voter and promotes the other spare; once 3
    voters are online nobody else becomes one."""
    if len(order) < TARGET_VOTERS:
        return order[:1]  # a cluster of two: the leader votes, the other is a spare
    return order[:TARGET_VOTERS]


def _clouds(names: list[str]) -> list[str]:
    return [n.split("-")[0] for n in names]


CASES = {
    # members, joiners (name-cloud), expected order
    "fresh: the first of each other cloud takes the next seats": (
        ["do-0"],
        ["do-1", "do-2", "linode-0", "linode-1", "aws-0"],
        ["aws-0", "linode-0", "do-1", "do-2", "linode-1"],
    ),
    "fresh, two clouds: the second seat goes to the first by name": (
        ["do-0"],
        ["do-2", "do-1", "linode-0"],
        ["linode-0", "do-1", "do-2"],
    ),
    "fresh, one cloud: name order": (
        ["do-0"],
        ["do-10", "do-2", "do-1"],
        ["do-1", "do-2", "do-10"],
    ),
    "a cluster of two takes one more voter: the missing cloud": (
        ["do-0", "do-1"],
        ["do-2", "linode-0", "aws-0"],
        ["aws-0", "do-2", "linode-0"],
    ),
    "a cluster of two on two clouds: the third cloud": (
        ["do-0", "linode-0"],
        ["do-1", "linode-1", "aws-0"],
        ["aws-0", "do-1", "linode-1"],
    ),
    "a cluster of three has its voters: name order": (
        ["do-0", "do-1", "do-2"],
        ["linode-0", "aws-0", "do-3"],
        ["aws-0", "do-3", "linode-0"],
    ),
    "nothing to join": (["do-0"], [], []),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_join_order(case: str) -> None:
    members, joiners, expected = CASES[case]
    nodes = [P(n, n.split("-")[0]) for n in joiners]

    order = join_order([P(m, m.split("-")[0]) for m in members], nodes)

    assert [n.name for n in order] == expected


def test_size_counts_members_mck_cannot_place() -> None:
    # Two members, one of them at an address no node owns: one voter seat, not two.
    order = join_order([P("do-0", "do")], [P("do-1", "do"), P("aws-0", "aws")], size=2)
    assert [n.name for n in order] == ["aws-0", "do-1"]
    order = join_order([P("do-0", "do")], [P("do-1", "do"), P("aws-0", "aws")], size=3)
    assert [n.name for n in order] == ["aws-0", "do-1"]  # no seat: plain name order


def test_the_old_name_order_would_put_every_voter_on_one_cloud() -> None:
    # The case: the first three nodes by name are on one cloud.
    names = ["a-0", "a-1", "a-2", "b-0", "b-1", "c-0"]
    assert set(_clouds(dqlite_voters(names))) == {"a"}

    first, *rest = [P(n, n.split("-")[0]) for n in names]
    order = [first.name] + [n.name for n in join_order([first], rest)]

    assert order == ["a-0", "b-0", "c-0", "a-1", "a-2", "b-1"]
    assert sorted(_clouds(dqlite_voters(order))) == ["a", "b", "c"]


# ---- the planner ----------------------------------------------------------------------------


def _node(name: str, cloud: str, i: int) -> Node:
    return Node(name, cloud, f"198.51.100.{i}", None, "root", False, name)


ALL = [
    _node(n, c, i)
    for i, (n, c) in enumerate(
        [
            ("n-0", "digitalocean"),
            ("n-1", "digitalocean"),
            ("n-2", "digitalocean"),
            ("n-3", "linode"),
            ("n-4", "linode"),
            ("n-5", "aws"),
        ],
        start=1,
    )
]
MESH = {n.name: f"10.77.0.{i}" for i, n in enumerate(ALL, start=1)}
LOCAL = (Member("127.0.0.1", "voter"),)


def _orphan(node: Node) -> Probe:
    return Probe(node, True, Status("ready", LOCAL), None, MESH[node.name])


def test_a_fresh_cluster_bootstraps_first_by_name_and_seats_voters_on_three_clouds() -> None:
    result = plan([_orphan(n) for n in ALL], nat_ok=True)

    assert result.leader == ALL[0]
    order = [ALL[0].name] + [j.node.name for j in result.joins]
    assert order == ["n-0", "n-3", "n-5", "n-1", "n-2", "n-4"]
    clouds = {n.name: n.cloud for n in ALL}
    assert sorted(clouds[v] for v in dqlite_voters(order)) == ["aws", "digitalocean", "linode"]


def test_orphans_joining_a_cluster_of_two_fill_its_last_seat_from_a_new_cloud() -> None:
    two = (Member(MESH["n-0"], "voter"), Member(MESH["n-1"], "spare"))
    probes = [Probe(n, True, Status("ready", two), None, MESH[n.name]) for n in ALL[:2]]
    probes += [_orphan(n) for n in ALL[2:]]

    result = plan(probes, nat_ok=True)

    assert [j.node.name for j in result.joins] == ["n-3", "n-2", "n-4", "n-5"]


def test_a_stale_member_does_not_take_a_seat() -> None:
    # n-0 and a stale address: the stale one is removed first, leaving two seats.
    members = (Member(MESH["n-0"], "voter"), Member("10.77.0.99", "spare"))
    probes = [Probe(ALL[0], True, Status("ready", members), None, MESH["n-0"])]
    probes += [_orphan(n) for n in ALL[1:]]

    result = plan(probes, nat_ok=True)

    assert result.stale == ("10.77.0.99",)
    assert [j.node.name for j in result.joins][:2] == ["n-3", "n-5"]


def test_the_preview_lists_joins_in_the_order_the_converge_runs_them() -> None:
    planned = [PlannedNode(n.name, n.cloud, False) for n in ALL]
    changes = NodeChanges(created=tuple(n.name for n in ALL))

    shown = preview.build(changes, planned, None, ScaleDown(), nat_ok=True)

    assert shown.leader == "n-0" and shown.bootstrap
    assert shown.joins == ("n-3", "n-5", "n-1", "n-2", "n-4")
    probes = [_orphan(n) for n in ALL]
    assert shown.joins == tuple(j.node.name for j in plan(probes, nat_ok=True).joins)


# ---- the status warning ---------------------------------------------------------------------


def test_voters_all_on_one_cloud_while_the_nodes_span_several_is_a_warning() -> None:
    voters = [P("do-0", "do"), P("do-1", "do"), P("do-2", "do")]
    nodes = [*voters, P("linode-0", "linode")]

    warning = same_cloud_voters(voters, nodes)

    assert warning is not None
    assert warning.startswith("every datastore voter (do-0, do-1, do-2) is on do while the nodes")
    assert "microk8s leave" in warning


@pytest.mark.parametrize(
    "voters, nodes",
    [
        (["do-0", "linode-0", "do-1"], ["aws-0"]),  # spread over two clouds
        (["do-0", "do-1", "do-2"], []),  # one cloud is all there is
        (["do-0"], ["linode-0"]),  # a single voter cannot be spread
    ],
)
def test_no_warning_when_the_voters_are_spread_as_far_as_they_can(
    voters: list[str], nodes: list[str]
) -> None:
    vs = [P(n, n.split("-")[0]) for n in voters]
    ns = [P(n, n.split("-")[0]) for n in nodes]
    assert same_cloud_voters(vs, [*vs, *ns]) is None
