"""What the node keeps: local files, and the cluster state every member shares in dqlite.

Local (under the backend directory's parent, one file lock shared by the daemon and the CLI):
- standin-local.json {"dqlite_error", "cluster_id"}: why k8s-dqlite could not start (what its
  log would say) and which cluster this node serves (a worker has no dqlite to ask).
- standin-seed.json: the shared state a fresh datastore starts with (init_cluster's one Node
  and the launch configuration's addons); the daemon writes it into dqlite once the node runs.
The node's dqlite identity is go-dqlite's own info.yaml / init.yaml / update.yaml.

Shared, in dqlite (table standin_state, row "cluster"): {"cluster_id", "nodes", "addons",
"felix", "calico_node"}, what the API server stores. A change reads the row and writes it back
only if its revision did not move meanwhile (resourceVersion-style), so every write goes
through the dqlite leader and needs quorum.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from . import dqlite, paths, workloads

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS standin_state"
    " (name TEXT PRIMARY KEY, doc TEXT NOT NULL, rev INTEGER NOT NULL)"
)
WRITE_ATTEMPTS = 8

_thread_lock = threading.RLock()
_depth = threading.local()


@contextlib.contextmanager
def locked() -> Iterator[None]:
    """Exclusive access to the local files across threads and processes (re-entrant)."""
    with _thread_lock:
        depth = getattr(_depth, "n", 0)
        if depth:
            _depth.n = depth + 1
            try:
                yield
            finally:
                _depth.n -= 1
            return
        paths.backend().parent.mkdir(parents=True, exist_ok=True)
        with open(paths.backend().parent / ".standin-state.lock", "a") as fp:
            fcntl.flock(fp, fcntl.LOCK_EX)
            _depth.n = 1
            try:
                yield
            finally:
                _depth.n = 0
                fcntl.flock(fp, fcntl.LOCK_UN)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


def local_path() -> Path:
    return paths.backend().parent / "standin-local.json"


def seed_path() -> Path:
    return paths.backend().parent / "standin-seed.json"


def load_local() -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(local_path().read_text())
    except (OSError, ValueError):
        data = {}
    return {"dqlite_error": None, "cluster_id": "", **data}


def save_local(local: dict[str, Any]) -> None:
    _write_json(local_path(), local)


def set_local(**values: Any) -> None:
    with locked():
        save_local({**load_local(), **values})


def _yaml_address(path: Path) -> str | None:
    try:
        match = re.search(r"^Address:\s*(\S+)\s*$", path.read_text(), re.MULTILINE)
    except OSError:
        return None
    return match.group(1).strip("\"'") if match else None


def address() -> str:
    """This node's dqlite address: pending update.yaml, else info.yaml, else init.yaml."""
    backend = paths.backend()
    for name in ("update.yaml", "info.yaml", "init.yaml"):
        found = _yaml_address(backend / name)
        if found:
            return found
    return "127.0.0.1:19001"


def fresh_shared(node: dict[str, Any], addons: list[str]) -> dict[str, Any]:
    """The shared state of a one-node cluster, the way init_cluster / leave's reinit leave it:
    with the workloads microk8s applies at install (workloads.py)."""
    fresh = {"cluster_id": secrets.token_hex(8), "nodes": [node], "addons": sorted(addons)}
    return workloads.reconcile(fresh)


def write_seed(shared: dict[str, Any]) -> None:
    _write_json(seed_path(), shared)
    set_local(cluster_id=shared["cluster_id"])


def plant_seed(timeout: float) -> None:
    """Write a pending seed into dqlite (once: an existing row wins) and forget it."""
    path = seed_path()
    if not path.is_file():
        return
    doc = path.read_text()
    dqlite.execute(
        [
            (SCHEMA, []),
            (
                "INSERT OR IGNORE INTO standin_state (name, doc, rev) VALUES ('cluster', ?, 1)",
                [doc],
            ),
        ],
        timeout,
    )
    path.unlink(missing_ok=True)


def load_shared(timeout: float = 5.0) -> tuple[dict[str, Any], int]:
    """(shared state, revision) as the dqlite leader has it; raises dqlite.Unavailable."""
    rows = dqlite.query("SELECT doc, rev FROM standin_state WHERE name = 'cluster'", [], timeout)
    if not rows:
        raise dqlite.Unavailable("the cluster state is not in dqlite yet")
    shared: dict[str, Any] = json.loads(rows[0][0])
    return shared, int(rows[0][1])


def update_shared(
    change: Callable[[dict[str, Any]], dict[str, Any]], timeout: float = 10.0
) -> tuple[dict[str, Any], int]:
    """Apply `change` to the shared state and commit it through the leader (optimistically)."""
    for attempt in range(WRITE_ATTEMPTS):
        current, rev = load_shared(timeout)
        new = change(current)
        affected = dqlite.execute(
            [
                (
                    "UPDATE standin_state SET doc = ?, rev = rev + 1"
                    " WHERE name = 'cluster' AND rev = ?",
                    [json.dumps(new, sort_keys=True), rev],
                )
            ],
            timeout,
        )
        if affected == [1]:
            return new, rev + 1
        time.sleep(0.05 * (attempt + 1))  # someone else wrote first: read again
    raise dqlite.Unavailable("the cluster state kept changing under this write")


def node_entry(
    name: str, internal_ip: str, agent: str, version: str, *, worker: bool
) -> dict[str, Any]:
    return {
        "name": name,
        "internal_ip": internal_ip,
        "agent": agent,
        "version": version,
        "worker": worker,
        "created": time.time(),
    }


def find_node(shared: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((n for n in shared["nodes"] if n["name"] == name), None)
