"""The stand-in's API server on loopback for tests that run the real kubectl against it:
real certificates made the way the stand-in's install makes them, a real TLS listener, the
admin kubeconfig, and the real router and controllers over an in-memory copy of the shared
state (what dqlite holds on a lab VM; the lab tests cover the dqlite side)."""

from __future__ import annotations

import copy
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mk8s import apiserver, paths, store, workloads

KUBECTL = "/usr/bin/kubectl"


class MemoryBackend:
    """The daemon's backend contract (api_router.Backend) over a dict instead of dqlite."""

    def __init__(self, nodes: list[dict[str, Any]], addons: list[str]) -> None:
        self.shared = store.fresh_shared(nodes[0], addons)
        self.shared["nodes"] += nodes[1:]
        self.shared = workloads.reconcile(self.shared)
        self.ready: dict[str, bool] = {n["name"]: True for n in nodes}
        self.quorum = True
        self.lock = threading.Lock()

    def read(self) -> dict[str, Any]:
        nodes = [{**n, "ready": self.ready.get(n["name"], False)} for n in self.shared["nodes"]]
        return {
            "dqlite_ok": self.quorum,
            "shared": self.shared,
            "rev": 1,
            "nodes": nodes,
            "version": "v1.32.9",
            "address": "127.0.0.1:16443",
        }

    def commit(self, fn: Callable[[dict[str, Any]], Any]) -> Any:
        from mk8s import api_meta

        if not self.quorum:
            raise api_meta.unavailable()
        with self.lock:
            new = copy.deepcopy(self.shared)
            result = fn(new)
            self.shared = workloads.reconcile(new)
            return result


def node(name: str, ip: str, age: float = 60.0) -> dict[str, Any]:
    entry = store.node_entry(name, ip, f"{ip}:25000", "v1.32.9", worker=False)
    entry["created"] = time.time() - age
    return entry


def serve(backend: MemoryBackend) -> Any:
    return apiserver.serve("127.0.0.1", 0, backend)


def kubeconfig(tmp: Path, port: int, host: str = "127.0.0.1") -> Path:
    text = paths.credentials("client.config").read_text().replace("16443", str(port))
    path = tmp / f"config-{host}"
    path.write_text(text.replace("127.0.0.1", host))
    return path


def kubectl(config: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real kubectl, with its discovery cache under the test's own directory."""
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PATH": "/usr/bin:/bin", "HOME": str(config.parent)},
    )
