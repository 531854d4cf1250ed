"""The plan section `mck plan` prints and `mck` shows before it acts: the OpenTofu changes per
node, then every cluster action mck would take (removals, bootstrap, joins, stale members) and
what it refuses or warns about. Pure: built from the tofu plan and one probe of the nodes that
exist now, rendered as lines."""

from __future__ import annotations

from dataclasses import dataclass

from mck import cluster, voters
from mck.nodes import NodeChanges, PlannedNode, name_key
from mck.scaledown import ScaleDown


@dataclass(frozen=True)
class Preview:
    changes: NodeChanges
    scale_down: ScaleDown
    leader: str | None  # the member new and orphan nodes join; None: nothing to join
    bootstrap: bool  # no cluster yet: `leader` bootstraps one
    joins: tuple[str, ...]  # nodes that will join `leader` after provisioning
    stale: tuple[str, ...]  # member addresses no node owns, removed with --force
    warnings: tuple[str, ...] = ()
    upgrade: tuple[str, ...] = ()  # `mck upgrade`'s steps (or its refusal) when versions skew

    @property
    def refused(self) -> bool:
        return self.scale_down.refusal is not None


def build(
    changes: NodeChanges,
    planned: list[PlannedNode],
    now: cluster.ClusterPlan | None,
    scale_down: ScaleDown,
    *,
    nat_ok: bool,
    warnings: tuple[str, ...] = (),
    upgrade: tuple[str, ...] = (),
) -> Preview:
    """`now` is the planner's view of the nodes that exist today (None: they were not probed)."""
    leaving = set(changes.destroyed) | set(changes.replaced)
    fresh = [*changes.created, *changes.replaced]
    leader = now.leader.name if now and now.leader else None
    if leader in leaving:
        leader = scale_down.via.name if scale_down.via else None
    bootstrap = False
    if leader is None and not (now and now.clusters):
        # No cluster anywhere: the first eligible node by name bootstraps one (as cluster.plan).
        eligible = [p.name for p in planned if nat_ok or not p.nat]
        leader, bootstrap = (eligible[0], True) if eligible else (None, False)
    waiting = [j.node.name for j in now.joins] if now else []
    if bootstrap and now is None:
        waiting = [p.name for p in planned]
    joining = {n for n in [*waiting, *fresh] if n != leader and n not in changes.destroyed}
    joins = _join_order(leader, joining, planned, now, leaving)
    problems = tuple(p.reason for p in now.problems) if now else ()
    return Preview(
        changes,
        scale_down,
        leader,
        bootstrap,
        tuple(joins) if leader else (),
        now.stale if now else (),
        warnings + problems,
        upgrade,
    )


def _join_order(
    leader: str | None,
    joining: set[str],
    planned: list[PlannedNode],
    now: cluster.ClusterPlan | None,
    leaving: set[str],
) -> list[str]:
    """The joins in the order the converge will run them (voters.join_order): the members
    that stay, or the bootstrap node, take the first voter seats."""
    by_name = {p.name: p for p in planned}
    joiners = [by_name[n] for n in joining if n in by_name]
    if now and now.clusters:
        stay = [n.name for n in now.clusters[0] if n.name not in leaving]
    else:
        stay = [leader] if leader else []
    members = [by_name[n] for n in stay if n in by_name]
    ordered = [p.name for p in voters.join_order(members, joiners)]
    # A name the plan does not list (known only after apply) joins last.
    return ordered + sorted(joining - set(ordered), key=name_key)


def lines(preview: Preview) -> list[str]:
    out = tofu_lines(preview.changes)
    out.append("cluster actions:")
    actions = _actions(preview)
    out += [f"  {a}" for a in actions] or ["  (none)"]
    # A refusal is not listed here: the caller reports it as the run's error line.
    out += [f"warning: {w}" for w in preview.warnings]
    if preview.upgrade:
        out.append(
            "upgrade steps (`mck upgrade`, one node at a time; a converge upgrades nothing):"
        )
        out += [f"  {line}" for line in preview.upgrade]
    return out


def tofu_lines(changes: NodeChanges) -> list[str]:
    out = ["OpenTofu changes:"]
    for label, names in (
        ("create", changes.created),
        ("replace", changes.replaced),
        ("destroy", changes.destroyed),
    ):
        out += [f"  {label:<8}{name}" for name in names]
    if len(out) == 1:
        out.append("  (no node changes)")
    return out


def _actions(preview: Preview) -> list[str]:
    actions = []
    sd = preview.scale_down
    via = sd.via.name if sd.via else "?"
    for r in sd.removals:
        if r.graceful:
            actions.append(
                f"remove {r.node.name} ({r.address}): drain it through {via}, "
                f"`microk8s leave` on it, `microk8s remove-node {r.address}` on {via}"
            )
        else:
            actions.append(
                f"remove {r.node.name} ({r.address}): it cannot leave by itself (unreachable or "
                f"not ready), `microk8s remove-node {r.address} --force` on {via}"
            )
    actions += [f"destroy {n.name}: it is in no cluster, nothing to remove" for n in sd.outside]
    if preview.bootstrap and preview.leader:
        actions.append(f"bootstrap the cluster on {preview.leader}")
    actions += [f"join {n} to {preview.leader}" for n in preview.joins]
    remover = preview.leader or "the leader"
    actions += [
        f"remove stale member {a}: no node in the state has it, "
        f"`microk8s remove-node {a} --force` on {remover}"
        for a in preview.stale
    ]
    return actions
