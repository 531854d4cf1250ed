"""A throwaway PostgreSQL 15 cluster for the `pg` state backend: real PostgreSQL, as a team would
share one, on a unix socket only (no TCP: `listen_addresses=''`).

The socket is a file in the cluster's temporary directory: unix sockets named by a path are
reached through the filesystem, which the lab's controller namespace shares (`ip netns exec`
changes the network namespace, not the files), so mck run there connects as it would anywhere.
The server runs as the `postgres` user (it refuses root: "root" execution of the PostgreSQL
server is not permitted), is started by this process and stopped by its PID with SIGINT
(PostgreSQL's "fast" shutdown), then SIGKILL if it has not gone.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

USER = "postgres"
STARTUP = 60.0  # seconds the server gets to accept connections
SHUTDOWN = 30.0


def server_bin() -> Path | None:
    """PostgreSQL's server binaries (`postgres` on PATH, e.g. /usr/local/bin, points there)."""
    found = shutil.which("postgres") or shutil.which("/usr/lib/postgresql/15/bin/postgres")
    return Path(os.path.realpath(found)).parent if found else None


@dataclass
class Postgres:
    root: Path  # the temporary directory: data in root/data, the socket in root
    proc: subprocess.Popen[bytes]

    @property
    def conn_str(self) -> str:
        """What `PG_CONN_STR` holds for the pg backend (lib/pq key=value form: host is the
        socket's directory; trust authentication on the socket, so no password)."""
        return f"host={self.root} user={USER} dbname=postgres sslmode=disable"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(SHUTDOWN)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start(bindir: Path) -> Postgres:
    """initdb a new cluster in a temporary directory and start its server on a unix socket."""
    account = pwd.getpwnam(USER)
    root = Path(tempfile.mkdtemp(prefix="mck-pg."))
    os.chown(root, account.pw_uid, account.pw_gid)
    as_postgres = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    subprocess.run(
        [bindir / "initdb", "-D", root / "data", "-U", USER, "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
        **as_postgres,  # type: ignore[arg-type]
    )
    with open(root / "server.log", "wb") as log:  # the server keeps its own descriptor
        proc = subprocess.Popen(
            [bindir / "postgres", "-D", root / "data", "-k", root, "-c", "listen_addresses="],
            stdout=subprocess.DEVNULL,
            stderr=log,
            **as_postgres,  # type: ignore[arg-type]
        )
    server = Postgres(root, proc)
    deadline = time.monotonic() + STARTUP
    while True:
        ready = subprocess.run(
            [bindir / "pg_isready", "-h", root, "-U", USER, "-q"], check=False
        ).returncode
        if ready == 0:
            return server
        if proc.poll() is not None or time.monotonic() > deadline:
            log = (root / "server.log").read_text(errors="replace")
            server.stop()
            raise RuntimeError(f"PostgreSQL did not start: {log[-2000:]}")
        time.sleep(0.2)


def psql(server: Postgres, bindir: Path, sql: str) -> str:
    """One query's unaligned rows (the test's view of the locks the backend holds)."""
    return subprocess.run(
        [bindir / "psql", "-h", server.root, "-U", USER, "-d", "postgres", "-Atc", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
