"""Scaling down: which cluster members leave with the VMs a plan destroys, how each one is taken
out (gracefully, or forced when it cannot answer), through which remaining member, and whether
the change is refused because the control plane would lose quorum. Pure: no I/O.

microk8s facts this relies on (canonical/microk8s scripts/wrappers/leave.py, remove_node.py, and
go-dqlite's app/roles.go): `leave` on the departing node removes its own datastore entry through
the others; `remove-node <ip>` on a remaining member then deletes its Node object, and with
`--force` also drops the datastore entry of a node that can no longer leave by itself. dqlite
commits a membership change only with a majority of its voters, and after each change promotes
a standby (or spare) while fewer than 3 voters are online; a cluster of two has one voter.
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


def plan_scale_down(probes: list[Probe], leaving: Collection[str], *, nat_ok: bool) -> ScaleDown:
    """How the nodes named in `leaving` (destroyed or replaced by the plan) leave the cluster."""
    by_name = {p.node.name: p for p in probes}
    gone = sorted((n for n in leaving if n in by_name), key=name_key)
    if not gone:
        return ScaleDown()
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
