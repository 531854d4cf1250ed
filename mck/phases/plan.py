"""The plan phase: what OpenTofu will create or destroy, and the cluster actions around it,
from one probe of the nodes that exist now (through an inventory rendered from the state)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mck import cluster, cluster_facts, preview, scaledown, versions
from mck.ansible import Ansible
from mck.cluster_facts import ClusterFacts
from mck.errors import UsageError
from mck.nodes import (
    STORED_STATE_FORMAT,
    Node,
    NodeChanges,
    PlannedNode,
    StateNodes,
    planned_changes,
    planned_nodes,
    read_state,
    read_stored_state,
    refusal,
)
from mck.phases.context import Run
from mck.phases.inventory import state_inventory
from mck.phases.probe import probe_with_versions
from mck.tofu import Plan, Tofu
from mck.tofu_json import mapping, resources, stored_resources


@dataclass(frozen=True)
class PlanRead:
    """A saved plan, read as far as mck needs it."""

    plan: Plan
    changes: NodeChanges
    nodes: list[PlannedNode]  # every node that exists once the plan is applied
    stored: list[Node] | None  # the stored state's nodes, read when the plan changes nothing
    facts_record: str | None = None  # the cluster's record in the state the plan started from


def read_plan(tofu: Tofu, planfile: Path) -> PlanRead:
    """Plan, and read what the plan changes. `show -json` of the plan starts every provider
    again for its schema (0.8 s on the lab), so only a plan that changes something is read;
    a plan that changes nothing leaves the nodes of the stored state (`state pull`)."""
    plan = tofu.plan(planfile)
    if plan.changes:
        tofu.show(planfile)  # every attribute the apply changes, as OpenTofu prints it
        plan_json = tofu.show_json(planfile)
        record = cluster_facts.find_record(_prior_resources(plan_json))
        return PlanRead(plan, planned_changes(plan_json), planned_nodes(plan_json), None, record)
    found = read_state_nodes(tofu)
    if found.unusable:  # the same check planned_nodes makes, before anything is applied
        raise UsageError(refusal(found.unusable))
    kept = [PlannedNode(n.name, n.cloud, n.nat, n.address) for n in found.nodes]
    return PlanRead(plan, NodeChanges(), kept, found.nodes, found.facts_record)


def _prior_resources(plan_json: dict[str, Any]) -> list[Mapping[str, Any]]:
    """The resources of the state a plan started from (none on a first plan)."""
    values = mapping(mapping(plan_json.get("prior_state"), "prior_state").get("values"), "values")
    return list(resources(mapping(values.get("root_module"), "prior_state root_module")))


def read_nodes(tofu: Tofu) -> list[Node]:
    """The nodes in the stored state; one error naming every VM that cannot be a node."""
    return read_state_nodes(tofu).strict()


def read_state_nodes(tofu: Tofu) -> StateNodes:
    """The nodes in the stored state, read with `state pull` (remote backends too), and the
    VMs that cannot be nodes; a state format mck does not know is read through `show -json`."""
    state = tofu.state_pull()
    if state is None:
        return StateNodes([])
    if state.get("version") != STORED_STATE_FORMAT:
        shown = tofu.show_json()
        record = cluster_facts.find_record(_prior_resources({"prior_state": shown}))
        return replace(read_state(shown), facts_record=record)
    record = cluster_facts.find_record(stored_resources(state))
    return replace(read_stored_state(state), facts_record=record)


@dataclass(frozen=True)
class ClusterPreview:
    shown: preview.Preview
    # The runner for the nodes that exist now (an inventory rendered from the state): the
    # scale-down's removals act through it. None when there was nothing to probe.
    ansible: Ansible | None
    reader: str | None = None  # a ready member of today's cluster, to read cluster state through
    # Each probed node's microk8s snap (empty when nothing was probed): `mck plan --json`'s skew.
    snaps: dict[str, versions.Snap] = field(default_factory=dict)


def preview_cluster(
    run: Run,
    planned: PlanRead,
    facts: ClusterFacts,
    mode: str,
    *,
    name: str,
    pinned: str | None = None,
) -> ClusterPreview:
    """Probe the nodes that exist now (read-only) and plan the cluster actions around the tofu
    changes. A VM the state holds under a name mck cannot use is left out: the plan, whose
    names were checked, renames or removes it."""
    nodes = read_state_nodes(run.tofu).nodes
    changes = planned.changes
    previous_mode = facts.encryption or mode
    on_mesh = previous_mode == "mesh"
    now: cluster.ClusterPlan | None = None
    sd = scaledown.ScaleDown()
    warnings: tuple[str, ...] = ()
    upgrade: tuple[str, ...] = ()
    ansible = None
    snaps: dict[str, versions.Snap] = {}
    if nodes and not facts.source:
        warnings = (
            "the existing nodes were not probed: neither the state nor an inventory records an "
            "earlier converge; members whose VMs go are removed as stale members afterwards",
        )
    elif nodes:
        path = state_inventory(run.project, run.state_dir, nodes, facts, name=name)
        ansible = run.ansible.using(path)
        cluster_ips = dict(facts.mesh_ips) if on_mesh else {}
        probes, snaps = probe_with_versions(ansible, nodes, cluster_ips)
        warnings = versions.notices(snaps, pinned)
        now = cluster.plan(probes, nat_ok=on_mesh)
        if warnings and pinned:  # version skew: what `mck upgrade` would do about it
            from mck.upgrade import preview_lines  # imports this module

            upgrade = preview_lines(ansible, probes, snaps, pinned, now)
        leaving = set(changes.destroyed) | set(changes.replaced)
        sd = scaledown.plan_scale_down(probes, leaving, nat_ok=on_mesh, replaced=changes.replaced)
    shown = preview.build(
        changes, planned.nodes, now, sd, nat_ok=mode == "mesh", warnings=warnings, upgrade=upgrade
    )
    reader = now.leader.name if now is not None and now.leader is not None else None
    return ClusterPreview(shown, ansible, reader=reader, snaps=snaps)


def describe(changes: NodeChanges) -> str:
    parts = []
    for label, names in (
        ("create", changes.created),
        ("replace", changes.replaced),
        ("destroy", changes.destroyed),
    ):
        if names:
            parts.append(f"{label} {', '.join(names)}")
    return "; ".join(parts) or "non-node resources only"
