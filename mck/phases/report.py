"""The report phase: one table of every node, then one line per problem left. Nodes that failed
a phase are named by their outcome (the cause), not by what the planner saw of them after."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from mck import cluster, versions
from mck.ansible import PlayResult
from mck.errors import ClusterError
from mck.nodes import Node
from mck.phases.outcomes import Outcomes
from mck.report import Ui
from mck.status import node_statuses, render_table, voters_line, warnings_for


def problem_lines(outcomes: Outcomes, plan: cluster.ClusterPlan) -> list[str]:
    """Each failed node's outcome, then the planner's problems about anything else (pure)."""
    failed = outcomes.failed()
    names = {o.name for o in failed}
    lines = [o.line() for o in failed]
    lines += [p.reason for p in plan.problems if p.node is None or p.node.name not in names]
    return lines


def report(
    ui: Ui,
    project: Path,
    nodes: list[Node],
    probes: list[cluster.Probe],
    plan: cluster.ClusterPlan,
    outcomes: Outcomes,
    configured: PlayResult,
    cluster_ips: Mapping[str, str],
    *,
    more_problems: Sequence[str] = (),
) -> None:
    """Print the table and what is left; raise ClusterError (exit 3) when anything is.
    `more_problems`: the cluster-wide ones of later phases (addons), one line each."""
    ui.phase("report")
    # Each node's microk8s, from the role's installed check or install (no command of its own).
    snaps = versions.from_result(configured, versions.CHECK_TASK, versions.INSTALL_TASK)
    statuses = node_statuses(nodes, probes, cluster_ips, snaps)
    ui.say(render_table(statuses))
    ui.say(voters_line(statuses))
    for warning in warnings_for(statuses):
        ui.warn(warning)
    for notice in versions.notices(snaps, versions.pinned_channel(project)):
        ui.say(f"note: {notice}")
    problems = problem_lines(outcomes, plan) + list(more_problems)
    for problem in problems:
        ui.error(problem)
    if problems:
        count = len(problems)
        raise ClusterError(f"the cluster is not converged: {count} problem(s), listed above")
