"""Scale-down planning (mck/scaledown.py) and the plan section (mck/preview.py): pure, from
probes as `microk8s status` reports them on the mesh (members listed by WireGuard address)."""

from __future__ import annotations

import pytest

from mck import preview
from mck.cluster import Probe, plan
from mck.node_status import Member, Status
from mck.nodes import Node, NodeChanges, PlannedNode
from mck.scaledown import Removal, ScaleDown, plan_scale_down, steps


def vm(name: str, octet: int, *, nat: bool = False) -> Node:
    cloud = "aws" if nat else "digitalocean"
    return Node(name, cloud, f"198.51.100.{octet}", f"10.0.0.{octet}", "root", nat, name)


NODES = [vm(f"n-{i}", 10 + i) for i in range(5)]
MESH = {n.name: f"10.77.0.{i + 1}" for i, n in enumerate(NODES)}
FIVE = ["voter", "voter", "voter", "standby", "standby"]


def cluster_of(roles: list[str], *, dead: tuple[str, ...] = ()) -> list[Probe]:
    """Probes of NODES[:len(roles)] forming one cluster; `dead` nodes do not answer."""
    members = tuple(Member(MESH[n.name], r) for n, r in zip(NODES, roles, strict=False))
    probes = []
    for n in NODES[: len(roles)]:
        if n.name in dead:
            probes.append(Probe(n, False, None, "ssh: connect timed out", MESH[n.name]))
        else:
            probes.append(Probe(n, True, Status("ready", members), None, MESH[n.name]))
    return probes


def test_two_of_five_leave_gracefully_standbys_first_through_the_first_voter() -> None:
    probes = cluster_of(FIVE)

    result = plan_scale_down(probes, {"n-2", "n-4"}, nat_ok=True)

    assert result.refusal is None
    assert result.via == NODES[0]
    # n-4 is a standby, n-2 a voter: the voter goes last, both can leave by themselves.
    assert result.removals == (
        Removal(NODES[4], "10.77.0.5", True),
        Removal(NODES[2], "10.77.0.3", True),
    )


@pytest.mark.parametrize(
    "roles, leaving, allowed",
    [
        (["voter"] * 3, {"n-1", "n-2"}, False),  # 3 voters -> 1 left: no majority
        (["voter"] * 3, {"n-2"}, True),  # 3 -> 2 keeps 2 of 3
        (FIVE, {"n-0", "n-1"}, True),  # 5 with 3 voters -> 3: one at a time, standbys promote
        (FIVE, {"n-1", "n-2", "n-3"}, True),  # -> 2, still a majority of 3
        (FIVE, {"n-1", "n-2", "n-3", "n-4"}, False),  # -> 1
        (["voter", "spare"], {"n-1"}, True),  # the spare of two
        (["voter", "spare"], {"n-0"}, False),  # the only voter holds the only datastore copy
        (["voter"] * 3, {"n-0", "n-1", "n-2"}, False),  # to nothing: that is --destroy
    ],
)
def test_quorum_rule(roles: list[str], leaving: set[str], allowed: bool) -> None:
    result = plan_scale_down(cluster_of(roles), leaving, nat_ok=True)

    assert (result.refusal is None) is allowed, result.refusal


def test_a_refusal_says_why_and_the_order_that_works() -> None:
    result = plan_scale_down(cluster_of(["voter"] * 3), {"n-1", "n-2"}, nat_ok=True)

    assert result.refusal == (
        "refusing to remove n-1, n-2: 1 of the cluster's 3 members would remain, fewer than a "
        "majority of its 3 voters (2), so the control plane would lose quorum; scale down in "
        "steps, running mck after each: 3 → 2 → 1 nodes"
    )


def test_only_voter_refusal_names_it() -> None:
    result = plan_scale_down(cluster_of(["voter", "spare"]), {"n-0"}, nat_ok=True)

    assert result.refusal is not None
    assert result.refusal.startswith("refusing to remove n-0: it is the cluster's only voter")


@pytest.mark.parametrize(
    "members, target, expected",
    [(3, 1, [3, 2, 1]), (5, 1, [5, 2, 1]), (5, 3, [5, 3]), (3, 0, [3, 2, 1]), (2, 1, [2, 1])],
)
def test_steps_never_drop_below_a_majority(members: int, target: int, expected: list[int]) -> None:
    assert steps(members, target) == expected


def test_an_unreachable_leaving_node_is_forced_out() -> None:
    probes = cluster_of(["voter"] * 3, dead=("n-2",))

    result = plan_scale_down(probes, {"n-2"}, nat_ok=True)

    assert result.refusal is None
    assert result.removals == (Removal(NODES[2], "10.77.0.3", False),)
    assert result.via == NODES[0]


def test_the_leader_leaving_hands_over_to_the_next_voter() -> None:
    result = plan_scale_down(cluster_of(FIVE), {"n-0"}, nat_ok=True)

    assert result.via == NODES[1]


def test_no_ready_remaining_member_is_a_refusal() -> None:
    probes = cluster_of(["voter"] * 3, dead=("n-0", "n-1"))

    result = plan_scale_down(probes, {"n-2"}, nat_ok=True)

    assert result.refusal is not None and "no remaining member" in result.refusal


def test_a_node_in_no_cluster_just_goes() -> None:
    lone = Probe(NODES[3], True, Status("ready", (Member("127.0.0.1", "voter"),)), None, None)

    result = plan_scale_down([*cluster_of(["voter"] * 3), lone], {"n-3"}, nat_ok=True)

    assert result == ScaleDown(outside=(NODES[3],))


def lone(node: Node, state: str = "ready") -> Probe:
    """A node that never clustered: microk8s lists only itself, on 127.0.0.1."""
    members = (Member("127.0.0.1", "voter"),) if state == "ready" else ()
    return Probe(node, True, Status(state, members), None, None)  # type: ignore[arg-type]


def test_moving_the_only_node_to_another_cloud_is_refused() -> None:
    # digitalocean=1,linode=0 -> digitalocean=0,linode=1: the plan destroys n-0 and creates a
    # node the probe does not know; n-0's datastore is the whole cluster's.
    result = plan_scale_down([lone(NODES[0])], {"n-0"}, nat_ok=True)

    assert result == ScaleDown(
        refusal="refusing to destroy n-0: it is the only node of the running cluster, so its "
        "datastore and workloads would be lost and a new, empty cluster built; grow first: keep "
        "n-0, add the new nodes (3 nodes in all at least, so the datastore is replicated), run "
        "mck so they join, then remove it in a later run (`mck --destroy` tears the cluster "
        "down on purpose)"
    )


def test_replacing_every_node_is_refused_with_the_order_that_works() -> None:
    result = plan_scale_down(
        cluster_of(["voter"] * 3),
        {"n-0", "n-1", "n-2"},
        nat_ok=True,
        replaced={"n-0", "n-1", "n-2"},
    )

    assert result.refusal == (
        "refusing to replace n-0, n-1, n-2: they are every node of the running cluster, so its "
        "datastore and workloads would be lost and a new, empty cluster built; grow first: undo "
        "this change for now, add nodes it would not replace (3 nodes in all at least, so the "
        "datastore is replicated), run mck so they join, then apply it (`mck --destroy` tears "
        "the cluster down on purpose)"
    )
    assert result.removals == ()


def test_replacing_the_only_node_is_refused() -> None:
    result = plan_scale_down([lone(NODES[0])], {"n-0"}, nat_ok=True, replaced={"n-0"})

    assert result.refusal is not None
    assert result.refusal.startswith("refusing to replace n-0: it is the only node of the running")


def test_every_member_leaving_is_refused_as_the_whole_cluster_not_as_steps() -> None:
    # Some destroyed, some replaced: no member stays to hand the datastore to.
    result = plan_scale_down(
        cluster_of(FIVE), {f"n-{i}" for i in range(5)}, nat_ok=True, replaced={"n-0"}
    )

    assert result.refusal is not None
    assert result.refusal.startswith(
        "refusing to remove n-0, n-1, n-2, n-3, n-4: they are every node of the running cluster"
    )


def test_the_only_node_not_answering_is_refused_too() -> None:
    # Its datastore may be the only copy: mck cannot tell, so it does not destroy it.
    dead = Probe(NODES[0], False, None, "ssh: connect timed out", None)

    result = plan_scale_down([dead], {"n-0"}, nat_ok=True)

    assert result.refusal is not None and "it is the only node" in result.refusal


@pytest.mark.parametrize("state", ["stopped", "not_ready", "worker", "unknown"])
def test_a_lone_node_with_microk8s_in_any_state_is_protected(state: str) -> None:
    result = plan_scale_down([lone(NODES[0], state)], {"n-0"}, nat_ok=True)

    assert result.refusal is not None and result.refusal.startswith("refusing to destroy n-0")


def test_a_node_without_microk8s_may_go_even_when_it_is_the_only_one() -> None:
    # A first run that failed before microk8s was installed: nothing to lose.
    empty = lone(NODES[0], "not_installed")

    assert plan_scale_down([empty], {"n-0"}, nat_ok=True) == ScaleDown(outside=(NODES[0],))


def test_a_lone_node_may_go_while_the_cluster_stays() -> None:
    # A node that never joined leaves; the cluster of three keeps its datastore.
    probes = [*cluster_of(["voter"] * 3), lone(NODES[3])]

    assert plan_scale_down(probes, {"n-3"}, nat_ok=True) == ScaleDown(outside=(NODES[3],))


def test_nothing_leaving_plans_nothing() -> None:
    assert plan_scale_down(cluster_of(FIVE), set(), nat_ok=True) == ScaleDown()


# ---- the plan section ----------------------------------------------------------------------


def _planned(names: list[str]) -> list[PlannedNode]:
    return [PlannedNode(n, "digitalocean", False) for n in names]


def test_the_plan_section_lists_tofu_changes_and_removals() -> None:
    probes = cluster_of(FIVE)
    changes = NodeChanges(destroyed=("n-3", "n-4"))
    sd = plan_scale_down(probes, {"n-3", "n-4"}, nat_ok=True)

    shown = preview.build(
        changes, _planned(["n-0", "n-1", "n-2"]), plan(probes, nat_ok=True), sd, nat_ok=True
    )

    assert preview.lines(shown) == [
        "OpenTofu changes:",
        "  destroy n-3",
        "  destroy n-4",
        "cluster actions:",
        "  remove n-3 (10.77.0.4): drain it through n-0, `microk8s leave` on it, "
        "`microk8s remove-node 10.77.0.4` on n-0",
        "  remove n-4 (10.77.0.5): drain it through n-0, `microk8s leave` on it, "
        "`microk8s remove-node 10.77.0.5` on n-0",
    ]
    assert not shown.refused


def test_a_fresh_project_bootstraps_on_the_first_node_and_joins_the_rest() -> None:
    changes = NodeChanges(created=("n-0", "n-1", "n-2"))

    shown = preview.build(changes, _planned(["n-0", "n-1", "n-2"]), None, ScaleDown(), nat_ok=True)

    assert preview.lines(shown)[4:] == [
        "cluster actions:",
        "  bootstrap the cluster on n-0",
        "  join n-1 to n-0",
        "  join n-2 to n-0",
    ]


def test_new_nodes_join_and_stale_members_go_through_the_leader() -> None:
    probes = cluster_of(["voter"] * 3)
    # The cluster also lists 10.77.0.9, which no node owns.
    members = (*probes[0].status.members, Member("10.77.0.9", "standby"))  # type: ignore[union-attr]
    probes = [Probe(p.node, True, Status("ready", members), None, p.cluster_ip) for p in probes]
    changes = NodeChanges(created=("n-3",))

    shown = preview.build(
        changes, _planned(["n-0", "n-1", "n-2", "n-3"]), plan(probes, nat_ok=True), ScaleDown(),
        nat_ok=True,
    )  # fmt: skip

    assert preview.lines(shown)[2:] == [
        "cluster actions:",
        "  join n-3 to n-0",
        "  remove stale member 10.77.0.9: no node in the state has it, "
        "`microk8s remove-node 10.77.0.9 --force` on n-0",
    ]


def test_a_refusal_is_left_to_the_caller_to_report() -> None:
    probes = cluster_of(["voter"] * 3)
    sd = plan_scale_down(probes, {"n-1", "n-2"}, nat_ok=True)
    shown = preview.build(
        NodeChanges(destroyed=("n-1", "n-2")), _planned(["n-0"]), plan(probes, nat_ok=True), sd,
        nat_ok=True,
    )  # fmt: skip

    assert shown.refused
    assert preview.lines(shown)[-2:] == [
        "  remove n-1 (10.77.0.2): drain it through n-0, `microk8s leave` on it, "
        "`microk8s remove-node 10.77.0.2` on n-0",
        "  remove n-2 (10.77.0.3): drain it through n-0, `microk8s leave` on it, "
        "`microk8s remove-node 10.77.0.3` on n-0",
    ]
