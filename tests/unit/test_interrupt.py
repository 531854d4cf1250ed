"""^C and SIGTERM while a child tool runs: the tool is interrupted once and allowed to finish
cleanly (an apply saves its state), then mck stops with KeyboardInterrupt (exit 130 in the
CLI). Real terraform and a real ansible-playbook, in a child process that gets the signals."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from mck.tofu import Tofu

TERRAFORM = shutil.which("terraform") or "/usr/local/bin/terraform"

# `first` is created at once; `second` takes 20 s (its provisioner), so the apply is surely
# still running when the signals come.
SLOW_APPLY = """
resource "terraform_data" "first" {
  input = "one"
}
resource "terraform_data" "second" {
  depends_on = [terraform_data.first]
  provisioner "local-exec" {
    command = "sleep 20"
  }
}
"""

# Runs mck's Tofu.apply as the CLI would: SIGTERM acts like ^C; KeyboardInterrupt -> 130.
APPLY_CHILD = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from mck import interrupt
    from mck.tofu import Tofu
    interrupt.raise_on_sigterm()
    project = Path(sys.argv[2])
    tofu = Tofu(sys.argv[1], project, dict(os.environ), echo=lambda l: print(l, flush=True))
    try:
        tofu.apply(project / "converge.tfplan")
    except KeyboardInterrupt:
        print("mck: interrupted", flush=True)
        sys.exit(130)
    """
)


def _read_until(proc: subprocess.Popen[str], needle: str, timeout: float = 60) -> list[str]:
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line.rstrip("\n"))
        if needle in line:
            return seen
    raise AssertionError(f"{needle!r} never came: {seen}")


@pytest.mark.skipif(not Path(TERRAFORM).exists(), reason="needs terraform")
def test_sigterm_then_sigint_during_apply_reach_terraform_once_and_the_state_is_saved(
    tmp_path: Path,
) -> None:
    (tmp_path / "main.tf").write_text(SLOW_APPLY)
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    tofu = Tofu(TERRAFORM, tmp_path, env, echo=lambda _line: None)
    tofu.init()
    assert tofu.plan(tmp_path / "converge.tfplan").changes
    child = subprocess.Popen(
        [sys.executable, "-c", APPLY_CHILD, TERRAFORM, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        seen = _read_until(child, "terraform_data.second: Provisioning with 'local-exec'")
        child.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        child.send_signal(signal.SIGINT)  # a second one, as an impatient user gives
        out, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    output = "\n".join(seen) + "\n" + out
    assert child.returncode == 130, output
    assert "Interrupt received" in output  # terraform got one interrupt and stopped gracefully
    assert "Two interrupts received" not in output  # and never a second
    assert output.rstrip().endswith("mck: interrupted")  # only after terraform had finished
    state = json.loads((tmp_path / "terraform.tfstate").read_text())
    assert "first" in [r["name"] for r in state["resources"]]  # the apply saved its state


SLOW_PLAY = """\
- name: A task that outlasts the test's patience
  hosts: all
  gather_facts: false
  tasks:
    - name: Say it started
      ansible.builtin.debug:
        msg: started
    - name: Sleep
      ansible.builtin.command: sleep 60
"""

PLAY_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from mck import interrupt
    from mck.ansible import Ansible
    interrupt.raise_on_sigterm()
    def show(event):
        task = event.get("event_data", {}).get("task")
        if task == "Sleep" and event.get("event") == "playbook_on_task_start":
            print("sleeping", flush=True)
    project = Path(sys.argv[1])
    try:
        ansible = Ansible(project, echo=lambda _t: None, progress=show)
        result = ansible.playbook(project / "play.yml")
        print(f"returned {result.status}", flush=True)
    except KeyboardInterrupt:
        print("mck: interrupted", flush=True)
        sys.exit(130)
    """
)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_a_playbook_cancels_it_and_interrupts_mck(
    tmp_path: Path, signum: int
) -> None:
    """Not "ansible-runner canceled, rc 254" as a failure: ansible is stopped, its private dir
    removed, and mck is interrupted."""
    (tmp_path / "inventory").write_text(
        f"[all]\nlocalhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    )
    (tmp_path / "ansible.cfg").write_text("[defaults]\nretry_files_enabled = false\n")
    (tmp_path / "play.yml").write_text(SLOW_PLAY)
    child = subprocess.Popen(
        [sys.executable, "-c", PLAY_CHILD, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _read_until(child, "sleeping")
        started = time.monotonic()
        child.send_signal(signum)
        out, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, out
    assert out.strip().splitlines()[-1] == "mck: interrupted"
    assert time.monotonic() - started < 15  # ansible-runner polls the callback every 5 s
    leftovers = list(Path(tempfile.gettempdir()).glob(f"mck-runner-{child.pid}-*"))
    assert leftovers == []


ORPHAN_CHILD = textwrap.dedent(
    """
    import subprocess, time
    from mck import interrupt
    sleeper = subprocess.Popen(
        ["sleep", "60"], start_new_session=True, preexec_fn=interrupt.die_with_this_process()
    )
    print(sleeper.pid, flush=True)
    time.sleep(60)
    """
)


def test_a_child_started_to_die_with_mck_does_not_outlive_a_sigkill() -> None:
    """ansible runs in a session of its own with SIGHUP ignored: only the kernel's parent-death
    signal ends it when mck is killed."""
    mck = subprocess.Popen([sys.executable, "-c", ORPHAN_CHILD], stdout=subprocess.PIPE, text=True)
    assert mck.stdout is not None
    sleeper = int(mck.stdout.readline())
    mck.send_signal(signal.SIGKILL)
    mck.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(sleeper):
        time.sleep(0.1)
    alive = _alive(sleeper)
    if alive:
        os.kill(sleeper, signal.SIGKILL)
    assert not alive


def _alive(pid: int) -> bool:
    """Running (a zombie, dead and waiting for init to reap it, is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_ctrl_c_at_the_destroy_prompt_is_an_interrupt_not_a_failure(tmp_path: Path) -> None:
    import pexpect

    child = pexpect.spawn(
        sys.executable, ["-m", "mck", "-C", str(tmp_path), "--destroy"], encoding="utf-8"
    )
    child.expect("Destroy every VM in .* and remove its inventory\\? \\[y/N\\]: ", timeout=30)
    child.sendintr()  # ^C, as the terminal sends it
    child.expect(pexpect.EOF, timeout=30)
    child.close()
    assert child.exitstatus == 130, child.before
    assert "error: interrupted: nothing destroyed" in str(child.before)
    assert "Aborted!" not in str(child.before)
