"""The probe phase: one `microk8s status` per node, all nodes at once, as parsed facts. In a
converge it is the readiness wait's output in configure; nodes that failed an earlier phase are
not asked again: their probe says why they are out."""

from __future__ import annotations

from collections.abc import Mapping

from mck import cluster, node_status, versions
from mck.ansible import PLAYBOOKS, Ansible, PlayResult
from mck.nodes import Node
from mck.phases.context import Run
from mck.phases.outcomes import NodeOutcome

PROBE = PLAYBOOKS / "probe.yml"  # mck's status probe: one remote command per node
PROBE_TASK = "Read microk8s status"
# In a converge the probe is the microk8s role's readiness wait, which prints the same status
# (`microk8s status --wait-ready --format yaml`) once the node is ready: no command of its own.
READY_TASK = "Wait until microk8s is ready"


def probe(
    ansible: Ansible,
    nodes: list[Node],
    mesh_ips: Mapping[str, str],
    *,
    wait_ready: int = 0,
    limit: list[str] | None = None,
) -> list[cluster.Probe]:
    """One `microk8s status` per node, all nodes in parallel, as parsed facts. Each node's
    cluster address is its mesh address. `wait_ready`: seconds each node may take to get ready
    first (after membership changes); 0 reads the status as it is. `limit`: only these nodes
    are asked (the others' probes say they did not answer)."""
    return probe_with_versions(ansible, nodes, mesh_ips, wait_ready=wait_ready, limit=limit)[0]


def probe_with_versions(
    ansible: Ansible,
    nodes: list[Node],
    mesh_ips: Mapping[str, str],
    *,
    wait_ready: int = 0,
    limit: list[str] | None = None,
) -> tuple[list[cluster.Probe], dict[str, versions.Snap]]:
    """The probe, and each node's microk8s snap (`snap list`, the probe play's second read)."""
    extravars = {"mck_wait_ready": wait_ready} if wait_ready else None
    result = ansible.playbook(
        PROBE,
        capture={PROBE_TASK, versions.PROBE_TASK},
        extravars=extravars,
        limit=",".join(limit) if limit is not None else None,
    )
    return probes_from(result, nodes, mesh_ips), versions.from_result(result, versions.PROBE_TASK)


def probes_from(
    result: PlayResult,
    nodes: list[Node],
    mesh_ips: Mapping[str, str],
    *,
    task: str = PROBE_TASK,
    failed: Mapping[str, NodeOutcome] | None = None,
) -> list[cluster.Probe]:
    """The parsed facts of a run whose `task` printed `microk8s status --format yaml`. A node
    in `failed` whose status the run did not read is probed as not answering, with its reason."""
    failed = failed or {}
    probes = []
    for node in nodes:
        stats = result.hosts.get(node.name)
        res = result.captured.get(node.name, {}).get(task)
        if (stats is not None and stats.unreachable) or res is None:
            outcome = failed.get(node.name)
            error = outcome.line() if outcome else None
            error = error or next((f.message for f in result.failures if f.host == node.name), None)
            probes.append(
                cluster.Probe(
                    node, False, None, error or "did not answer the probe", mesh_ips.get(node.name)
                )
            )
            continue
        rc = int(res.get("rc", 1))
        if rc == 2 and "No such file" in str(res.get("msg", "")):
            rc = 127  # the command module's way of saying microk8s is not installed
        status = node_status.parse_status(str(res.get("stdout", "")), rc)
        probes.append(cluster.Probe(node, True, status, None, mesh_ips.get(node.name)))
    return probes


def probe_configured(
    run: Run, nodes: list[Node], configured: PlayResult, cluster_ips: Mapping[str, str]
) -> list[cluster.Probe]:
    """Every node's status after configure: the readiness wait's output where each node still
    in the run printed it, else one probe of those nodes. A node out of the run is not asked."""
    asked = run.outcomes.healthy(nodes)
    failed = {o.name: o for o in run.outcomes.failed()}
    if all(READY_TASK in configured.captured.get(n.name, {}) for n in asked):
        run.ui.phase("probe", "microk8s status of every node, from its readiness wait in configure")
        return probes_from(configured, nodes, cluster_ips, task=READY_TASK, failed=failed)
    # A main.yml without the microk8s role's readiness wait: probe on its own.
    run.ui.phase("probe", "microk8s status of every node")
    result = run.ansible.playbook(
        PROBE,
        capture={PROBE_TASK},
        limit=",".join(n.name for n in asked) if failed else None,
    )
    return probes_from(result, nodes, cluster_ips, failed=failed)
