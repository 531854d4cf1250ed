"""The node's k8s-dqlite: the lab's real dqlite node (tests/standins/dqlite) and its control socket.

The daemon runs `mck-dqlite-node` as a child, the way snapd runs k8s-dqlite next to kubelite:
started on the backend directory (init.yaml / update.yaml / failure-domain / cluster.crt are
read there, as canonical/k8s-dqlite pkg/server/server.go reads them), stopped with SIGTERM
(hand-over, then close). Everything about membership, roles, the leader and quorum is asked of
that node; nothing here decides any of it.

Timing: go-dqlite's leader adjusts roles every 30 s (app.WithRolesAdjustmentFrequency's
default). MCK_LAB_TIME_SCALE (float, default 1.0) scales that period, never removes it.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from . import paths, timescale

ROLES_ADJUSTMENT_SECONDS = 30.0  # go-dqlite app: defaultOptions().RolesAdjustmentFrequency
VOTER, STANDBY, SPARE = 0, 1, 2
ROLE_NAMES = {VOTER: "voter", STANDBY: "standby", SPARE: "spare"}
NODE_BINARY = Path(__file__).resolve().parents[2] / "dqlite" / "bin" / "mck-dqlite-node"


class Unavailable(Exception):
    """dqlite could not answer: not running, no leader (quorum lost), or the query failed."""


def control_socket() -> Path:
    return paths.run_dir() / "k8s-dqlite.sock"


def log_path() -> Path:
    return paths.snap_common() / "var" / "log" / "k8s-dqlite.log"


class Node:
    """The running dqlite node process (one per daemon)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, wait: float = 30.0) -> str | None:
        """Start on the backend directory; None once it answers, else why it could not start."""
        self.stop()
        _stop_leftover()
        if not NODE_BINARY.is_file():
            return f"{NODE_BINARY} is missing: run scripts/install to build the lab dqlite node"
        control_socket().unlink(missing_ok=True)
        log = log_path()
        log.parent.mkdir(parents=True, exist_ok=True)
        start_offset = log.stat().st_size if log.exists() else 0
        frequency = timescale.scaled(ROLES_ADJUSTMENT_SECONDS)
        argv = [
            str(NODE_BINARY), "--dir", str(paths.backend()), "--control", str(control_socket()),
            f"--roles-adjustment-frequency={frequency:.3f}s",
        ]  # fmt: skip
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                cwd="/",
            )
        pidfile().write_text(f"{self.process.pid}\n")
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not self.running():
                return _last_error(log, start_offset) or "k8s-dqlite exited"
            if control_socket().exists():
                return None
            time.sleep(0.05)
        return "k8s-dqlite did not start in time"

    def stop(self, wait: float = 40.0) -> None:
        """SIGTERM: go-dqlite hands leadership and its vote over, then closes."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(wait)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        control_socket().unlink(missing_ok=True)


def pidfile() -> Path:
    return paths.run_dir() / "k8s-dqlite.pid"


def _leftover_pid() -> int | None:
    try:
        pid = int(pidfile().read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if NODE_BINARY.name.encode() in cmdline else None


def _stop_leftover() -> None:
    """A node left running by a daemon that was killed (snapd would stop its service too):
    SIGTERM, then SIGKILL at snapd's stop timeout, before a new node takes its port."""
    pid = _leftover_pid()
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    kill_leftover()


def kill_leftover() -> None:
    """SIGKILL the node the daemon started, if it still runs (systemd killing the unit)."""
    pid = _leftover_pid()
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def _last_error(log: Path, offset: int) -> str | None:
    try:
        with open(log, "rb") as fp:
            fp.seek(offset)
            lines = fp.read().decode(errors="replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        if line.startswith("mck-dqlite-node: "):
            return line.removeprefix("mck-dqlite-node: ")
    return None


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(str(self.path))
        self.sock = sock


def call(method: str, route: str, body: Any = None, timeout: float = 5.0) -> Any:
    """One request to the local node's control socket; raises Unavailable on any failure."""
    conn = _UnixConnection(control_socket(), timeout + 2)
    data = json.dumps(body).encode() if body is not None else None
    try:
        conn.request(method, f"{route}?timeout={timeout}", data)
        response = conn.getresponse()
        raw = response.read()
    except OSError as err:
        raise Unavailable(f"k8s-dqlite is not answering: {err}") from err
    finally:
        conn.close()
    try:
        answer = json.loads(raw) if raw else {}
    except ValueError as err:
        raise Unavailable(f"k8s-dqlite answered {raw[:200]!r}") from err
    if response.status != 200:
        raise Unavailable(str(answer.get("error", answer)))
    return answer


def cluster(timeout: float = 5.0) -> tuple[str, list[dict[str, Any]]]:
    """(leader address, members as {address, id, role}) as the leader reports them."""
    answer = call("GET", "/cluster", timeout=timeout)
    members = [
        {"address": m["Address"], "id": int(m["ID"]), "role": int(m["Role"])}
        for m in answer["members"]
    ]
    return str(answer["leader"]), members


def execute(statements: list[tuple[str, list[Any]]], timeout: float = 10.0) -> list[int]:
    """Run statements in one transaction through the leader; rows affected by each."""
    body = {"statements": [{"sql": sql, "args": args} for sql, args in statements]}
    return [int(n) for n in call("POST", "/exec", body, timeout)["rows_affected"]]


def query(sql: str, args: list[Any], timeout: float = 5.0) -> list[list[Any]]:
    rows: list[list[Any]] = call("POST", "/query", {"sql": sql, "args": args}, timeout)["rows"]
    return rows


def remove(address: str, timeout: float = 10.0) -> None:
    """`dqlite .remove ADDRESS` through the leader."""
    call("POST", "/remove", {"address": address}, timeout)


def shell(
    servers: list[str], command: str, timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """The real `dqlite` shell (Debian's go-dqlite), as microk8s' wrappers run $SNAP/bin/dqlite."""
    backend = paths.backend()
    argv = [
        "dqlite", "-s", ",".join(servers), "-c", str(backend / "cluster.crt"),
        "-k", str(backend / "cluster.key"), "-f", "json", "k8s", command,
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
