"""The converge pipeline, readable top to bottom:

preflight → plan → [scale-down] → provision → state → inventory → configure → probe → act →
report

and `show_plan` (the first two, changing nothing), `destroy` and `status`. Each `==> name` line
starts a phase (a benchmark times them by those lines). Each step is a small function; the only
I/O they do goes through the modules that own it (tofu, ansible, inventory). Nothing here knows
about click.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mck import (
    boot,
    calico,
    cluster,
    encryption,
    hcl_cache,
    known_hosts,
    kubeconfig,
    mesh,
    preview,
    private_files,
    refusals,
    run_lock,
    scaledown,
    versions,
)
from mck.ansible import PLAYBOOKS, Ansible, PlayResult
from mck.debuglog import LOG_DIR
from mck.errors import ClusterError, MckError, UsageError
from mck.files import write_atomic
from mck.inventory import previous_setting, render
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
from mck.preflight import (
    Config,
    check_project,
    cluster_name,
    flag,
    preflight,
    read_config,
    ssh_public_key_file,
    variable,
)
from mck.progress import PlayProgress
from mck.report import Ui
from mck.status import (
    Report,
    node_statuses,
    problems,
    render_table,
    voters_line,
    warnings_for,
)
from mck.tofu import Plan, Tofu, find_binary

STATE_DIR = ".mck"  # project-local, generated: plan file, known_hosts, ssh control sockets
PROBE = PLAYBOOKS / "probe.yml"  # mck's status probe: one remote command per node
PROBE_TASK = "Read microk8s status"
# In a converge the probe is the microk8s role's readiness wait, which prints the same status
# (`microk8s status --wait-ready --format yaml`) once the node is ready: no command of its own.
READY_TASK = "Wait until microk8s is ready"
JOIN_TOKEN_TTL = 300  # seconds a join token stays valid on the leader
# A join ends with the joiner restarting every service: seconds it gets to be ready again (and
# seen Ready by the leader) before the next join, and every node before the probe after joins.
JOIN_READY_TIMEOUT = 300
DRAIN_TIMEOUT = 120  # seconds `kubectl drain` may take to evict a leaving node's pods
# What --destroy removes besides the VMs: only files mck itself writes (never a user's own).
GENERATED = ("inventory", STATE_DIR)
# Removed only when mck wrote it (it carries kubeconfig.MARK): a user's own file stays.
KUBECONFIG_FILE = "kubeconfig"


@dataclass(frozen=True)
class Settings:
    project: Path
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    verbosity: int = 0
    boot_timeout: int = boot.DEFAULT_TIMEOUT  # seconds new VMs get to answer SSH + cloud-init


@dataclass
class Outcome:
    nodes: list[Node]
    changes: NodeChanges
    joined: list[str]
    plan: cluster.ClusterPlan
    probes: list[cluster.Probe]
    removed: list[str] = field(default_factory=list)  # stale member addresses removed


def show_plan(settings: Settings, ui: Ui) -> preview.Preview:
    """What a converge would do, changing nothing: no apply, no playbook, no inventory write.
    The saved plan file is deleted again; the state is only read."""
    project = settings.project.resolve()
    ui.phase("preflight", str(project))
    config = preflight(project, settings.env)
    mode = str(variable(project, config, settings.env, "encryption") or encryption.DEFAULT)
    inventory = _read(project / "inventory")
    tofu = tofu_for(settings, ui)
    state_dir = _state_dir(project)
    private_files.before_run(project, state_dir, run_lock_held=False)  # safe: secrets
    ui.phase("plan", f"{tofu.name} plan")
    if tofu.needs_init():
        tofu.init()
    planfile = private_files.preview_plan(state_dir)  # safe: per pid, as plan takes no lock
    try:
        planned = read_plan(tofu, planfile)
    finally:
        planfile.unlink(missing_ok=True)
    # safe: `mck plan` refuses what `mck` refuses (mck/refusals.py)
    refusals.check_plan(
        planned.nodes,
        planned.changes,
        inventory,
        cluster_name=cluster_name(project, config, settings.env),
        stored_nodes=lambda: planned.stored or read_state_nodes(tofu).nodes,
    )
    encryption.check(mode, planned.nodes, previous=previous_setting(inventory, "mck_encryption"))
    shown = _preview(
        tofu,
        ansible_for(settings, ui, task_lines=False),
        planned.changes,
        planned.nodes,
        inventory,
        mode,
        pinned=versions.pinned_channel(project),
    )
    for line in preview.lines(shown):
        ui.say(line)
    if shown.scale_down.refusal:
        ui.error(shown.scale_down.refusal)
    return shown


def converge(settings: Settings, ui: Ui) -> Outcome:
    project = settings.project.resolve()

    # preflight: nothing runs before every problem in the input is known.
    ui.phase("preflight", str(project))
    config = preflight(project, settings.env)
    mode = str(variable(project, config, settings.env, "encryption") or encryption.DEFAULT)
    public_api = flag(variable(project, config, settings.env, "public_api"))
    ssh_key_file = ssh_public_key_file(project, config, settings.env)
    previous_inventory = _read(project / "inventory")
    tofu = tofu_for(settings, ui)
    ansible = ansible_for(settings, ui)
    # safe: one changing run per project, held until this process ends (mck/run_lock.py).
    held = run_lock.acquire(project / STATE_DIR, "converge")  # noqa: F841 (held for the run)
    state_dir = _state_dir(project)
    private_files.before_run(project, state_dir, run_lock_held=True)  # safe: secrets

    # plan: what will OpenTofu create or destroy?
    ui.phase("plan", f"{tofu.name} plan")
    if tofu.needs_init():
        tofu.init()
    planfile = state_dir / private_files.CONVERGE_PLAN
    try:
        planned = read_plan(tofu, planfile)
        changes = planned.changes
        # safe: refuse before harm: no nodes, a lost state, a renamed cluster (mck/refusals.py)
        refusals.check_plan(
            planned.nodes,
            changes,
            previous_inventory,
            cluster_name=cluster_name(project, config, settings.env),
            stored_nodes=lambda: planned.stored or read_state_nodes(tofu).nodes,
        )
        # encryption: a choice these nodes cannot use is refused before anything changes.
        previous_mode = previous_setting(previous_inventory, "mck_encryption")
        encryption.check(mode, planned.nodes, previous=previous_mode)
        # The plan section. When VMs go, it is the one `mck plan` prints, from a probe of today's
        # nodes: removals must be decided before the apply (on a first run there is nothing to
        # probe, so it is cheap). Otherwise joins are decided after configure by the probe that
        # runs anyway: probing twice would cost every no-op converge a round trip per node.
        if changes.destroyed or changes.replaced or not previous_inventory:
            shown = _preview(tofu, ansible, changes, planned.nodes, previous_inventory, mode)
            for line in preview.lines(shown):
                ui.say(line)
            if shown.scale_down.refusal:
                raise UsageError(shown.scale_down.refusal)
        else:
            shown = None
            for line in preview.tofu_lines(changes):
                ui.say(line)
            ui.say("cluster actions: decided after configure, from one probe of every node")

        # scale-down: leaving members go before their VMs, one at a time, through a remaining one.
        if shown and shown.scale_down.removals:
            names = ", ".join(r.node.name for r in shown.scale_down.removals)
            ui.phase("scale-down", f"removing {names} from the cluster")
            _remove_leaving(ansible, shown.scale_down, ui)

        # provision: apply exactly the plan that was shown. A plan whose only news is drift is
        # applied too: that saves the refreshed state, as `tofu apply` would, so the next run
        # finds nothing to refresh into its nodes.
        applies = planned.plan.changes or bool(planned.plan.drifted)
        if planned.plan.changes:
            ui.phase("provision", _describe(changes))
        elif applies:
            drifted = ", ".join(planned.plan.drifted)
            ui.phase("provision", f"no changes; saving the state refresh found changed: {drifted}")
        else:
            ui.phase("provision", "no changes")
        if applies:
            tofu.apply(planfile)
    finally:
        planfile.unlink(missing_ok=True)

    # state: read back what exists, through the CLI so remote backends work. When nothing was
    # applied, the state the plan read is that state: no second read.
    if applies or planned.stored is None:
        ui.phase("state", f"{tofu.name} state pull")
        nodes = read_nodes(tofu)
    else:
        ui.phase("state", "the state the plan read (nothing was applied)")
        nodes = planned.stored
    if not nodes:
        raise UsageError("the state has no nodes: set at least one node count in instances.tf")
    for node in nodes:
        ui.say(f"instance {node.name} is provisioned on {node.cloud} with address {node.public_ip}")
    # New VMs may have been handed an address an old VM had: forget its old host keys.
    fresh = set(changes.created) | set(changes.replaced)
    known_hosts.forget(state_dir / "known_hosts", [n.public_ip for n in nodes if n.name in fresh])

    # inventory: rendered from the state, written atomically, with every node's mesh address.
    ui.phase("inventory", f"{len(nodes)} nodes")
    mesh_ips = write_inventory(
        project,
        nodes,
        previous_inventory,
        name=cluster_name(project, config, settings.env),
        encryption=mode,
        public_api=public_api,
        ssh_public_key_file=ssh_key_file,
    )

    # boot: VMs the apply made answer SSH and finish cloud-init only some time after the cloud
    # called them running. Only then is there anything to configure.
    new_vms = [n.name for n in nodes if n.name in fresh]
    if new_vms:
        ui.phase("boot", f"{len(new_vms)} new VMs: SSH, then cloud-init")
        boot.wait_for_boot(ansible, new_vms, settings.boot_timeout, ui)

    # configure: the site playbook, the same one a user can run by hand. The probe is its
    # readiness wait's output; Calico's setting for the mode is read by one more play in the same
    # run (one node, one command): no second ansible start-up, the same SSH masters.
    reads_calico = mode in calico.SETTINGS
    ui.phase(
        "configure",
        f"ansible-playbook main.yml on {len(nodes)} nodes"
        + (", then a read of Calico's settings" if reads_calico else ""),
    )
    result = ansible.playbook(
        project / "main.yml",
        then=calico.READ if reads_calico else None,
        capture={READY_TASK, versions.CHECK_TASK, versions.INSTALL_TASK, *calico.READ_TASKS},
        show_output=True,
    )
    _raise_for_failures(result, "main.yml")
    ui.say("environment created.  follow-up configuration can be performed with:")
    ui.say("ansible-playbook main.yml -i inventory")

    # probe: every node at once, then plan (pure).
    # With the mesh the cluster lives on WireGuard addresses, bound on every node (wg0), NAT'd
    # ones included: that is what lets an AWS node lead or join. Without it, public addresses.
    on_mesh = mode == "mesh"
    cluster_ips = mesh_ips if on_mesh else {}
    if all(READY_TASK in result.captured.get(n.name, {}) for n in nodes):
        ui.phase("probe", "microk8s status of every node, from its readiness wait in configure")
        probes = probes_from(result, nodes, cluster_ips, task=READY_TASK)
    else:  # a main.yml without the microk8s role's readiness wait: probe on its own
        ui.phase("probe", "microk8s status of every node")
        probes = probe(ansible, nodes, cluster_ips)
    plan = cluster.plan(probes, nat_ok=on_mesh)

    # act: remove stale members, then join orphans one at a time.
    ui.phase("act", "removals and joins")
    removed = _remove_stale(ansible, plan, ui)
    joined = _join(ansible, plan, ui)
    read = calico.read_from(result, mode)
    if joined or removed:
        # A join can change Calico's setting (the cluster agent re-applies Calico's manifest
        # while it answers the join), so the setting is read again after the last change, in
        # the same run as this probe: a cluster that still has it needs no run of its own.
        after = ansible.playbook(
            PROBE,
            then=calico.READ if reads_calico else None,
            capture={PROBE_TASK, *calico.READ_TASKS},
            extravars={"mck_wait_ready": JOIN_READY_TIMEOUT, "mck_read_versions": False},
        )
        probes = probes_from(after, nodes, cluster_ips)
        plan = cluster.plan(probes, nat_ok=on_mesh)
        read = calico.read_from(after, mode)
    if not calico.settled(read, plan):
        if mode == "calico-wireguard":
            _enable_calico_wireguard(ansible, plan, ui)
        if on_mesh:
            _use_mesh_for_calico(ansible, plan, ui)
    elif read is not None:
        ui.debug(f"Calico's setting for encryption {mode} is in place (read on {read.host})")

    # report: one table, then every problem that is left.
    ui.phase("report")
    # Each node's microk8s, from the role's installed check or install (no command of its own).
    snaps = versions.from_result(result, versions.CHECK_TASK, versions.INSTALL_TASK)
    statuses = node_statuses(nodes, probes, cluster_ips, snaps)
    ui.say(render_table(statuses))
    ui.say(voters_line(statuses))
    for warning in warnings_for(statuses):
        ui.warn(warning)
    for notice in versions.notices(snaps, versions.pinned_channel(project)):
        ui.say(f"note: {notice}")
    outcome = Outcome(nodes, changes, joined, plan, probes, removed)
    if plan.problems:
        for problem in plan.problems:
            ui.error(problem.reason)
        raise ClusterError(
            f"the cluster is not converged: {len(plan.problems)} problem(s), listed above"
        )
    return outcome


@dataclass(frozen=True)
class PlanRead:
    """A saved plan, read as far as mck needs it."""

    plan: Plan
    changes: NodeChanges
    nodes: list[PlannedNode]  # every node that exists once the plan is applied
    stored: list[Node] | None  # the stored state's nodes, read when the plan changes nothing


def read_plan(tofu: Tofu, planfile: Path) -> PlanRead:
    """Plan, and read what the plan changes. `show -json` of the plan starts every provider
    again for its schema (0.8 s on the lab), so only a plan that changes something is read;
    a plan that changes nothing leaves the nodes of the stored state (`state pull`)."""
    plan = tofu.plan(planfile)
    if plan.changes:
        tofu.show(planfile)  # every attribute the apply changes, as OpenTofu prints it
        plan_json = tofu.show_json(planfile)
        return PlanRead(plan, planned_changes(plan_json), planned_nodes(plan_json), None)
    found = read_state_nodes(tofu)
    if found.unusable:  # the same check planned_nodes makes, before anything is applied
        raise UsageError(refusal(found.unusable))
    kept = [PlannedNode(n.name, n.cloud, n.nat, n.address) for n in found.nodes]
    return PlanRead(plan, NodeChanges(), kept, found.nodes)


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
        return read_state(tofu.show_json())
    return read_stored_state(state)


def destroy(settings: Settings, ui: Ui) -> None:
    """Tear down every resource in the state, then the files mck generated."""
    project = settings.project.resolve()
    ui.phase("preflight", str(project))
    preflight(project, settings.env)
    tofu = tofu_for(settings, ui)
    # safe: one changing run per project, held until this process ends (mck/run_lock.py).
    held = run_lock.acquire(project / STATE_DIR, "destroy")  # noqa: F841 (held for the run)
    private_files.before_run(project, project / STATE_DIR, run_lock_held=True)  # safe: secrets
    if tofu.needs_init():
        tofu.init()
    ui.phase("destroy", f"{tofu.name} destroy")
    tofu.destroy()
    for name in GENERATED:
        path = project / name
        if path.is_dir():
            # The debug logs stay (this run's own among them): they outlive the cluster.
            for child in path.iterdir():
                if child.name == LOG_DIR.name and child.is_dir():
                    continue
                if child.name == run_lock.LOCK_FILE:  # safe: still held by this run
                    continue
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        else:
            path.unlink(missing_ok=True)
    removed = "inventory"
    if kubeconfig.written_by_mck(project / KUBECONFIG_FILE):
        (project / KUBECONFIG_FILE).unlink()
        removed = "inventory, kubeconfig"
    ui.say(f"all resources destroyed; removed {removed} and .mck/ (except {LOG_DIR})")


@dataclass(frozen=True)
class Existing:
    """The nodes a converge made, as the state and the last inventory describe them, probed."""

    project: Path
    config: Config
    inventory: str  # the text of the inventory the last converge wrote
    nodes: list[Node]
    mode: str  # the encryption the cluster was built with
    cluster_ips: dict[str, str]  # node name -> mesh address (empty without the mesh)
    probes: list[cluster.Probe]
    snaps: dict[str, versions.Snap]  # node name -> its microk8s snap, when it has one
    unusable: tuple[str, ...] = ()  # VMs in the state that cannot be nodes, and why


def probe_existing(settings: Settings, ui: Ui) -> Existing:
    """Read the state and the inventory a converge wrote (its mesh addresses and encryption are
    what the cluster was built with), and probe every node at once. Changes nothing."""
    project = settings.project.resolve()
    check_project(project)
    config = read_config(project)
    inventory = _read(project / "inventory")
    if not inventory:
        raise UsageError(f"{project} has no inventory yet: run mck to converge first")
    tofu = tofu_for(settings, ui)
    if tofu.needs_init():
        tofu.init()
    found = read_state_nodes(tofu)
    nodes = found.nodes
    if not nodes:
        found.strict()  # a state of unusable VMs only: say which
        raise UsageError("the state has no nodes: run mck to converge first")
    mode = previous_setting(inventory, "mck_encryption") or encryption.DEFAULT
    cluster_ips = mesh.previous_from_inventory(inventory) if mode == "mesh" else {}
    ansible = ansible_for(settings, ui, task_lines=False)
    probes, snaps = probe_with_versions(ansible, nodes, cluster_ips)
    return Existing(
        project, config, inventory, nodes, mode, cluster_ips, probes, snaps, found.unusable
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


def write_inventory(
    project: Path,
    nodes: list[Node],
    previous: str,
    *,
    name: str,
    encryption: str,
    public_api: bool,
    ssh_public_key_file: str = "",
) -> dict[str, str]:
    """Write the inventory; returns node name -> mesh address. Addresses come back from the
    inventory written last time (`previous`), so a live node keeps its address whatever else
    changes."""
    mesh_ips = mesh.allocate([n.name for n in nodes], mesh.previous_from_inventory(previous))
    text = render(
        nodes,
        template=project / "templates" / "inventory.j2",
        cluster_name=name,
        mesh_ips=mesh_ips,
        encryption=encryption,
        public_api=public_api,
        ssh_public_key_file=ssh_public_key_file,
    )
    write_atomic(project / "inventory", text, mode=0o644)  # no secrets in it: readable
    return mesh_ips


def _state_dir(project: Path) -> Path:
    """The project's .mck/, made once preflight has passed (bad input leaves nothing behind),
    with what preflight parsed saved in it: the next run parses no unchanged HCL."""
    state_dir = private_files.private_dir(project / STATE_DIR)  # safe: 0700, holds the plan
    hcl_cache.for_project(project).save()
    return state_dir


def _read(path: Path) -> str:
    """A generated file's text, or "" when there is none yet."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise MckError(f"cannot read {path}: {exc.strerror}") from exc


def probe(
    ansible: Ansible, nodes: list[Node], mesh_ips: Mapping[str, str], *, wait_ready: int = 0
) -> list[cluster.Probe]:
    """One `microk8s status` per node, all nodes in parallel, as parsed facts. Each node's
    cluster address is its mesh address. `wait_ready`: seconds each node may take to get ready
    first (after membership changes); 0 reads the status as it is."""
    return probe_with_versions(ansible, nodes, mesh_ips, wait_ready=wait_ready)[0]


def probe_with_versions(
    ansible: Ansible, nodes: list[Node], mesh_ips: Mapping[str, str], *, wait_ready: int = 0
) -> tuple[list[cluster.Probe], dict[str, versions.Snap]]:
    """The probe, and each node's microk8s snap (`snap list`, the probe play's second read)."""
    extravars = {"mck_wait_ready": wait_ready} if wait_ready else None
    result = ansible.playbook(PROBE, capture={PROBE_TASK, versions.PROBE_TASK}, extravars=extravars)
    return probes_from(result, nodes, mesh_ips), versions.from_result(result, versions.PROBE_TASK)


def probes_from(
    result: PlayResult, nodes: list[Node], mesh_ips: Mapping[str, str], *, task: str = PROBE_TASK
) -> list[cluster.Probe]:
    """The parsed facts of a run whose `task` printed `microk8s status --format yaml`."""
    probes = []
    for node in nodes:
        stats = result.hosts.get(node.name)
        res = result.captured.get(node.name, {}).get(task)
        if (stats is not None and stats.unreachable) or res is None:
            error = next((f.message for f in result.failures if f.host == node.name), None)
            probes.append(
                cluster.Probe(
                    node, False, None, error or "did not answer the probe", mesh_ips.get(node.name)
                )
            )
            continue
        rc = int(res.get("rc", 1))
        if rc == 2 and "No such file" in str(res.get("msg", "")):
            rc = 127  # the command module's way of saying microk8s is not installed
        status = cluster.parse_status(str(res.get("stdout", "")), rc)
        probes.append(cluster.Probe(node, True, status, None, mesh_ips.get(node.name)))
    return probes


def _preview(
    tofu: Tofu,
    ansible: Ansible,
    changes: NodeChanges,
    planned: list[PlannedNode],
    inventory: str,
    mode: str,
    *,
    pinned: str | None = None,
) -> preview.Preview:
    """Probe the nodes that exist now (read-only, through the inventory the last converge wrote)
    and plan the cluster actions around the tofu changes. A VM the state holds under a name
    mck cannot use is left out: the plan, whose names were checked, renames or removes it."""
    nodes = read_state_nodes(tofu).nodes
    previous_mode = previous_setting(inventory, "mck_encryption") or mode
    on_mesh = previous_mode == "mesh"
    now: cluster.ClusterPlan | None = None
    sd = scaledown.ScaleDown()
    warnings: tuple[str, ...] = ()
    if nodes and not inventory:
        warnings = (
            "the existing nodes were not probed: there is no inventory from an earlier "
            "converge; members whose VMs go are removed as stale members afterwards",
        )
    elif nodes:
        cluster_ips = mesh.previous_from_inventory(inventory) if on_mesh else {}
        probes, snaps = probe_with_versions(ansible, nodes, cluster_ips)
        warnings = versions.notices(snaps, pinned)
        now = cluster.plan(probes, nat_ok=on_mesh)
        leaving = set(changes.destroyed) | set(changes.replaced)
        sd = scaledown.plan_scale_down(probes, leaving, nat_ok=on_mesh)
    return preview.build(changes, planned, now, sd, nat_ok=mode == "mesh", warnings=warnings)


def _remove_leaving(ansible: Ansible, sd: scaledown.ScaleDown, ui: Ui) -> None:
    """One leaving node at a time: drain, leave, remove-node (or remove-node --force)."""
    assert sd.via is not None  # plan_scale_down refuses removals without one
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
        )


def _remove_stale(ansible: Ansible, plan: cluster.ClusterPlan, ui: Ui) -> list[str]:
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


REMOVE_TASKS = ("Drain the leaving node", "Leave the cluster", "Remove the node")


def _remove(
    ansible: Ansible, via: str, leaving: str, address: str, *, graceful: bool, what: str, ui: Ui
) -> None:
    result = ansible.playbook(
        PLAYBOOKS / "remove_node.yml",
        capture=REMOVE_TASKS,
        extravars={
            "mck_via": via,
            "mck_leaving": leaving,
            "mck_remove_address": address,
            "mck_graceful": graceful,
            "mck_drain_timeout": DRAIN_TIMEOUT,
        },
    )
    # What microk8s and kubectl said, in the order they ran (`node/<name> drained`, …).
    for task in REMOVE_TASKS:
        for host in (via, leaving):
            res = result.captured.get(host, {}).pop(task, None)
            for line in str((res or {}).get("stdout", "")).splitlines():
                if line.strip():
                    ui.say(line)
    _raise_for_failures(result, what)


def _join(ansible: Ansible, plan: cluster.ClusterPlan, ui: Ui) -> list[str]:
    if plan.leader is None or not plan.joins:
        ui.say("no node to join")
        return []
    if plan.clusters:
        ui.say(f"existing cluster found with candidate leader {plan.leader.name}")
    else:
        ui.say(f"no node has peers: bootstrapping the cluster on {plan.leader.name}")
    joined = []
    for join in plan.joins:
        ui.say(f"orphan node {join.node.name} will join {join.leader.name} at {join.address}")
        token = secrets.token_hex(16)  # 32 characters, microk8s' minimum for a chosen token
        result = ansible.playbook(
            PLAYBOOKS / "join.yml",
            extravars={
                "mck_leader": join.leader.name,
                "mck_joiner": join.node.name,
                "mck_join_address": join.address,
                "mck_join_token": token,
                "mck_join_ttl": JOIN_TOKEN_TTL,
                "mck_join_wait": JOIN_READY_TIMEOUT,
            },
            secrets=[token],
        )
        _raise_for_failures(result, f"joining {join.node.name} to {join.leader.name}")
        joined.append(join.node.name)
    return joined


def _enable_calico_wireguard(ansible: Ansible, plan: cluster.ClusterPlan, ui: Ui) -> None:
    """Calico's WireGuard is cluster state (FelixConfiguration `default`): one member sets it."""
    if plan.leader is None:
        return  # no ready member to ask; the plan's problems already say why
    ui.say(f"enabling Calico WireGuard encryption through {plan.leader.name}")
    result = ansible.playbook(
        PLAYBOOKS / "calico_wireguard.yml", extravars={"mck_leader": plan.leader.name}
    )
    _raise_for_failures(result, "enabling Calico WireGuard")


def _use_mesh_for_calico(ansible: Ansible, plan: cluster.ClusterPlan, ui: Ui) -> None:
    """Calico's node address autodetection is cluster state (the calico-node DaemonSet's env):
    one member points it at wg0, so pod traffic between nodes takes the mesh."""
    if plan.leader is None:
        return  # no ready member to ask; the plan's problems already say why
    ui.say(f"making Calico use the mesh interface (wg0) through {plan.leader.name}")
    result = ansible.playbook(
        PLAYBOOKS / "calico_interface.yml", extravars={"mck_leader": plan.leader.name}
    )
    _raise_for_failures(result, "making Calico use the mesh interface")


def _raise_for_failures(result: PlayResult, what: str) -> None:
    if result.ok:
        return
    if not result.failures:
        raise MckError(f"{what} failed (ansible-runner {result.status}, rc {result.rc})")
    shown = "; ".join(
        f"{f.host}: {'unreachable' if _unreachable(result, f.host) else f.task}: {f.message}"
        for f in result.failures[:5]
    )
    more = f" (+{len(result.failures) - 5} more)" if len(result.failures) > 5 else ""
    raise MckError(f"{what} failed on {shown}{more}")


def _unreachable(result: PlayResult, host: str) -> bool:
    stats = result.hosts.get(host)
    return stats is not None and stats.unreachable


def _describe(changes: NodeChanges) -> str:
    parts = []
    for label, names in (
        ("create", changes.created),
        ("replace", changes.replaced),
        ("destroy", changes.destroyed),
    ):
        if names:
            parts.append(f"{label} {', '.join(names)}")
    return "; ".join(parts) or "non-node resources only"


def tofu_for(settings: Settings, ui: Ui) -> Tofu:
    binary = find_binary(settings.env)
    return Tofu(binary, settings.project.resolve(), dict(settings.env), echo=ui.write, log=ui.debug)


def ansible_for(settings: Settings, ui: Ui, *, task_lines: bool = True) -> Ansible:
    return Ansible(
        settings.project.resolve(),
        echo=ui.write,
        verbosity=settings.verbosity,
        log=ui.debug,
        progress=PlayProgress(ui, task_lines=task_lines),
    )
