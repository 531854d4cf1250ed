"""The provision and state phases: apply exactly the plan that was shown, then read back what
exists (through the CLI, so remote backends work)."""

from __future__ import annotations

from pathlib import Path

from mck import known_hosts
from mck.errors import UsageError
from mck.nodes import Node
from mck.phases.context import Run
from mck.phases.plan import PlanRead, describe, read_nodes


def provision(run: Run, planned: PlanRead, planfile: Path) -> bool:
    """Apply the saved plan; returns whether anything was applied. A plan whose only news is
    drift is applied too: that saves the refreshed state, as `tofu apply` would, so the next run
    finds nothing to refresh into its nodes."""
    applies = planned.plan.changes or bool(planned.plan.drifted)
    if planned.plan.changes:
        run.ui.phase("provision", describe(planned.changes))
    elif applies:
        drifted = ", ".join(planned.plan.drifted)
        run.ui.phase("provision", f"no changes; saving the state refresh found changed: {drifted}")
    else:
        run.ui.phase("provision", "no changes")
    if applies:
        run.tofu.apply(planfile)
    return applies


def read_back(run: Run, planned: PlanRead, applied: bool) -> list[Node]:
    """The nodes that exist now. When nothing was applied, the state the plan read is that
    state: no second read. New VMs may have been handed an address an old VM had: their old
    host keys are forgotten."""
    if applied or planned.stored is None:
        run.ui.phase("state", f"{run.tofu.name} state pull")
        nodes = read_nodes(run.tofu)
    else:
        run.ui.phase("state", "the state the plan read (nothing was applied)")
        nodes = planned.stored
    if not nodes:
        raise UsageError("the state has no nodes: set at least one node count in instances.tf")
    for node in nodes:
        run.ui.say(
            f"instance {node.name} is provisioned on {node.cloud} with address {node.public_ip}"
        )
    fresh = fresh_names(planned)
    known_hosts.forget(
        run.state_dir / "known_hosts", [n.public_ip for n in nodes if n.name in fresh]
    )
    return nodes


def fresh_names(planned: PlanRead) -> set[str]:
    """The VMs this run's apply created or replaced."""
    return set(planned.changes.created) | set(planned.changes.replaced)
