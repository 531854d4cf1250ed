"""The boot and configure phases: new VMs answer SSH and finish cloud-init, then the site
playbook (the one a user can run by hand) runs on every node that can take it. A node that
fails either (no answer, a failed task, microk8s not ready within the bounded wait) is
recorded and left out of what follows; only a run where no node got through stops here."""

from __future__ import annotations

from mck import boot, calico, versions
from mck.ansible import PlayResult
from mck.errors import MckError
from mck.nodes import Node
from mck.phases.context import Run
from mck.phases.outcomes import from_play, raise_for_failures
from mck.phases.probe import READY_TASK

# The microk8s role's variable for its readiness wait (roles/microk8s/defaults/main.yml).
READY_TIMEOUT_VAR = "microk8s_wait_ready_timeout"


def wait_for_boot(run: Run, nodes: list[Node], fresh: set[str]) -> None:
    """VMs the apply made answer SSH and finish cloud-init only some time after the cloud
    called them running. Only then is there anything to configure on them."""
    new_vms = [n.name for n in nodes if n.name in fresh]
    if not new_vms:
        return
    timeout = run.settings.boot_timeout
    run.ui.phase("boot", f"{len(new_vms)} new VMs: SSH, then cloud-init")
    for name, why in boot.wait_for_boot(run.ansible, new_vms, timeout, run.ui).items():
        run.outcomes.fail(
            name,
            "unreachable",
            f"not booted within {timeout} s: {why}; check it in the cloud's console "
            "(or give it longer with --boot-timeout)",
        )
    _stop_if_none_left(run, nodes)


def configure(run: Run, nodes: list[Node], mode: str) -> PlayResult:
    """main.yml on every node still in the run. The probe is its readiness wait's output;
    Calico's setting for the mode is read by one more play in the same run (one node, one
    command): no second ansible start-up, the same SSH masters."""
    reads_calico = mode in calico.SETTINGS
    targets = run.outcomes.healthy(nodes)
    timeout = run.settings.ready_timeout
    run.ui.phase(
        "configure",
        f"ansible-playbook main.yml on {len(targets)} nodes"
        + (", then a read of Calico's settings" if reads_calico else ""),
    )
    run.ui.say(f"each node's microk8s gets {timeout} s to report ready (--ready-timeout)")
    skipped = len(targets) < len(nodes)
    result = run.ansible.playbook(
        run.project / "main.yml",
        then=calico.READ if reads_calico else None,
        capture={READY_TASK, versions.CHECK_TASK, versions.INSTALL_TASK, *calico.READ_TASKS},
        extravars={READY_TIMEOUT_VAR: timeout},
        limit=",".join(n.name for n in targets) if skipped else None,
        show_output=True,
    )
    if not result.hosts or result.status in ("canceled", "timeout"):
        raise_for_failures(result, "main.yml")  # nothing ran on any node: nothing to go on with
    names = [n.name for n in targets]
    last = READY_TASK if any(READY_TASK in c for c in result.captured.values()) else None
    for outcome in from_play(result, names, last_task=last, ready_timeout=timeout).values():
        if not outcome.ok:
            run.outcomes.fail(outcome.name, outcome.kind, outcome.reason)
    _stop_if_none_left(run, nodes)
    run.ui.say("environment created.  follow-up configuration can be performed with:")
    run.ui.say("ansible-playbook main.yml -i inventory")
    return result


def _stop_if_none_left(run: Run, nodes: list[Node]) -> None:
    """Exit 1 when no node can go on: there is nothing to probe, join or report on."""
    if run.outcomes.healthy(nodes):
        return
    lines = "; ".join(o.line() for o in run.outcomes.failed())
    raise MckError(f"no node could be configured: {lines}")
