"""The boot step of a converge: new VMs answer SSH and finish cloud-init some time after the
cloud reports them active/running (OpenTofu's create returns then). Configuring them before
that fails with unreachable nodes, or races cloud-init. So after an apply that created or
replaced VMs, mck waits for those VMs, all at once, bounded by one setting, and names every
VM that never got there: the converge goes on without those. A converge that creates nothing
does not run this at all."""

from __future__ import annotations

from mck.ansible import PLAYBOOKS, Ansible, PlayResult
from mck.report import Ui

PLAYBOOK = PLAYBOOKS / "wait_boot.yml"
DEFAULT_TIMEOUT = 300  # seconds; `--boot-timeout` / MCK_BOOT_TIMEOUT
SSH_TASK = "Wait until the VM answers SSH"
CLOUD_INIT_TASK = "Wait until cloud-init is done"
# Ansible's message when a task's `timeout` ends it: 2.19's, and older ones'.
TIMED_OUT = ("Timed out after", "expected time frame")


def wait_for_boot(ansible: Ansible, names: list[str], timeout: int, ui: Ui) -> dict[str, str]:
    """Wait until every VM in `names` answers SSH and cloud-init is done; returns each VM that
    did not, with why (empty: all booted)."""
    ui.say(
        f"waiting for {', '.join(names)}: SSH, then cloud-init, all at once (at most {timeout} s)"
    )
    result = ansible.playbook(
        PLAYBOOK, limit=",".join(names), extravars={"mck_boot_timeout": timeout}
    )
    return boot_failures(result, names, timeout)


def boot_problems(result: PlayResult, names: list[str], timeout: int) -> list[str]:
    """One line per VM that did not finish booting (pure)."""
    return [f"{name}: {why}" for name, why in boot_failures(result, names, timeout).items()]


def boot_failures(result: PlayResult, names: list[str], timeout: int) -> dict[str, str]:
    """Each VM that did not finish booting, and why (pure: from the run's per-host results)."""
    problems: dict[str, str] = {}
    failed = {f.host: f for f in result.failures}
    for name in names:
        failure = failed.get(name)
        stats = result.hosts.get(name)
        if failure is None and stats is not None and not stats.unreachable:
            continue
        if failure is None:
            problems[name] = "did not answer"
        elif failure.task == SSH_TASK or (stats is not None and stats.unreachable):
            problems[name] = f"no SSH answer ({failure.message})"
        elif any(marker in failure.message for marker in TIMED_OUT):
            problems[name] = f"cloud-init still running after {timeout} s"
        else:
            problems[name] = (
                f"cloud-init reported an error ({failure.message}); "
                "`cloud-init status --long` on the VM says why"
            )
    return problems
