"""The nodes a converge made, read and probed without changing them: `mck status`, and the
source `mck kubeconfig` reads from. The state says which machines exist and where; the nodes
are reached through an inventory rendered from it (never the project's `inventory`, which a
hand edit may have changed); the cluster's record in the same state (mck/cluster_facts.py) gives
what the VMs cannot say: the mesh addresses, the encryption the cluster was built with, and the
host keys each VM showed when it was first configured."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mck import cluster, cluster_facts, encryption, state_lock, versions
from mck.ansible import Ansible
from mck.cluster_facts import ClusterFacts
from mck.errors import UsageError
from mck.nodes import Node
from mck.phases.context import Run, Settings, read_text
from mck.phases.inventory import state_inventory
from mck.phases.plan import read_state_nodes
from mck.phases.probe import probe_with_versions
from mck.preflight import Config, check_project, cluster_name, read_config
from mck.report import Ui
from mck.status import Report, node_statuses, problems, warnings_for


@dataclass(frozen=True)
class Existing:
    """The nodes a converge made, as the state and the cluster's record describe them, probed."""

    project: Path
    config: Config
    facts: ClusterFacts  # the cluster's record (the state's, or an older project's inventory)
    nodes: list[Node]
    mode: str  # the encryption the cluster was built with
    cluster_ips: dict[str, str]  # node name -> mesh address (empty without the mesh)
    probes: list[cluster.Probe]
    snaps: dict[str, versions.Snap]  # node name -> its microk8s snap, when it has one
    ansible: Ansible  # reaches the nodes through the inventory rendered from the state
    unusable: tuple[str, ...] = ()  # VMs in the state that cannot be nodes, and why
    # Held for a command that changes the cluster (mck upgrade, mck restore): no converge or
    # destroy of any operator runs meanwhile. Released by `release`.
    lock: state_lock.StateLock | None = None

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()


def probe_existing(settings: Settings, ui: Ui, *, hold_state: bool = False) -> Existing:
    """Read the state and the cluster's record, and probe every node at once.
    Changes nothing a user owns (it writes .mck/state.inventory). `hold_state`: take
    OpenTofu's state lock first (waiting up to --lock-timeout) and keep it in the result until
    its `release`, for a command that changes the cluster."""
    project = settings.project.resolve()
    check_project(project)
    config = read_config(project)
    inventory = read_text(project / "inventory")  # the record of a cluster older than mck_facts
    run = Run.start(settings, ui, task_lines=False)
    run.init_tofu()
    lock = state_lock.hold(run.tofu, settings.lock_timeout) if hold_state else None
    try:
        return _probe(settings, run, config, inventory, lock)
    except BaseException:
        if lock is not None:
            lock.release()
        raise


def _probe(
    settings: Settings,
    run: Run,
    config: Config,
    inventory: str,
    lock: state_lock.StateLock | None,
) -> Existing:
    project = run.project
    found = read_state_nodes(run.tofu)
    nodes = found.nodes
    if not nodes:
        found.strict()  # a state of unusable VMs only: say which
        raise UsageError("the state has no nodes: run mck to converge first")
    facts = cluster_facts.read(found.facts_record, inventory)
    if not facts.source:
        raise UsageError(
            f"neither the state nor {project}/inventory records a converge: run mck to converge "
            "first"
        )
    mode = facts.encryption or encryption.DEFAULT
    cluster_ips = dict(facts.mesh_ips) if mode == "mesh" else {}
    name = cluster_name(project, config, settings.env)
    run.state_dir.mkdir(exist_ok=True)  # a converge made it; someone may have removed it since
    path = state_inventory(project, run.state_dir, nodes, facts, name=name)
    ansible = run.ansible.using(path)
    probes, snaps = probe_with_versions(ansible, nodes, cluster_ips)
    return Existing(
        project,
        config,
        facts,
        nodes,
        mode,
        cluster_ips,
        probes,
        snaps,
        ansible,
        found.unusable,
        lock,
    )


def status(settings: Settings, ui: Ui | None = None) -> Report:
    """Every node in the state, probed at once; changes nothing."""
    ui = ui or Ui()
    existing = probe_existing(settings, ui)
    plan = cluster.plan(existing.probes, nat_ok=existing.mode == "mesh")
    statuses = node_statuses(existing.nodes, existing.probes, existing.cluster_ips, existing.snaps)
    return Report(
        cluster=cluster_name(existing.project, existing.config, settings.env),
        encryption=existing.mode,
        nodes=statuses,
        problems=existing.unusable + problems(plan),
        warnings=warnings_for(statuses),
        notices=versions.notices(existing.snaps, versions.pinned_channel(existing.project)),
    )
