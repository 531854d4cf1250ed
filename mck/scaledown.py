"""Scaling down: which cluster members leave with the VMs a plan destroys, how each one is taken
out (gracefully, or forced when it cannot answer), through which remaining member, and whether
the change is refused because the control plane would lose quorum. Pure: no I/O.

microk8s facts this relies on (canonical/microk8s scripts/wrappers/leave.py, remove_node.py, and
go-dqlite's app/roles.go): `leave` on the departing node removes its own datastore entry through
the others; `remove-node <ip>` on a remaining member then deletes its Node object, and with
`--force` also drops the datastore entry of a node that can no longer leave by itself. dqlite
commits a membership change only with a majority of its voters, and after each change promotes
a standby (or spare) while fewer than 3 voters are online; a cluster of two has one voter.

A plan that takes every node of a running cluster away at once is refused before anything else:
no member would remain to hand the datastore to, so the apply would lose it and the workloads,
and the next steps would bootstrap an empty cluster on the new VMs. A lone node counts too: it
lists only itself (127.0.0.1, never clustered), so it is no multi-node membership, yet its
datastore is the whole cluster's.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from mck.cluster import Membership, Probe, memberships
from mck.nodes import Node, name_key
from mck.voters import TARGET_VOTERS


@dataclass(frozen=True)
class Removal:
    node: Node
    address: str  # its member address: what `remove-node` is given
    graceful: bool  # ready: drain, `leave`, `remove-node`; else `remove-node --force` only


@dataclass(frozen=True)
class ScaleDown:
    removals: tuple[Removal, ...] = ()
    via: Node | None = None  # the remaining member that drains and removes the leaving ones
    outside: tuple[Node, ...] = ()  # leaving nodes no cluster lists: their VMs just go
    refusal: str | None = None  # one line: why mck will not do this, and the order that works


def plan_scale_down(
    probes: list[Probe], leaving: Collection[str], *, nat_ok: bool, replaced: Collection[str] = ()
) -> ScaleDown:
    """How the nodes named in `leaving` (destroyed or replaced by the plan; `replaced` names the
    replaced ones) leave the cluster. `probes` covers every node the state holds today."""
    by_name = {p.node.name: p for p in probes}
    gone = sorted((n for n in leaving if n in by_name), key=name_key)
    if not gone:
        return ScaleDown()
    whole = _whole_cluster_refusal(probes, set(gone), set(replaced))
    if whole is not None:
        return ScaleDown(refusal=whole)
    involved = [m for m in memberships(probes) if {n.name for n in m.owners.values()} & set(gone)]
    listed = {n.name for m in involved for n in m.owners.values()}
    outside = tuple(by_name[n].node for n in gone if n not in listed)
    if not involved:
        return ScaleDown(outside=outside)
    if len(involved) > 1:
        return ScaleDown(outside=outside, refusal=_split_refusal(gone))
    cluster = involved[0]
    # Voters last: while others leave first, the voters keep the datastore's majority.
    order = sorted(
        cluster.owners.items(),
        key=lambda a: (cluster.roles[a[0]] == "voter", name_key(a[1].name)),
    )
    removals = tuple(
        Removal(by_name[owner.name].node, address, _can_leave(by_name[owner.name]))
        for address, owner in order
        if owner.name in gone
    )
    refusal = _quorum_refusal(cluster, removals)
    via = _via(cluster, set(gone), nat_ok=nat_ok)
    if refusal is None and via is None:
        refusal = (
            f"cannot remove {_names(removals)} from the cluster: no remaining member is "
            "reachable and ready to run `microk8s remove-node` on; fix the remaining nodes "
            "(see `mck status`), then re-run mck"
        )
    return ScaleDown(removals, via, outside, refusal)


def majority(voters: int) -> int:
    return voters // 2 + 1


def steps(members: int, target: int) -> list[int]:
    """Member counts to scale down through, one mck run each, never below quorum: each step
    keeps a majority of the voters the cluster has at its start (3 once it has 3 nodes)."""
    counts = [members]
    while counts[-1] > target:
        current = counts[-1]
        voters = min(current, TARGET_VOTERS) if current >= TARGET_VOTERS else 1
        step = max(target, majority(voters))
        if step == current:  # cannot go lower without losing the datastore
            break
        counts.append(step)
    return counts


def _may_hold_cluster(p: Probe) -> bool:
    """Whether the node may run part of the cluster: every node but one that answered and has no
    microk8s. One that did not answer counts: its datastore may be the only copy."""
    return not (p.reachable and p.status is not None and p.status.state == "not_installed")


def _whole_cluster_refusal(probes: list[Probe], gone: set[str], replaced: set[str]) -> str | None:
    """A refusal when every node that may run the cluster leaves and none of them stays."""
    holders = sorted((p.node.name for p in probes if _may_hold_cluster(p)), key=name_key)
    if not holders or not set(holders) <= gone:
        return None
    swapped = [n for n in holders if n in replaced]
    verb = "destroy" if not swapped else "replace" if len(swapped) == len(holders) else "remove"
    names = ", ".join(holders)
    what = "it is the only node" if len(holders) == 1 else "they are every node"
    them = "it" if len(holders) == 1 else "them"
    # To 3 nodes at least: below 3, dqlite keeps one voter, the leader (canonical/go-dqlite
    # app/roles.go, Adjust), which is the old node after a grow from one; the only voter of
    # two is refused too (_quorum_refusal below).
    grow = "3 nodes in all at least, so the datastore is replicated"
    order = (
        f"grow first: undo this change for now, add nodes it would not {verb} ({grow}), run "
        "mck so they join, then apply it"
        if swapped
        else f"grow first: keep {names}, add the new nodes ({grow}), run mck so they join, then "
        f"remove {them} in a later run"
    )
    return (
        f"refusing to {verb} {names}: {what} of the running cluster, so its datastore and "
        f"workloads would be lost and a new, empty cluster built; {order} (`mck --destroy` "
        "tears the cluster down on purpose)"
    )


def _can_leave(p: Probe) -> bool:
    """`leave` runs on the node itself: it must answer and its microk8s must be up."""
    return p.reachable and p.status is not None and p.status.state == "ready"


def _quorum_refusal(cluster: Membership, removals: tuple[Removal, ...]) -> str | None:
    leaving = {r.address for r in removals}
    voters = [a for a, role in cluster.roles.items() if role == "voter"]
    remaining = [a for a in cluster.owners if a not in leaving]
    need = majority(len(voters))
    if len(remaining) < need:
        order = " → ".join(str(n) for n in steps(len(cluster.owners), len(remaining)))
        return (
            f"refusing to remove {_names(removals)}: {len(remaining)} of the cluster's "
            f"{len(cluster.owners)} members would remain, fewer than a majority of its "
            f"{len(voters)} voters ({need}), so the control plane would lose quorum; scale down "
            f"in steps, running mck after each: {order} nodes"
            + ("" if remaining else " (or `mck --destroy` to remove the whole cluster)")
        )
    if len(voters) == 1 and voters[0] in leaving and remaining:
        only = next(r.node.name for r in removals if r.address == voters[0])
        return (
            f"refusing to remove {only}: it is the cluster's only voter and holds the only copy "
            "of its datastore; remove the other nodes first, or grow the cluster to 3 nodes so "
            "the datastore is replicated, then remove it"
        )
    return None


def _via(cluster: Membership, gone: set[str], *, nat_ok: bool) -> Node | None:
    """The first remaining ready member by name, a voter if there is one."""
    own = {n.name: a for a, n in cluster.owners.items()}
    ready = [
        p
        for p in sorted(cluster.reporters, key=lambda p: name_key(p.node.name))
        if p.node.name not in gone
        and _can_leave(p)
        and (nat_ok or not p.node.nat)
        and p.node.name in own
    ]
    voters = [p for p in ready if cluster.roles.get(own[p.node.name]) == "voter"]
    chosen = (voters or ready)[:1]
    return chosen[0].node if chosen else None


def _split_refusal(gone: list[str]) -> str:
    return (
        f"refusing to remove {', '.join(gone)}: they are members of separate clusters, and mck "
        "removes nodes from one cluster only; resolve the split first (see `mck status`)"
    )


def _names(removals: tuple[Removal, ...]) -> str:
    return ", ".join(r.node.name for r in removals)
