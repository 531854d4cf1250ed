"""`mck upgrade`: a rolling upgrade of microk8s to the channel the project pins, one node at a
time, quorum kept throughout. The order and the refusals are mck/upgrade_plan.py's.

Per node (playbooks/upgrade_node.yml): drain through another ready voter (the same drain and
rescue as a scale-down), `snap refresh microk8s --channel=<pinned>`, wait until microk8s is
ready and the node's kubelet reports the new version and Ready, uncordon; then wait until the
cluster has its voters back before the next node. A failure stops at that node (named, exit 1):
the nodes after it are untouched, and the next `mck upgrade` skips the nodes already on the
pinned channel, so it resumes there. A plain converge never refreshes a running node.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mck import cluster, drain, run_lock, upgrade_plan, versions
from mck.ansible import PLAYBOOKS, Ansible
from mck.backup import take_backup
from mck.errors import MckError, UsageError
from mck.existing import Existing, probe_existing
from mck.nodes import Node, name_key
from mck.phases.context import DEFAULT_DRAIN_TIMEOUT, DEFAULT_READY_TIMEOUT, STATE_DIR, Settings
from mck.phases.outcomes import raise_for_failures
from mck.phases.probe import probe_with_versions
from mck.phases.removal import DRAIN_RESCUE
from mck.preflight import check_project
from mck.report import Ui
from mck.status import problems

REFRESH_TASK = "Refresh the microk8s snap"
LEADER_TASK = "Read the dqlite leader"
VOTERS_POLL = 3  # seconds between probes while the voters come back


def before_first_node(settings: Settings, existing: Existing, ui: Ui, *, backup: bool) -> None:
    """A backup of the datastore before the first node is touched (microk8s' upgrade advice:
    back up first), unless the user said --no-backup."""
    if backup:
        path = take_backup(existing, ui, settings.env)
        ui.say(f"backup before the upgrade: {path}")


def settings_from(params: Mapping[str, Any]) -> Settings:
    """The run's settings from the top-level command line options it uses."""
    return Settings(
        project=params.get("project", Path(".")),
        verbosity=params.get("verbose", 0),
        ready_timeout=params.get("ready_timeout", DEFAULT_READY_TIMEOUT),
        force_drain=params.get("force_drain", False),
        drain_timeout=params.get("drain_timeout", DEFAULT_DRAIN_TIMEOUT),
        lock_timeout=params.get("lock_timeout", 0),
    )


def upgrade(settings: Settings, ui: Ui, *, backup: bool = True) -> None:
    project = settings.project.resolve()
    check_project(project)  # bad input leaves nothing behind, not even .mck/
    if not (project / "inventory").is_file():
        raise UsageError(f"{project} has no inventory yet: run mck to converge first")
    lock = run_lock.acquire(project / STATE_DIR, "upgrade")
    try:
        _upgrade(settings, ui, backup=backup)
    finally:
        lock.release()


def plan_for(existing: Existing) -> upgrade_plan.UpgradePlan:
    """The upgrade's plan for the probed nodes (also what `mck plan` shows)."""
    pinned = versions.pinned_channel(existing.project)
    if pinned is None:
        raise UsageError(
            f"cannot read microk8s_channel from {existing.project / versions.ROLE_DEFAULTS}"
        )
    cplan = cluster.plan(existing.probes, nat_ok=existing.mode == "mesh")
    via = _a_voter(existing.probes, exclude=None)
    leader = read_leader(existing.ansible, via.name) if via else None
    return upgrade_plan.plan_upgrade(
        existing.probes,
        existing.snaps,
        pinned,
        leader_ip=leader,
        problems=existing.unusable + problems(cplan),
    )


def _upgrade(settings: Settings, ui: Ui, *, backup: bool) -> None:
    # The state lock too: no operator's converge joins or removes a node mid-upgrade.
    existing = probe_existing(settings, ui, hold_state=True)
    try:
        _upgrade_nodes(settings, ui, existing, backup=backup)
    finally:
        existing.release()


def _upgrade_nodes(settings: Settings, ui: Ui, existing: Existing, *, backup: bool) -> None:
    plan = plan_for(existing)
    if plan.refusal:
        raise UsageError(plan.refusal)
    if not plan.steps:
        ui.say(f"every node runs microk8s from {plan.target}: nothing to upgrade")
        return
    if plan.current:
        ui.say(f"already on {plan.target}: {', '.join(plan.current)}")
    before_first_node(settings, existing, ui, backup=backup)
    voters = _voter_count(existing.probes)
    for index, node in enumerate(plan.steps, 1):
        ui.say(f"upgrading {node.name} to {plan.target} ({index} of {len(plan.steps)})")
        probes, _ = probe_with_versions(existing.ansible, existing.nodes, existing.cluster_ips)
        via = _a_voter(probes, exclude=node.name)
        if via is None:
            raise MckError(f"stopped before {node.name}: no other ready voter to drain it through")
        _upgrade_node(existing.ansible, node, via, plan.target, settings, ui)
        _wait_for_voters(existing, voters, settings.ready_timeout, node)
        ui.say(f"{node.name} runs {plan.target}")
    ui.say(f"every node runs microk8s from {plan.target}")


def _upgrade_node(
    ansible: Ansible, node: Node, via: Node, channel: str, settings: Settings, ui: Ui
) -> None:
    minor = upgrade_plan.minor_of_channel(channel)
    assert minor is not None  # plan_upgrade refuses a channel without one
    result = ansible.playbook(
        PLAYBOOKS / "upgrade_node.yml",
        capture=(drain.DRAIN_TASK, REFRESH_TASK, *DRAIN_RESCUE),
        extravars={
            "mck_via": via.name,
            "mck_node": node.name,
            "mck_channel": channel,
            "mck_minor": f"v{minor[0]}.{minor[1]}",
            "mck_drain_timeout": settings.drain_timeout,
            "mck_drain_force": settings.force_drain,
            "mck_ready_timeout": settings.ready_timeout,
        },
    )
    refused = drain.refusal_from(
        result.captured.get(via.name, {}), node.name, timeout=settings.drain_timeout
    )
    if refused:
        raise UsageError(f"stopped at {node.name}, nothing upgraded there: {refused}")
    refresh = result.captured.get(node.name, {}).get(REFRESH_TASK, {})
    for line in str(refresh.get("stdout", "")).splitlines():
        if line.strip():
            ui.say(line)
    if refresh.get("rc", 0) != 0:
        said = str(refresh.get("stderr", "")).strip().splitlines()
        raise MckError(
            f"stopped at {node.name}: `snap refresh microk8s --channel={channel}` failed"
            f" ({said[-1] if said else 'no message'}); {node.name} still runs its old version"
            " and is schedulable again, the nodes after it are untouched; run `mck upgrade`"
            " again to resume"
        )
    raise_for_failures(result, f"upgrading {node.name}")


def _wait_for_voters(existing: Existing, voters: int, timeout: int, node: Node) -> None:
    """Until every node is ready again and the cluster has as many voters as before."""
    deadline = time.monotonic() + timeout
    while True:
        probes, _ = probe_with_versions(existing.ansible, existing.nodes, existing.cluster_ips)
        ready = all(p.status is not None and p.status.state in ("ready", "worker") for p in probes)
        if ready and _voter_count(probes) >= voters:
            return
        if time.monotonic() > deadline:
            raise MckError(
                f"stopped after {node.name}: the cluster did not get its {voters} voters back "
                f"within {timeout} s (see `mck status`); run `mck upgrade` again once it has"
            )
        time.sleep(VOTERS_POLL)


def _voter_count(probes: list[cluster.Probe]) -> int:
    return max(
        (sum(r == "voter" for r in m.roles.values()) for m in cluster.memberships(probes)),
        default=0,
    )


def _a_voter(probes: list[cluster.Probe], *, exclude: str | None) -> Node | None:
    """The first ready voter by name other than `exclude`."""
    for membership in cluster.memberships(probes):
        ready = {
            p.node.name
            for p in probes
            if p.reachable and p.status is not None and p.status.state == "ready"
        }
        voters = [
            owner
            for address, owner in membership.owners.items()
            if membership.roles[address] == "voter"
            and owner.name in ready
            and owner.name != exclude
        ]
        if voters:
            return sorted(voters, key=lambda n: name_key(n.name))[0]
    return None


def read_leader(ansible: Ansible, via: str) -> str | None:
    """The dqlite leader's IP, asked of `via`; None when it cannot say."""
    result = ansible.playbook(
        PLAYBOOKS / "dqlite_leader.yml", capture={LEADER_TASK}, extravars={"mck_via": via}
    )
    res = result.captured.get(via, {}).get(LEADER_TASK, {})
    answer = str(res.get("stdout", "")).strip()
    if res.get("rc", 1) != 0 or not answer:
        return None
    return answer.rsplit(":", 1)[0].strip("[]")


def preview_lines(
    ansible: Ansible,
    probes: list[cluster.Probe],
    snaps: dict[str, versions.Snap],
    pinned: str,
    now: cluster.ClusterPlan,
) -> tuple[str, ...]:
    """What `mck plan` lists for an upgrade: each node's step in order, or the refusal."""
    via = _a_voter(probes, exclude=None)
    leader = read_leader(ansible, via.name) if via else None
    plan = upgrade_plan.plan_upgrade(
        probes, snaps, pinned, leader_ip=leader, problems=tuple(p.reason for p in now.problems)
    )
    if plan.refusal:
        return (plan.refusal,)
    return tuple(
        f"{i}. {node.name} ({snaps[node.name].version} from {snaps[node.name].channel}): drain,"
        f" snap refresh microk8s --channel={pinned}, wait until ready, uncordon"
        for i, node in enumerate(plan.steps, 1)
    )
