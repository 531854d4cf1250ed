"""The act phase: remove stale members, join the orphans one at a time through the leader,
then put Calico's cluster-wide setting for the encryption mode in place. A join that fails is
that node's outcome; the next joins go on."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from mck import calico, cluster, voters
from mck.ansible import PLAYBOOKS, PlayResult
from mck.nodes import Node
from mck.phases.context import Run
from mck.phases.outcomes import raise_for_failures
from mck.phases.probe import PROBE, PROBE_TASK, probes_from
from mck.phases.removal import remove_stale

JOIN_TOKEN_TTL = 300  # seconds a join token stays valid on the leader
# After the joins: how long the report waits for dqlite to fill its voter seats (one roles
# adjustment round, go-dqlite's default 30 s, and the probe's own time), and how often it looks.
SEATING_WAIT = 45.0
SEATING_POLL = 2.0
# A join ends with the joiner restarting every service: the seconds it gets to be ready again
# (and seen Ready by the leader) before the next join, and every node before the probe after
# the joins, are the readiness wait of the run (`--ready-timeout`), as in configure.


@dataclass
class Acted:
    probes: list[cluster.Probe]  # the last probe: after the joins and removals, if any
    plan: cluster.ClusterPlan  # the plan of that probe
    joined: list[str]
    removed: list[str]  # stale member addresses removed


def act(
    run: Run,
    nodes: list[Node],
    probes: list[cluster.Probe],
    configured: PlayResult,
    *,
    mode: str,
    cluster_ips: Mapping[str, str],
) -> Acted:
    on_mesh = mode == "mesh"
    plan = cluster.plan(probes, nat_ok=on_mesh)
    run.ui.phase("act", "removals and joins")
    removed = remove_stale(run.ansible, plan, run.ui)
    joined = join(run, plan)
    reads_calico = mode in calico.SETTINGS
    read = calico.read_from(configured, mode)
    if joined or removed:
        # A join can change Calico's setting (the cluster agent re-applies Calico's manifest
        # while it answers the join), so the setting is read again after the last change, in
        # the same run as this probe: a cluster that still has it needs no run of its own.
        probes, after = _probe_after_changes(run, nodes, probes, cluster_ips, reads_calico)
        # dqlite fills its voter seats after the joins, not during them: the third member
        # promotes one more node once it has started (go-dqlite app.go maybePromoteOurselves),
        # and the leader adjusts roles every 30 s (WithRolesAdjustmentFrequency's default). A
        # report of the moment before would show a spare that is about to vote, and warn of
        # voters on one cloud that are not; so the probe is repeated until the seats are
        # filled, for one adjustment round at most.
        deadline = time.monotonic() + SEATING_WAIT
        while joined and voters.seats_pending(_live_roles(probes)) and time.monotonic() < deadline:
            time.sleep(SEATING_POLL)
            probes, after = _probe_after_changes(run, nodes, probes, cluster_ips, reads_calico)
        plan = cluster.plan(probes, nat_ok=on_mesh)
        read = calico.read_from(after, mode)
    if not calico.settled(read, plan):
        _put_calico_setting(run, plan, mode)
    elif read is not None:
        run.ui.debug(f"Calico's setting for encryption {mode} is in place (read on {read.host})")
    return Acted(probes, plan, joined, removed)


def _probe_after_changes(
    run: Run,
    nodes: list[Node],
    probes: list[cluster.Probe],
    cluster_ips: Mapping[str, str],
    reads_calico: bool,
) -> tuple[list[cluster.Probe], PlayResult]:
    """Every node still in the run probed again (with Calico's setting read in the same run);
    nodes out of the run are not asked: their probes keep saying why they are out."""
    asked = run.outcomes.healthy(nodes)
    after = run.ansible.playbook(
        PROBE,
        then=calico.READ if reads_calico else None,
        capture={PROBE_TASK, *calico.READ_TASKS},
        extravars={"mck_wait_ready": run.settings.ready_timeout, "mck_read_versions": False},
        limit=",".join(n.name for n in asked) if len(asked) < len(nodes) else None,
    )
    before = {p.node.name: p for p in probes}
    kept = {n.name for n in nodes} - {n.name for n in asked}
    found = [
        before[p.node.name] if p.node.name in kept else p
        for p in probes_from(after, nodes, cluster_ips)
    ]
    return found, after


def _live_roles(probes: list[cluster.Probe]) -> list[str]:
    """The datastore roles of the members that answered ready, in the largest cluster the probes
    show: dqlite promotes only members that are online, so a dead one is no seat to wait for."""
    ready = {p.node.name for p in probes if p.status is not None and p.status.state == "ready"}
    found = max(cluster.memberships(probes), key=lambda m: len(m.roles), default=None)
    if found is None:
        return []
    owners = found.owners
    return [r for a, r in found.roles.items() if a in owners and owners[a].name in ready]


def join(run: Run, plan: cluster.ClusterPlan) -> list[str]:
    """Each orphan joins the leader, one at a time; returns the nodes that joined."""
    ui = run.ui
    if plan.leader is None or not plan.joins:
        ui.say("no node to join")
        return []
    if plan.clusters:
        ui.say(f"existing cluster found with candidate leader {plan.leader.name}")
    else:
        ui.say(f"no node has peers: bootstrapping the cluster on {plan.leader.name}")
    joined = []
    for step in plan.joins:
        ui.say(f"orphan node {step.node.name} will join {step.leader.name} at {step.address}")
        token = secrets.token_hex(16)  # 32 characters, microk8s' minimum for a chosen token
        result = run.ansible.playbook(
            PLAYBOOKS / "join.yml",
            extravars={
                "mck_leader": step.leader.name,
                "mck_joiner": step.node.name,
                "mck_join_address": step.address,
                "mck_join_token": token,
                "mck_join_ttl": JOIN_TOKEN_TTL,
                "mck_join_wait": run.settings.ready_timeout,
            },
            secrets=[token],
        )
        if result.ok:
            joined.append(step.node.name)
            continue
        failure = next(iter(result.failures), None)
        where = f"on {failure.host}: {failure.task}: {failure.message}" if failure else ""
        reason = where or f"ansible-runner {result.status}, rc {result.rc}"
        run.outcomes.fail(step.node.name, "join_failed", f"joining {step.leader.name}: {reason}")
        ui.error(f"{step.node.name} did not join {step.leader.name}: {reason}")
    return joined


# Calico's cluster-wide settings, one per encryption mode that needs one: the playbook that puts
# it in place through one member, and what the run says while it does.
_CALICO_SETTING = {
    # Calico's WireGuard is cluster state (FelixConfiguration `default`).
    "calico-wireguard": ("calico_wireguard.yml", "enabling Calico WireGuard", " encryption"),
    # Node address autodetection is cluster state (the calico-node DaemonSet's env): pointed at
    # wg0, pod traffic between nodes takes the mesh.
    "mesh": ("calico_interface.yml", "making Calico use the mesh interface", " (wg0)"),
}


def _put_calico_setting(run: Run, plan: cluster.ClusterPlan, mode: str) -> None:
    """One member puts Calico's cluster-wide setting for `mode` in place."""
    if mode not in _CALICO_SETTING or plan.leader is None:
        return  # nothing to set, or no ready member to ask: the plan's problems say why
    playbook, what, detail = _CALICO_SETTING[mode]
    run.ui.say(f"{what}{detail} through {plan.leader.name}")
    result = run.ansible.playbook(PLAYBOOKS / playbook, extravars={"mck_leader": plan.leader.name})
    raise_for_failures(result, what)
