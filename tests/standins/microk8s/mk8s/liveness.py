"""Ready or NotReady: the other nodes' kubelets, seen through their cluster agents.

Every round the daemon pings each other node's agent (HTTPS /standin/v1/ping). A node is
Ready when its agent answers for our cluster and, for a control-plane node, its own dqlite is
a live member (its kubelet posts status through its own API server) and its kubelite is not
still coming up after a restart. A node counts as
NotReady only after PROBE_MISSES failed pings in a row, so one slow answer on a busy machine
does not flap it.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any

from . import store, wire

PROBE_TIMEOUT = 1.5
PROBE_MISSES = 2


class Liveness:
    def __init__(self, hostname: str) -> None:
        self.hostname = hostname
        self.ready: dict[str, bool] = {}
        self.misses: dict[str, int] = {}
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=16)

    def probe(self, shared: dict[str, Any] | None) -> None:
        if shared is None:
            return
        cluster_id = store.load_local().get("cluster_id", "")
        others = [n for n in shared["nodes"] if n["name"] != self.hostname]
        pings = {n["name"]: self.pool.submit(_ping, n["agent"]) for n in others}
        ready = {}
        for node in others:
            answer = pings[node["name"]].result()
            up = bool(answer and answer.get("cluster_id") == cluster_id)
            up = up and bool(node.get("worker") or (answer or {}).get("dqlite_ok"))
            up = up and bool((answer or {}).get("kubelet_ready", True))  # not while restarting
            ready[node["name"]] = self._debounced(node["name"], up)
        self.ready = ready

    def _debounced(self, key: str, up: bool) -> bool:
        if up:
            self.misses[key] = 0
            return True
        self.misses[key] = self.misses.get(key, PROBE_MISSES - 1) + 1
        return self.misses[key] < PROBE_MISSES


def _ping(address: str) -> dict[str, Any] | None:
    try:
        status, body = wire.call(
            address, "GET", "/standin/v1/ping", tls=True, timeout=PROBE_TIMEOUT
        )
    except Exception:  # unreachable, reset, TLS failure: all mean "no answer"
        return None
    return body if status == 200 and isinstance(body, dict) else None
