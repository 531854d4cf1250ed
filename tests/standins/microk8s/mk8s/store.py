"""The node's view of its cluster, kept in files under the dqlite backend directory.

Two JSON files (written atomically, under one file lock shared by the daemon and the CLI):
- standin-local.json: this node's own dqlite identity {"id", "address", "dqlite_error"}
  (real: backend/info.yaml, plus whatever k8s-dqlite's log would say when it cannot start).
- standin-cluster.json: the state every member shares {"cluster_id", "version", "members",
  "nodes", "addons"}: `members` is dqlite's node list (real: cluster.yaml / `dqlite .cluster`),
  `nodes` the Kubernetes Node objects, `addons` the cluster-wide enabled addons. The leader
  bumps `version` on every change and pushes the whole state to every member.
info.yaml and cluster.yaml are mirrored in go-dqlite's own format for anyone who looks.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import random
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import paths, roles

_thread_lock = threading.RLock()
_depth = threading.local()


@contextlib.contextmanager
def locked() -> Iterator[None]:
    """Exclusive access to the state files across threads and processes (re-entrant per thread)."""
    with _thread_lock:
        depth = getattr(_depth, "n", 0)
        if depth:
            _depth.n = depth + 1
            try:
                yield
            finally:
                _depth.n -= 1
            return
        paths.backend().mkdir(parents=True, exist_ok=True)
        with open(paths.backend().parent / ".standin-state.lock", "a") as fp:
            fcntl.flock(fp, fcntl.LOCK_EX)
            _depth.n = 1
            try:
                yield
            finally:
                _depth.n = 0
                fcntl.flock(fp, fcntl.LOCK_UN)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def local_path(directory: Path | None = None) -> Path:
    return (directory or paths.backend()) / "standin-local.json"


def cluster_path(directory: Path | None = None) -> Path:
    return (directory or paths.backend()) / "standin-cluster.json"


def load_local() -> dict[str, Any]:
    return _read_json(local_path())


def load_cluster() -> dict[str, Any]:
    return _read_json(cluster_path())


def save_local(local: dict[str, Any], directory: Path | None = None) -> None:
    directory = directory or paths.backend()
    _write_json(local_path(directory), local)
    role = 0
    if cluster_path(directory).exists():
        me = find_member(_read_json(cluster_path(directory)), local["address"])
        role = me["role"] if me else roles.SPARE
    (directory / "info.yaml").write_text(
        f"Address: {local['address']}\nID: {local['id']}\nRole: {role}\n"
    )


def save_cluster(cluster: dict[str, Any], directory: Path | None = None) -> None:
    directory = directory or paths.backend()
    _write_json(cluster_path(directory), cluster)
    lines = []
    for m in cluster["members"]:
        lines += [f"- Address: {m['address']}", f"  ID: {m['id']}", f"  Role: {m['role']}"]
    (directory / "cluster.yaml").write_text("\n".join(lines) + "\n")


def new_node_id() -> int:
    return random.getrandbits(63) or 1


def fresh_local(address: str = "127.0.0.1:19001") -> dict[str, Any]:
    return {"id": new_node_id(), "address": address, "dqlite_error": None}


def fresh_cluster(local: dict[str, Any], node: dict[str, Any], addons: list[str]) -> dict[str, Any]:
    """A one-node cluster around `local`, the way init_cluster / leave's reinit leave it."""
    return {
        "cluster_id": secrets.token_hex(8),
        "version": 1,
        "members": [{"address": local["address"], "id": local["id"], "role": roles.VOTER}],
        "nodes": [node],
        "addons": sorted(addons),
    }


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


def find_member(cluster: dict[str, Any], address: str) -> dict[str, Any] | None:
    return next((m for m in cluster["members"] if m["address"] == address), None)


def find_node(cluster: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((n for n in cluster["nodes"] if n["name"] == name), None)
