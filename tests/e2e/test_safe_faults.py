"""Nothing lost, nothing leaked, on the lab: a second converge refused by the run lock, ^C
during configure, a SIGKILL during configure, and what each leaves behind: no credential in the
project, in $TMPDIR, on any command line or in ansible's environment, during or after the run;
a re-run completes and removes what the killed run left.

One one-node project, scenarios in order (each re-run builds on the last): lean on purpose.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Project

pytestmark = pytest.mark.lab

TOKENS = ("lab-do-token", "lab-linode-token", "lab-aws-access", "lab-aws-secret")


@pytest.fixture(scope="module")
def project(make_project: Any) -> Project:
    project: Project = make_project(digitalocean=1)
    # mck's $TMPDIR is this project's own: what is found there is this test's, not another run's.
    tmp = project.path.parent / "tmp"
    tmp.mkdir()
    project.env["TMPDIR"] = str(tmp)
    return project


def _tmp(project: Project) -> Path:
    return Path(project.env["TMPDIR"])


def _start(project: Project, *args: str) -> subprocess.Popen[str]:
    argv = project.lab.ctl_argv([*_python_m_mck(project), *args])
    return subprocess.Popen(
        argv,
        cwd=project.path,
        env=project.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _python_m_mck(project: Project) -> list[str]:
    import sys

    return [sys.executable, "-m", "mck", "-C", str(project.path)]


def _wait_for(proc: subprocess.Popen[str], needle: str, seen: list[str], timeout: float) -> None:
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return
    raise AssertionError(f"{needle!r} never came:\n{''.join(seen)}")


def _holder_pid(project: Project) -> int:
    """mck's own pid (the Popen is `ip netns exec`'s), from the run lock it holds."""
    return int(json.loads((project.path / ".mck" / "run.lock").read_text())["pid"])


def _files_with_tokens(*roots: Path) -> list[str]:
    found = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                try:
                    data = path.read_bytes()
                except OSError:
                    continue
                found += [f"{path}: {t}" for t in TOKENS if t.encode() in data]
    return found


def _processes_with_tokens(project: Project) -> list[str]:
    """Command lines of every process, and the environment of every process this project's runs
    started (ansible, ssh masters that outlive it: their environment names this project's own
    $TMPDIR; mck's and tofu's are left out, as they hold the credentials by design). Processes of
    other runs on this machine are not this test's business."""
    marker = f"TMPDIR={project.env['TMPDIR']}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        found += [f"{proc.name} args: {t}" for t in TOKENS if t.encode() in cmdline]
        ours = marker in environ.split(b"\0")
        ours_but_tools = ours and b"-m\0mck" not in cmdline and b"terraform" not in cmdline
        if ours_but_tools:
            found += [f"{proc.name} env: {t}" for t in TOKENS if t.encode() in environ]
    return found


def _runner_dirs(project: Project, pid: int) -> list[Path]:
    return sorted(_tmp(project).glob(f"mck-runner-{pid}-*"))


def test_a_second_converge_is_refused_and_sigint_during_configure_exits_130(
    project: Project,
) -> None:
    first = _start(project)
    seen: list[str] = []
    try:
        _wait_for(first, "==> configure", seen, timeout=600)
        pid = _holder_pid(project)
        second = project.mck()
        assert second.rc == 2, second.explain()
        refusal = second.stderr.strip().splitlines()[-1]
        assert refusal.startswith("error: another mck run is changing this project: ")
        assert f"pid {pid} (converge), started " in refusal
        time.sleep(2)  # ansible is at work now
        assert _runner_dirs(project, pid), "ansible-runner's private dir, while it runs"
        assert _files_with_tokens(project.path, _tmp(project)) == []
        assert _processes_with_tokens(project) == []
        os.kill(pid, signal.SIGINT)
        _, rest = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
    output = "".join(seen) + rest
    assert first.returncode == 130, output
    assert "error: interrupted" in output and "Traceback" not in output
    assert "ansible-runner canceled" not in output
    assert _runner_dirs(project, pid) == []
    assert not (project.path / ".mck" / "converge.tfplan").exists()
    run = project.mck()
    assert run.rc == 0, run.explain()


def test_after_a_sigkill_during_configure_nothing_leaks_and_a_rerun_cleans_up(
    project: Project,
) -> None:
    project.lab.host("mck-k8s-do-0")  # the node the first scenario made
    proc = _start(project)
    seen: list[str] = []
    try:
        _wait_for(proc, "==> configure", seen, timeout=600)
        pid = _holder_pid(project)
        time.sleep(2)
        os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    left = _runner_dirs(project, pid)
    assert left, "a SIGKILL runs no clean-up: the runner dir is left for the next run"
    assert _files_with_tokens(project.path, _tmp(project)) == []
    assert (os.stat(project.path / ".mck").st_mode & 0o777) == 0o700
    assert (os.stat(project.path / "terraform.tfstate").st_mode & 0o777) == 0o600
    run = project.mck()
    assert run.rc == 0, run.explain()
    assert [p for p in left if p.exists()] == []  # removed: its pid is dead
    assert _files_with_tokens(project.path, _tmp(project)) == []
    assert _processes_with_tokens(project) == []


def test_sigint_during_the_apply_saves_the_state_and_a_rerun_completes(project: Project) -> None:
    """OpenTofu gets one interrupt, finishes what is in flight and writes its state; mck exits
    130 once it has; the re-run finds a readable, unlocked state and completes the grow."""
    project.set_counts(digitalocean=2)
    proc = _start(project)
    seen: list[str] = []
    try:
        _wait_for(proc, "==> provision", seen, timeout=600)
        os.kill(_holder_pid(project), signal.SIGINT)
        _, rest = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = "".join(seen) + rest
    assert proc.returncode == 130, output
    assert "Two interrupts received" not in output and "Traceback" not in output
    assert "error: interrupted" in output
    assert project.state()["format_version"]  # readable, and no lock left held
    assert list((project.path / ".mck").glob("*.tfplan")) == []
    run = project.mck()
    assert run.rc == 0, run.explain()
    assert "mck-k8s-do-1" in project.inventory()
