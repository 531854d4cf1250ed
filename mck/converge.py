"""`mck` (the converge) and `mck plan`, as the phases they string together:

preflight → plan → [scale-down] → provision → state → inventory → [boot] → configure → [record]
→ probe → act → [addons] → report

Each `==> name` line starts a phase (a benchmark times them by those lines); each phase lives in
mck/phases/ and works on one run context. A node that fails a phase (unreachable, a failed task,
not ready within the bounded wait, a failed join) is recorded as its outcome and left alone by
the phases after it; every other node is configured, joined and reported, and the run exits 3
naming each problem. What a run needs from the runs before it (mesh addresses, the settings the
cluster was built with, host keys) is the cluster's record in the state (mck/cluster_facts.py),
read with the plan and written back by `record` before any node joins. Nothing here knows about
click.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mck import (
    cluster,
    cluster_facts,
    encryption,
    preview,
    private_files,
    refusals,
    run_lock,
    state_lock,
    versions,
)
from mck.addons import Addon
from mck.cluster_facts import ClusterFacts
from mck.errors import UsageError
from mck.nodes import Node, NodeChanges
from mck.phases.act import act
from mck.phases.addons import converge_addons, declared, read_managed
from mck.phases.addons import preview as preview_addons
from mck.phases.configure import configure, wait_for_boot
from mck.phases.context import STATE_DIR, Run, Settings, read_text
from mck.phases.inventory import trust_recorded_keys, write_inventory
from mck.phases.outcomes import NodeOutcome
from mck.phases.plan import PlanRead, preview_cluster, read_plan, read_state_nodes
from mck.phases.probe import probe_configured
from mck.phases.provision import fresh_names, provision, read_back
from mck.phases.record import record_facts
from mck.phases.removal import remove_leaving
from mck.phases.report import report
from mck.plan_json import PlanResult
from mck.preflight import Config, cluster_name, flag, preflight, ssh_public_key_file, variable
from mck.report import Ui

__all__ = ["Outcome", "Settings", "converge", "show_plan"]


@dataclass
class Outcome:
    nodes: list[Node]
    changes: NodeChanges
    joined: list[str]
    plan: cluster.ClusterPlan
    probes: list[cluster.Probe]
    removed: list[str] = field(default_factory=list)  # stale member addresses removed
    failed: list[NodeOutcome] = field(default_factory=list)  # nodes left out, and why
    addons_enabled: list[str] = field(default_factory=list)
    addons_disabled: list[str] = field(default_factory=list)


def converge(settings: Settings, ui: Ui) -> Outcome:
    project = settings.project.resolve()

    # preflight: nothing runs before every problem in the input is known.
    ui.phase("preflight", str(project))
    config = preflight(project, settings.env)
    mode = str(variable(project, config, settings.env, "encryption") or encryption.DEFAULT)
    name = cluster_name(project, config, settings.env)
    public_api = flag(variable(project, config, settings.env, "public_api"))
    ssh_key_file = ssh_public_key_file(project, config, settings.env)
    wanted_addons = declared(project, variable(project, config, settings.env, "addons"))
    previous_inventory = read_text(project / "inventory")
    run = Run.start(settings, ui)
    # One changing run per project, held until this process ends (mck/run_lock.py); then the
    # leftovers of killed runs (plan files, runner dirs) go before this run makes its own.
    held = run_lock.acquire(project / STATE_DIR, "converge")  # noqa: F841 (held for the run)
    private_files.before_run(project, run.make_state_dir(), run_lock_held=True)

    # plan → [scale-down] → provision: apply exactly the plan that was shown.
    ui.phase("plan", f"{run.tofu.name} plan")
    run.init_tofu()
    # The backend's lock, for the whole run: one run at a time across operators.
    lock = state_lock.hold(run.tofu, settings.lock_timeout)
    try:
        return _converge_locked(
            run, previous_inventory, mode, name, public_api, ssh_key_file, wanted_addons, config
        )
    finally:
        lock.release()


def _converge_locked(
    run: Run,
    previous_inventory: str,
    mode: str,
    name: str,
    public_api: bool,
    ssh_key_file: str,
    wanted_addons: list[Addon],
    config: Config,
) -> Outcome:
    """The converge from the plan on, with the state lock held."""
    settings, ui, project = run.settings, run.ui, run.project
    planfile = run.state_dir / private_files.CONVERGE_PLAN
    try:
        planned = read_plan(run.tofu, planfile)
        facts = cluster_facts.read(planned.facts_record, previous_inventory)
        # Refuse before harm: no nodes, a lost state, a renamed cluster (mck/refusals.py).
        refusals.check_plan(
            planned.nodes,
            planned.changes,
            previous_inventory,
            cluster_name=name,
            built=facts,
            stored_nodes=lambda: planned.stored or read_state_nodes(run.tofu).nodes,
        )
        # encryption: a choice these nodes cannot use is refused before anything changes.
        encryption.check(mode, planned.nodes, previous=facts.encryption)
        cluster_facts.check_declared(config.variables)  # the record's home, mck_facts.tf
        _show_plan_and_scale_down(run, planned, facts, mode, name)
        applied = provision(run, planned, planfile)
    finally:
        planfile.unlink(missing_ok=True)

    # state → inventory: rendered from the state, with every node's stable mesh address.
    nodes = read_back(run, planned, applied)
    ui.phase("inventory", f"{len(nodes)} nodes")
    mesh_ips = write_inventory(
        project,
        nodes,
        facts.mesh_ips,
        name=name,
        encryption=mode,
        public_api=public_api,
        ssh_public_key_file=ssh_key_file,
    )

    # boot → configure: nodes that fail are recorded and left out from here on.
    trust_recorded_keys(run.state_dir, nodes, facts)
    wait_for_boot(run, nodes, fresh_names(planned))
    configured = configure(run, nodes, mode)
    # record: the new addresses and host keys go into the state before any node joins with them.
    built = ClusterFacts(name, mode, public_api, mesh_ips)
    record_facts(run, facts, built, nodes, configured)

    # probe → act: with the mesh the cluster lives on WireGuard addresses, bound on every node
    # (wg0), NAT'd ones included: that is what lets an AWS node lead or join.
    cluster_ips = mesh_ips if mode == "mesh" else {}
    probes = probe_configured(run, nodes, configured, cluster_ips)
    acted = act(run, nodes, probes, configured, mode=mode, cluster_ips=cluster_ips)
    # addons: one read through one ready member, then only the difference.
    leader = acted.plan.leader.name if acted.plan.leader else None
    addons_done = converge_addons(run, leader, wanted_addons, yes=settings.yes)

    outcome = Outcome(
        nodes,
        planned.changes,
        acted.joined,
        acted.plan,
        acted.probes,
        acted.removed,
        run.outcomes.failed(),
        addons_done.enabled,
        addons_done.disabled,
    )
    report(
        ui,
        project,
        nodes,
        acted.probes,
        acted.plan,
        run.outcomes,
        configured,
        cluster_ips,
        more_problems=addons_done.problems,
    )
    return outcome


def _show_plan_and_scale_down(
    run: Run, planned: PlanRead, facts: ClusterFacts, mode: str, name: str
) -> None:
    """The plan section. When VMs go, it is the one `mck plan` prints, from a probe of today's
    nodes: removals must be decided before the apply (on a first run there is nothing to probe,
    so it is cheap), and leaving members go before their VMs, one at a time, through a
    remaining one. Otherwise joins are decided after configure by the probe that runs anyway:
    probing twice would cost every no-op converge a round trip per node."""
    ui, changes = run.ui, planned.changes
    if not (changes.destroyed or changes.replaced or not facts.source):
        for line in preview.tofu_lines(changes):
            ui.say(line)
        ui.say("cluster actions: decided after configure, from one probe of every node")
        return
    found = preview_cluster(run, planned, facts, mode, name=name)
    for line in preview.lines(found.shown):
        ui.say(line)
    scale_down = found.shown.scale_down
    if scale_down.refusal:
        raise UsageError(scale_down.refusal)
    if scale_down.removals:
        assert found.ansible is not None  # removals come from a probe, made through it
        names = ", ".join(r.node.name for r in scale_down.removals)
        ui.phase("scale-down", f"removing {names} from the cluster")
        remove_leaving(
            found.ansible,
            scale_down,
            ui,
            force=run.settings.force_drain,
            drain_timeout=run.settings.drain_timeout,
        )


def show_plan(settings: Settings, ui: Ui) -> PlanResult:
    """What a converge would do, changing nothing: no apply, no playbook, no inventory write.
    The saved plan file is deleted again; the state is only read. A refusal (exit 2) is shown
    as the run's error line and returned with what was known by then, so `mck plan --json`
    prints it as a document too; any other failure raises."""
    known: dict[str, Any] = {}
    try:
        return _plan(settings, ui, known)
    except UsageError as exc:
        ui.error(exc.message)
        return PlanResult(**known, refusal=exc.message)


def _plan(settings: Settings, ui: Ui, known: dict[str, Any]) -> PlanResult:
    """show_plan's work; `known` gathers the result's fields as they are learnt."""
    project = settings.project.resolve()
    ui.phase("preflight", str(project))
    config = preflight(project, settings.env)
    mode = str(variable(project, config, settings.env, "encryption") or encryption.DEFAULT)
    name = cluster_name(project, config, settings.env)
    known.update(cluster=name, encryption=mode)
    wanted_addons = declared(project, variable(project, config, settings.env, "addons"))
    inventory = read_text(project / "inventory")
    run = Run.start(settings, ui, task_lines=False)
    state_dir = run.make_state_dir()
    private_files.before_run(project, state_dir, run_lock_held=False)
    ui.phase("plan", f"{run.tofu.name} plan")
    run.init_tofu()
    planfile = private_files.preview_plan(state_dir)  # per pid: `mck plan` takes no run lock
    try:
        planned = read_plan(run.tofu, planfile)
    finally:
        planfile.unlink(missing_ok=True)
    known.update(changes=planned.changes, infrastructure=planned.plan.changes)
    facts = cluster_facts.read(planned.facts_record, inventory)
    # `mck plan` refuses what `mck` refuses (mck/refusals.py).
    refusals.check_plan(
        planned.nodes,
        planned.changes,
        inventory,
        cluster_name=name,
        built=facts,
        stored_nodes=lambda: planned.stored or read_state_nodes(run.tofu).nodes,
    )
    encryption.check(mode, planned.nodes, previous=facts.encryption)
    pinned = versions.pinned_channel(project)
    found = preview_cluster(run, planned, facts, mode, name=name, pinned=pinned)
    shown = found.shown
    for line in preview.lines(shown):
        ui.say(line)
    managed = read_managed(project)
    addon_lines, addon_plan = preview_addons(found.ansible, found.reader, wanted_addons, managed)
    for line in addon_lines:
        ui.say(line)
    if shown.scale_down.refusal:
        ui.error(shown.scale_down.refusal)
    return PlanResult(
        **known,
        shown=shown,
        probed=found.ansible is not None,
        snaps=found.snaps,
        pinned=pinned,
        addons=addon_plan,
        refusal=shown.scale_down.refusal,
    )
