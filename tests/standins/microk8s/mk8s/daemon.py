"""The node daemon: one process standing in for kubelite and the cluster agent, running k8s-dqlite.

Listens where the real services do: the cluster agent on 0.0.0.0:<agent port> (HTTPS, join),
the API server on 0.0.0.0:16443 (HTTPS, client certificates, the Kubernetes API kubectl
uses: apiserver.py, api_router.py), and plain TCP on 0.0.0.0:10250 (kubelet) so firewall
tests can probe it. Its datastore is a real dqlite node (dqlite.py) on the node's dqlite
address (127.0.0.1:19001 until it clusters): membership, roles, the leader and quorum are
dqlite's, and the cluster state the API server keeps (Nodes, workloads, FelixConfiguration…)
lives in dqlite.
Every second it re-reads what dqlite reports, registers its own Node like a kubelet, and pings
the other nodes' agents to tell Ready from NotReady in `kubectl get nodes`.
"""

from __future__ import annotations

import copy
import errno
import os
import signal
import socket
import threading
import time
from typing import Any

from . import (
    agent,
    api_meta,
    apiserver,
    backend,
    calico_config,
    daemonset,
    dqlite,
    failure_domain,
    felix,
    identity,
    liveness,
    local_api,
    membership,
    paths,
    service,
    store,
    wire,
    workloads,
)

WARMUP_SECONDS = 0.5  # the real API server needs tens of seconds; this is long enough to be seen
PROBE_INTERVAL = 1.0
DQLITE_TIMEOUT = 6.0  # how long one look at dqlite may take before it counts as not answering
API_PORT = 16443
PLAIN_PORTS = (10250,)


def _go_listen_error(address: str, err: OSError) -> str:
    reason = {
        errno.EADDRNOTAVAIL: "cannot assign requested address",
        errno.EADDRINUSE: "address already in use",
    }.get(err.errno or 0, err.strerror or str(err))
    return f"listen tcp {address}: bind: {reason}"


def _empty_view() -> dict[str, Any]:
    return {"dqlite_ok": False, "leader": "", "members": [], "shared": None, "rev": 0}


class Daemon:
    def __init__(self) -> None:
        self.hostname = identity.hostname()
        # After a restart_all_services (mk8s/restart.py) kubelite takes its realistic time.
        self.warmup = float(os.environ.get(service.WARMUP_ENV, WARMUP_SECONDS))
        self.warm_until = time.monotonic() + self.warmup
        self.liveness = liveness.Liveness(self.hostname)
        self.stopping = threading.Event()
        self.servers: list[Any] = []
        self.dqlite = dqlite.Node()
        self.dqlite_lock = threading.RLock()
        self.view = _empty_view()
        # Read when the services (re)start, like kubelet's --node-ip.
        self.node_ip = identity.node_ip()

    # ---- lifecycle -------------------------------------------------------------------------

    def run(self) -> None:
        paths.run_dir().mkdir(parents=True, exist_ok=True)
        paths.daemon_pidfile().write_text(f"{os.getpid()}\n")
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        self.servers.append(
            wire.serve_https(
                "0.0.0.0",
                identity.agent_port(),
                agent.routes(self),
                paths.certs("server.crt"),
                paths.certs("server.key"),
            )
        )
        # kube-apiserver listens only once it has started: kubectl is refused until then.
        threading.Thread(target=self._serve_api_when_warm, daemon=True).start()
        for port in PLAIN_PORTS:
            self._listen_plain(port)
        # The local socket answering is how the CLI knows the daemon is up. Real `microk8s start`
        # returns once snapd started the services, not once k8s-dqlite answers (a just-joined
        # node can take tens of seconds to catch up), so the socket comes before dqlite.
        self.servers.append(local_api.serve(paths.daemon_socket(), self.local_routes()))
        self.start_dqlite()
        self.refresh()
        threading.Thread(target=self._monitor, daemon=True).start()
        self.stopping.wait()
        for server in self.servers:
            server.shutdown()
            server.server_close()
        self.stop_dqlite()
        paths.daemon_socket().unlink(missing_ok=True)
        paths.daemon_pidfile().unlink(missing_ok=True)

    def _serve_api_when_warm(self) -> None:
        if self.stopping.wait(max(0.0, self.warm_until - time.monotonic())):
            return
        self._serve_api()

    def _serve_api(self) -> None:
        try:
            self.servers.append(apiserver.serve("0.0.0.0", API_PORT, _ApiBackend(self)))
        except OSError as err:
            print(_go_listen_error(f"0.0.0.0:{API_PORT}", err), flush=True)

    def _listen_plain(self, port: int) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError as err:
            print(_go_listen_error(f"0.0.0.0:{port}", err), flush=True)
            sock.close()
            return
        sock.listen(16)

        def accept_loop() -> None:
            while True:
                try:
                    conn, _ = sock.accept()
                except OSError:
                    return
                conn.close()

        threading.Thread(target=accept_loop, daemon=True).start()

        class _Closer:
            def shutdown(self) -> None:
                sock.close()

            def server_close(self) -> None:
                pass

        self.servers.append(_Closer())

    # ---- k8s-dqlite --------------------------------------------------------------------------

    def start_dqlite(self, *, restart: bool = False) -> None:
        """(Re)start k8s-dqlite on the backend, unless this node is a worker (no-k8s-dqlite)."""
        with self.dqlite_lock:
            if paths.has_lock("no-k8s-dqlite"):
                self.dqlite.stop()
                store.set_local(dqlite_error=None)
                return
            pending = any((paths.backend() / f).exists() for f in ("init.yaml", "update.yaml"))
            if self.dqlite.running() and not (restart or pending):
                return
            failure_domain.at_start()  # run-kubelite-with-args copies args/ha-conf first
            error = self.dqlite.start()
            if error is not None:
                print(f"k8s-dqlite: {error}", flush=True)
            store.set_local(dqlite_error=error)

    def stop_dqlite(self) -> None:
        with self.dqlite_lock:
            self.dqlite.stop()
            self.view = _empty_view()

    def members(self) -> list[dict[str, Any]]:
        """The dqlite members as the leader reports them now; raises dqlite.Unavailable."""
        return dqlite.cluster(DQLITE_TIMEOUT)[1]

    def move_dqlite(self, ip: str) -> None:
        """UpdateDqliteIP: write update.yaml with the new address, restart k8s-dqlite."""
        port = store.address().rsplit(":", 1)[1]
        new = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
        (paths.backend() / "update.yaml").write_text(f"Address: {new}\n")
        self.start_dqlite(restart=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # WaitForDqliteCluster
            self.refresh()
            if self.view["dqlite_ok"]:
                break
            time.sleep(0.2)
        self.register_self()

    # ---- views -----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Look at dqlite: leader, members, the shared state (seeding it on a fresh node)."""
        view = _empty_view()
        if self.dqlite.running():
            try:
                view["leader"], view["members"] = dqlite.cluster(DQLITE_TIMEOUT)
                store.plant_seed(DQLITE_TIMEOUT)
                view["shared"], view["rev"] = store.load_shared(DQLITE_TIMEOUT)
                me = store.address()
                view["dqlite_ok"] = any(m["address"] == me for m in view["members"])
            except dqlite.Unavailable as err:
                view["error"] = str(err)
        self.view = view

    def fresh_status(self) -> dict[str, Any]:
        """What the API server serves: read from dqlite for this request."""
        self.refresh()
        return self.status()

    def status(self) -> dict[str, Any]:
        view, local = self.view, store.load_local()
        shared = view["shared"] or {"nodes": [], "addons": []}
        ok = bool(view["dqlite_ok"])
        nodes = []
        for n in shared["nodes"]:
            ready = ok if n["name"] == self.hostname else self.liveness.ready.get(n["name"], False)
            nodes.append({**n, "ready": ready})
        return {
            "worker": paths.has_lock("clustered.lock"),
            "dqlite_ok": ok,
            "ready": ok and time.monotonic() >= self.warm_until,
            "warming": time.monotonic() < self.warm_until,
            "dqlite_error": local.get("dqlite_error"),
            "address": store.address(),
            "leader": view["leader"],
            "members": view["members"],
            "nodes": nodes,
            "version": view["rev"],
            "addons": shared["addons"],
            "cluster_id": local.get("cluster_id", ""),
            # Unknown (None) until dqlite has answered once, as the API server cannot read them.
            "felix": felix.current(shared) if view["shared"] else None,
            "calico_node": daemonset.current(shared) if view["shared"] else None,
            "calico_config": calico_config.current(shared) if view["shared"] else None,
        }

    # ---- liveness --------------------------------------------------------------------------

    def _monitor(self) -> None:
        while not self.stopping.wait(PROBE_INTERVAL):
            try:
                with self.dqlite_lock:
                    if not self.dqlite.running() and self.dqlite.process is not None:
                        # snapd restarts the service (restart-condition: always).
                        print("k8s-dqlite exited; restarting it", flush=True)
                        self.start_dqlite(restart=True)
                self.refresh()
                self.register_self()
                self.liveness.probe(self.view["shared"])
            except Exception as err:  # keep monitoring whatever one round hit
                print(f"monitor: {err!r}", flush=True)

    def register_self(self) -> None:
        """The kubelet registers its Node (a restarted one its new --node-ip, and after a snap
        refresh its new kubeletVersion: the kubelet posts NodeStatus.NodeInfo on start)."""
        shared = self.view["shared"]
        if not self.view["dqlite_ok"] or shared is None:
            return
        ip = store.address().rsplit(":", 1)[0].strip("[]")
        want = {**backend.self_node(ip), "internal_ip": self.node_ip}  # --node-ip as started
        me = store.find_node(shared, self.hostname)
        if me is None or any(me.get(k) != want[k] for k in ("internal_ip", "agent", "version")):
            self.submit({"op": "upsert_node", "node": want})

    # ---- changes ---------------------------------------------------------------------------

    def submit(self, op: dict[str, Any]) -> tuple[bool, Any]:
        """Commit a change to the shared state through dqlite (the leader, with quorum)."""
        try:
            new, _ = store.update_shared(
                lambda shared: workloads.reconcile(membership.apply(shared, op))
            )
        except membership.ChangeError as err:
            return False, str(err)
        except dqlite.Unavailable as err:
            print(f"change {op['op']} failed: {err}", flush=True)
            return False, "etcdserver: request timed out"
        self.refresh()
        return True, new

    # ---- routes ----------------------------------------------------------------------------

    def local_routes(self) -> dict[str, local_api.Handler]:
        def reload(body: Any) -> tuple[int, Any]:
            self.node_ip = identity.node_ip()  # join and leave restart kubelite
            self.start_dqlite()
            self.warm_until = time.monotonic() + WARMUP_SECONDS
            self.refresh()
            self.register_self()  # a (re)started kubelet registers its Node
            return 200, self.status()

        def change(body: Any) -> tuple[int, Any]:
            ok, result = self.submit(body["op"])
            return (200, {}) if ok else (503, {"error": result})

        def remove_member(body: Any) -> tuple[int, Any]:
            try:
                dqlite.remove(str(body["address"]))
            except dqlite.Unavailable as err:
                return 503, {"error": str(err)}
            self.refresh()
            return 200, {}

        def stop_dqlite(body: Any) -> tuple[int, Any]:
            self.stop_dqlite()
            return 200, {}

        return {
            "status": lambda body: (200, self.status()),
            "refresh": lambda body: (200, self.fresh_status()),
            "reload": reload,
            "change": change,
            "remove-member": remove_member,
            "stop-dqlite": stop_dqlite,
        }


class _ApiBackend:
    """What the API server reads and writes: the dqlite leader's state, per request."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    def read(self) -> dict[str, Any]:
        current = self.daemon.fresh_status()
        return {
            "dqlite_ok": current["dqlite_ok"],
            "shared": self.daemon.view["shared"],
            "rev": self.daemon.view["rev"],
            "nodes": current["nodes"],
            "version": identity.version(),
            "address": f"{self.daemon.node_ip}:{API_PORT}",
        }

    def commit(self, fn: Any) -> Any:
        """`fn(shared)` and the controllers' follow-up in one write through the leader."""
        box: dict[str, Any] = {}

        def change(shared: dict[str, Any]) -> dict[str, Any]:
            new = copy.deepcopy(shared)
            box["result"] = fn(new)
            return workloads.reconcile(new)

        if not self.daemon.view["dqlite_ok"]:
            self.daemon.refresh()
        if not self.daemon.view["dqlite_ok"]:
            raise api_meta.unavailable()
        try:
            store.update_shared(change)
        except dqlite.Unavailable as err:
            print(f"API write failed: {err}", flush=True)
            raise api_meta.unavailable() from err
        self.daemon.refresh()
        return box["result"]


def main() -> None:
    Daemon().run()
