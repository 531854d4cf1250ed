"""Starting, stopping and asking the node daemon (what snapd's service management does).

The daemon is started detached (own session, no inherited stdio, so an SSH session running
`snap install` or `microk8s start` is not held open) and lives in the host's PID namespace.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import dqlite, local_api, paths

DAEMON_SCRIPT = Path(__file__).resolve().parent.parent / "microk8sd.py"
WARMUP_ENV = "MK8S_WARMUP_SECONDS"  # how long the started daemon's API server takes to come up


def pid() -> int | None:
    """The daemon's pid if it is alive (a zombie or a recycled pid does not count)."""
    try:
        value = int(paths.daemon_pidfile().read_text().strip())
        stat = Path(f"/proc/{value}/stat").read_text()
        cmdline = Path(f"/proc/{value}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    state = stat.rsplit(")", 1)[1].split()[0]
    if state in ("Z", "X") or b"microk8sd.py" not in cmdline:
        return None
    return value


def start(wait: float = 20.0, warmup: float | None = None) -> None:
    """Start the daemon; return once it answers (not once it is ready). `warmup`: seconds its
    API server takes to come up (the daemon's own short default when None)."""
    if pid() is not None:
        return
    log = paths.daemon_log()
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        subprocess.Popen(
            [sys.executable, str(DAEMON_SCRIPT)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
            close_fds=True,
            cwd="/",
            env={
                **os.environ,
                "SNAP_DATA": str(paths.snap_data()),
                "SNAP_COMMON": str(paths.snap_common()),
                **({} if warmup is None else {WARMUP_ENV: f"{warmup:.3f}"}),
            },
        )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if status() is not None:
            return
        time.sleep(0.05)
    raise RuntimeError(f"the microk8s daemon did not start; see {log}")


# How long snapd lets a service stop before systemd kills it: microk8s' snap.yaml sets no
# stop-timeout, so snapd's default applies (canonical/snapd timeout/timeout.go DefaultTimeout,
# 30 s; wrappers/services.go serviceStopTimeout writes it as TimeoutStopSec). A deadline, not a
# modelled wait: MCK_LAB_TIME_SCALE does not shorten it.
SNAPD_STOP_TIMEOUT = 30.0


def stop(wait: float = SNAPD_STOP_TIMEOUT) -> None:
    value = pid()
    if value is None:
        return
    os.kill(value, signal.SIGTERM)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and pid() is not None:
        time.sleep(0.05)
    if pid() is not None:
        # systemd's default KillMode=control-group: SIGKILL to every process of the unit, so
        # the k8s-dqlite node the daemon started dies with it rather than outliving it.
        os.kill(value, signal.SIGKILL)
        dqlite.kill_leftover()
        time.sleep(0.1)
    paths.daemon_pidfile().unlink(missing_ok=True)
    paths.daemon_socket().unlink(missing_ok=True)


def ask(route: str, body: Any = None, timeout: float = 30.0) -> tuple[int, Any] | None:
    """A request to the local daemon; None when it is not running."""
    if pid() is None:
        return None
    try:
        return local_api.ask(paths.daemon_socket(), route, body, timeout=timeout)
    except OSError:
        return None


def status(*, fresh: bool = False) -> dict[str, Any] | None:
    """The daemon's view; `fresh` has it ask dqlite now rather than answer from its last look."""
    answer = ask("refresh" if fresh else "status", timeout=15.0 if fresh else 5.0)
    if answer is None or answer[0] != 200:
        return None
    result: dict[str, Any] = answer[1]
    return result


def wait_ready(timeout: float) -> bool:
    """Poll until ready; timeout 0 waits forever (status.py wait_for_ready)."""
    deadline = time.monotonic() + timeout
    while True:
        current = status()
        if current is not None and current["ready"]:
            return True
        if timeout and time.monotonic() > deadline:
            return False
        time.sleep(0.2)
