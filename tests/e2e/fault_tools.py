"""What the fault scenarios (tests/e2e/test_safe_faults.py) share: starting mck in the lab's
controller namespace as a process of its own, waiting for a line of its progress, finding mck's
own pid, and looking for credentials in files and in the process table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.harness import Project

TOKENS = ("lab-do-token", "lab-linode-token", "lab-aws-access", "lab-aws-secret")


def start(project: Project, *args: str, **popen: object) -> subprocess.Popen[str]:
    """mck, in a session of its own (a test may kill its whole process group)."""
    argv = project.lab.ctl_argv([sys.executable, "-m", "mck", "-C", str(project.path), *args])
    options: dict[str, object] = {
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.PIPE,
        **popen,
    }
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        argv,
        cwd=project.path,
        env=project.env,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        **options,
    )


def wait_for(proc: subprocess.Popen[str], needle: str, seen: list[str], timeout: float) -> None:
    """Read mck's stderr (or what it was redirected to) until a line holds `needle`."""
    stream = proc.stderr or proc.stdout
    assert stream is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return
    raise AssertionError(f"{needle!r} never came:\n{''.join(seen)}")


def holder_pid(project: Project) -> int:
    """mck's own pid (the Popen is `ip netns exec`'s), from the run lock it holds."""
    return int(json.loads((project.path / ".mck" / "run.lock").read_text())["pid"])


def tmp(project: Project) -> Path:
    return Path(project.env["TMPDIR"])


def runner_dirs(project: Project, pid: int) -> list[Path]:
    return sorted(tmp(project).glob(f"mck-runner-{pid}-*"))


def files_with_tokens(*roots: Path, tokens: tuple[str, ...] = TOKENS) -> list[str]:
    found = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                try:
                    data = path.read_bytes()
                except OSError:
                    continue
                found += [f"{path}: {t}" for t in tokens if t.encode() in data]
    return found


def processes_with_tokens(project: Project) -> list[str]:
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


def vm_processes(vm_pid: int) -> list[list[str]]:
    """Argument lists of the processes of the VM whose PID 1 is `vm_pid`: the machine sees them
    all, the VM's PID namespace being a child of ours."""
    vm_ns = os.readlink(f"/proc/{vm_pid}/ns/pid")
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if os.readlink(proc / "ns" / "pid") == vm_ns:
                found.append((proc / "cmdline").read_bytes().decode(errors="replace").split("\0"))
        except OSError:
            continue
    return found
