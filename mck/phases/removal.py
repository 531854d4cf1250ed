"""Taking members out of the cluster: the scale-down's leaving nodes before their VMs go, and
stale members (no node in the state owns them) after the probe. One at a time, through a member
that stays; a failure stops the run, since the apply or the joins after it would build on it."""

from __future__ import annotations

from mck import cluster, drain, scaledown
from mck.ansible import PLAYBOOKS, Ansible
from mck.errors import UsageError
from mck.phases.context import DEFAULT_DRAIN_TIMEOUT
from mck.phases.outcomes import raise_for_failures
from mck.report import Ui

REMOVE_TASKS = ("Drain the leaving node", "Leave the cluster", "Remove the node")
# remove_node.yml's rescue after a failed drain: the uncordon and what names a blocking budget.
DRAIN_RESCUE = (drain.UNCORDON_TASK, *drain.READ_TASKS)


def remove_leaving(
    ansible: Ansible,
    sd: scaledown.ScaleDown,
    ui: Ui,
    *,
    force: bool,
    drain_timeout: int,
) -> None:
    """One leaving node at a time: drain, leave, remove-node (or remove-node --force). A drain
    kubectl refuses stops the scale-down here, before the apply destroys any VM; a disruption
    budget's refusal takes `drain_timeout` seconds to show (kubectl retries it until then)."""
    assert sd.via is not None  # plan_scale_down refuses removals without one
    graceful = [r.node.name for r in sd.removals if r.graceful]
    if graceful:
        _check_drains(ansible, sd.via.name, graceful, ui, force=force, timeout=drain_timeout)
    for r in sd.removals:
        how = "drain, leave, remove-node" if r.graceful else "remove-node --force (it cannot leave)"
        ui.say(f"removing {r.node.name} ({r.address}) through {sd.via.name}: {how}")
        _remove(
            ansible,
            sd.via.name,
            r.node.name if r.graceful else sd.via.name,
            r.address,
            graceful=r.graceful,
            what=f"removing {r.node.name} from the cluster",
            ui=ui,
            force=force,
            drain_timeout=drain_timeout,
        )


def _check_drains(
    ansible: Ansible, via: str, nodes: list[str], ui: Ui, *, force: bool, timeout: int
) -> None:
    """Every leaving node kubectl would refuse to drain, named before any of them is touched."""
    ui.say(f"checking through {via} that kubectl would drain {', '.join(nodes)} (a dry run)")
    result = ansible.playbook(
        PLAYBOOKS / "drain_check.yml",
        capture={drain.CHECK_TASK},
        extravars={"mck_via": via, "mck_leaving_nodes": nodes, "mck_drain_force": force},
    )
    raise_for_failures(result, "checking the drains")
    res = result.captured.get(via, {}).get(drain.CHECK_TASK, {})
    refused = drain.refused_nodes(f"{res.get('stdout', '')}\n{res.get('stderr', '')}")
    if refused:
        raise UsageError(
            "\n".join(
                drain.message(node, r, [], left=f"{node} was not cordoned", timeout=timeout)
                for node, r in refused.items()
            )
        )


def remove_stale(ansible: Ansible, plan: cluster.ClusterPlan, ui: Ui) -> list[str]:
    """Members no node in the state owns (VM gone, removed by hand): dropped from the datastore
    through the leader, since nobody is left to `leave`."""
    if plan.leader is None or not plan.stale or len(plan.clusters) != 1:
        return []
    for address in plan.stale:
        ui.say(f"stale member {address} belongs to no node: removing it through {plan.leader.name}")
        _remove(
            ansible,
            plan.leader.name,
            plan.leader.name,
            address,
            graceful=False,
            what=f"removing stale member {address}",
            ui=ui,
        )
    return list(plan.stale)


def _remove(
    ansible: Ansible,
    via: str,
    leaving: str,
    address: str,
    *,
    graceful: bool,
    what: str,
    ui: Ui,
    force: bool = False,
    drain_timeout: int = DEFAULT_DRAIN_TIMEOUT,
) -> None:
    result = ansible.playbook(
        PLAYBOOKS / "remove_node.yml",
        capture=(*REMOVE_TASKS, *DRAIN_RESCUE),
        extravars={
            "mck_via": via,
            "mck_leaving": leaving,
            "mck_remove_address": address,
            "mck_graceful": graceful,
            "mck_drain_timeout": drain_timeout,
            "mck_drain_force": force,
        },
    )
    refused = drain.refusal_from(result.captured.get(via, {}), leaving, timeout=drain_timeout)
    cordoned = None if refused else drain.still_cordoned(result.captured.get(via, {}), leaving)
    # What microk8s and kubectl said, in the order they ran (`node/<name> drained`, …).
    for task in REMOVE_TASKS:
        for host in (via, leaving):
            res = result.captured.get(host, {}).pop(task, None)
            for line in str((res or {}).get("stdout", "")).splitlines():
                if line.strip():
                    ui.say(line)
    if refused:
        raise UsageError(refused)
    if cordoned:
        ui.warn(cordoned)
    raise_for_failures(result, what)
