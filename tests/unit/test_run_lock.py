"""The run lock: a second changing run is refused at once, naming the holder; the lock dies with
the process that held it, however it ended."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mck import run_lock
from mck.errors import EXIT_USAGE, UsageError

_HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mck import run_lock
    held = run_lock.acquire(Path(sys.argv[1]), "converge")
    print("held", flush=True)
    time.sleep(60)
    """
)


def _hold_in_child(state_dir: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(state_dir)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "held"
    return child


def test_second_run_is_refused_naming_the_holder_then_the_lock_dies_with_it(
    tmp_path: Path,
) -> None:
    state_dir = tmp_path / ".mck"
    child = _hold_in_child(state_dir)
    try:
        with pytest.raises(UsageError) as refused:
            run_lock.acquire(state_dir, "destroy")
        assert refused.value.exit_code == EXIT_USAGE
        assert f"pid {child.pid} (converge), started 20" in refused.value.message
        assert "wait for it to finish" in refused.value.message
    finally:
        child.send_signal(signal.SIGKILL)  # no clean-up code runs: the kernel drops the flock
        child.wait()
    held = run_lock.acquire(state_dir, "destroy")
    try:
        assert f'"pid": {os.getpid()}' in (state_dir / run_lock.LOCK_FILE).read_text()
        assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE((state_dir / run_lock.LOCK_FILE).stat().st_mode) == 0o600
    finally:
        held.release()


def test_released_lock_can_be_taken_again_in_the_same_process(tmp_path: Path) -> None:
    first = run_lock.acquire(tmp_path, "converge")
    first.release()
    second = run_lock.acquire(tmp_path, "converge")
    second.release()


def test_the_cli_refuses_a_second_converge_with_exit_2(tmp_path: Path) -> None:
    """Through the command line, as a user sees it: one error line naming the holder, exit 2,
    and the held run's files untouched."""
    project = tmp_path / "project"
    (project / "templates").mkdir(parents=True)
    (project / "templates" / "inventory.j2").write_text("")
    (project / "main.yml").write_text("---\n")
    (project / "a.tf").write_text('variable "x" {\n  default = 1\n}\n')
    child = _hold_in_child(project / ".mck")
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "mck", "-C", str(project)],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "MCK_TOFU": "/bin/true"},
            timeout=60,
        )
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert proc.returncode == EXIT_USAGE, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: another mck run is changing this project: ")
    assert f"pid {child.pid} (converge)" in last
