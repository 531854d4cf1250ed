"""The node daemon: one process standing in for kubelite, k8s-dqlite and the cluster agent.

Listens where the real services do: the cluster agent on 0.0.0.0:<agent port> (HTTPS, join),
dqlite on its own address:19001 (127.0.0.1 until the node clusters, like k8s-dqlite), the API
server on 0.0.0.0:16443 (HTTPS, client certificates, `GET /api/v1/nodes`: apiserver.py), and
plain TCP on 0.0.0.0:10250 (kubelet) so firewall tests can probe it.
Every second it pings the other members and the other nodes' agents: that liveness decides
quorum (so readiness), which member leads, Ready/NotReady in `kubectl get nodes`, and lets the
leader re-balance roles when a voter goes away. A member that missed a push catches up from
any peer with a newer version of the same cluster.
"""

from __future__ import annotations

import concurrent.futures
import errno
import os
import signal
import socket
import threading
import time
from typing import Any

from . import (
    agent,
    apiserver,
    calico_config,
    certs,
    daemonset,
    failure_domain,
    felix,
    identity,
    local_api,
    membership,
    paths,
    roles,
    service,
    store,
    tokens,
    wire,
)

WARMUP_SECONDS = 0.5  # the real API server needs tens of seconds; this is long enough to be seen
PROBE_INTERVAL = 0.5
PROBE_TIMEOUT = 1.5
# A peer counts as gone after this many failed probes in a row, so one slow answer on a busy
# machine does not flap quorum or roles.
PROBE_MISSES = 2
PUSH_TIMEOUT = 1.0
API_PORT = 16443
PLAIN_PORTS = (10250,)


def _go_listen_error(address: str, err: OSError) -> str:
    reason = {
        errno.EADDRNOTAVAIL: "cannot assign requested address",
        errno.EADDRINUSE: "address already in use",
    }.get(err.errno or 0, err.strerror or str(err))
    return f"listen tcp {address}: bind: {reason}"


class Daemon:
    def __init__(self) -> None:
        self.hostname = identity.hostname()
        # After a restart_all_services (mk8s/restart.py) kubelite takes its realistic time.
        self.warmup = float(os.environ.get(service.WARMUP_ENV, WARMUP_SECONDS))
        self.warm_until = time.monotonic() + self.warmup
        self.online: set[str] = set()
        self.node_ready: dict[str, bool] = {}
        self.misses: dict[str, int] = {}
        self.dqlite_server: Any = None
        self.dqlite_bound: str | None = None
        self.stopping = threading.Event()
        self.change_lock = threading.Lock()
        self.servers: list[Any] = []
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=16)
        # Read when the services (re)start, like kubelet's --node-ip and k8s-dqlite's domain.
        self.node_ip = identity.node_ip()
        self.failure_domain = failure_domain.at_start()
        self.domains: dict[str, int] = {}  # online members' failure domains, as go-dqlite sees

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
                self.agent_routes(),
                paths.certs("server.crt"),
                paths.certs("server.key"),
            )
        )
        self._serve_api()
        for port in PLAIN_PORTS:
            self._listen_plain(port)
        self.rebind_dqlite()
        self.probe()
        # Last: the local socket answering is how the CLI knows the daemon is up.
        self.servers.append(local_api.serve(paths.daemon_socket(), self.local_routes()))
        threading.Thread(target=self._monitor, daemon=True).start()
        self.stopping.wait()
        for server in [*self.servers, self.dqlite_server]:
            if server is not None:
                server.shutdown()
                server.server_close()
        paths.daemon_socket().unlink(missing_ok=True)
        paths.daemon_pidfile().unlink(missing_ok=True)

    def _serve_api(self) -> None:
        try:
            self.servers.append(apiserver.serve("0.0.0.0", API_PORT, self.status))
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

    # ---- dqlite address ----------------------------------------------------------------------

    def rebind_dqlite(self) -> None:
        """Listen on the address info says, the way k8s-dqlite (re)starts on its Address."""
        with store.locked():
            local = store.load_local()
            want = None if paths.has_lock("clustered.lock") else local["address"]
            if want == self.dqlite_bound and self.dqlite_server is not None:
                return
            if self.dqlite_server is not None:
                self.dqlite_server.shutdown()
                self.dqlite_server.server_close()
                self.dqlite_server, self.dqlite_bound = None, None
            if want is None:
                return
            host, port = want.rsplit(":", 1)
            try:
                self.dqlite_server = wire.serve_http(
                    host.strip("[]"), int(port), self.dqlite_routes()
                )
                self.dqlite_bound = want
                local["dqlite_error"] = None
            except OSError as err:
                local["dqlite_error"] = _go_listen_error(want, err)
                print(f"k8s-dqlite: {local['dqlite_error']}", flush=True)
            store.save_local(local)

    def stop_dqlite(self) -> None:
        with store.locked():
            if self.dqlite_server is not None:
                self.dqlite_server.shutdown()
                self.dqlite_server.server_close()
            self.dqlite_server, self.dqlite_bound = None, None

    def move_dqlite(self, ip: str) -> None:
        """UpdateDqliteIP: this still-unclustered node takes `ip` as its dqlite address."""
        with store.locked():
            local, cluster = store.load_local(), store.load_cluster()
            port = local["address"].rsplit(":", 1)[1]
            new = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
            for m in cluster["members"]:
                if m["address"] == local["address"]:
                    m["address"] = new
            me = store.find_node(cluster, self.hostname)
            if me is not None:
                me["agent"] = f"{ip}:{identity.agent_port()}"
            local["address"] = new
            cluster["version"] += 1
            store.save_cluster(cluster)
            store.save_local(local)
        self.rebind_dqlite()
        self.online.add(new)

    # ---- views -----------------------------------------------------------------------------

    def dqlite_ok(self) -> bool:
        if paths.has_lock("clustered.lock") or self.dqlite_server is None:
            return False
        local, cluster = store.load_local(), store.load_cluster()
        if local.get("dqlite_error") or store.find_member(cluster, local["address"]) is None:
            return False
        return roles.has_quorum(cluster["members"], self.online | {local["address"]})

    def status(self) -> dict[str, Any]:
        with store.locked():
            local, cluster = store.load_local(), store.load_cluster()
            ok = self.dqlite_ok()
        nodes = []
        for n in cluster["nodes"]:
            ready = n["name"] == self.hostname or self.node_ready.get(n["name"], False)
            nodes.append({**n, "ready": ready})
        return {
            "worker": paths.has_lock("clustered.lock"),
            "dqlite_ok": ok,
            "ready": ok and time.monotonic() >= self.warm_until,
            "warming": time.monotonic() < self.warm_until,
            "dqlite_error": local.get("dqlite_error"),
            "address": local["address"],
            "members": cluster["members"],
            "nodes": nodes,
            "addons": cluster["addons"],
            "cluster_id": cluster["cluster_id"],
            "felix": felix.current(cluster),
            "calico_node": daemonset.current(cluster),
            "calico_config": calico_config.current(cluster),
        }

    # ---- liveness --------------------------------------------------------------------------

    def _monitor(self) -> None:
        while not self.stopping.wait(PROBE_INTERVAL):
            try:
                self.probe()
                self.rebalance()
                self.sync_node_ip()
            except Exception as err:  # keep monitoring whatever one round hit
                print(f"monitor: {err!r}", flush=True)

    def probe(self) -> None:
        local, cluster = store.load_local(), store.load_cluster()
        me = local["address"]
        peers = [m["address"] for m in cluster["members"] if m["address"] != me]
        # A control-plane kubelet posts its status to its own API server, which works while its
        # dqlite is a live member; a worker's kubelet reaches the cluster from outside (here: we
        # ask its agent).
        workers = [n for n in cluster["nodes"] if n.get("worker") and n["name"] != self.hostname]
        member_pings = {a: self.pool.submit(self._ping, a, False) for a in peers}
        node_pings = {n["name"]: self.pool.submit(self._ping, n["agent"], True) for n in workers}
        online = {me} if self.dqlite_server is not None else set()
        domains = {me: self.failure_domain}
        newest: tuple[int, str] | None = None
        starting = set()  # members whose kubelite is still coming up (after a restart)
        for address, future in member_pings.items():
            answer = future.result()
            if not self._answered(address, answer, cluster["cluster_id"]):
                continue
            online.add(address)
            if answer and not answer.get("kubelet_ready", True):
                starting.add(address.rsplit(":", 1)[0])
            domains[address] = self.domains.get(address, 0)
            if answer:
                domains[address] = int(answer.get("failure_domain", 0))
                version = int(answer.get("version", 0))
                if version > cluster["version"] and (newest is None or version > newest[0]):
                    newest = (version, address)
        self.online = online
        self.domains = domains
        online_ips = {a.rsplit(":", 1)[0] for a in online}
        ready = {
            n["name"]: n["agent"].rsplit(":", 1)[0] in online_ips - starting
            for n in cluster["nodes"]
            if not n.get("worker")
        }
        for name, future in node_pings.items():
            ready[name] = self._answered(f"node/{name}", future.result(), cluster["cluster_id"])
        self.node_ready = ready
        if newest is not None:
            self._catch_up(newest[1])

    def _answered(self, key: str, answer: dict[str, Any] | None, cluster_id: str) -> bool:
        """Whether a peer counts as up: it answered for our cluster, or missed only once."""
        if answer and answer.get("cluster_id") == cluster_id:
            self.misses[key] = 0
            return True
        self.misses[key] = self.misses.get(key, PROBE_MISSES - 1) + 1
        return self.misses[key] < PROBE_MISSES

    def _ping(self, address: str, tls: bool) -> dict[str, Any] | None:
        path = "/standin/v1/ping" if tls else "/standin/v1/dqlite/ping"
        try:
            status, body = wire.call(address, "GET", path, tls=tls, timeout=PROBE_TIMEOUT)
        except (OSError, Exception):
            return None
        return body if status == 200 and isinstance(body, dict) else None

    def _catch_up(self, address: str) -> None:
        try:
            status, body = wire.call(
                address, "GET", "/standin/v1/dqlite/state", secret=certs.cluster_secret()
            )
        except OSError:
            return
        if status == 200:
            self.adopt(body)

    def adopt(self, cluster: dict[str, Any]) -> bool:
        with store.locked():
            mine = store.load_cluster()
            if cluster.get("cluster_id") != mine["cluster_id"]:
                return False
            if int(cluster["version"]) <= int(mine["version"]):
                return False
            store.save_cluster(cluster)
            store.save_local(store.load_local())  # refresh info.yaml's role
        print(f"adopted cluster state version {cluster['version']}", flush=True)
        return True

    def rebalance(self) -> None:
        """The leader's periodic role adjustment (go-dqlite RolesAdjustmentFrequency)."""
        cluster = store.load_cluster()
        me = store.load_local()["address"]
        if membership.leader(cluster, self.online) != me:
            return
        trial = [dict(m) for m in cluster["members"]]
        if roles.has_quorum(trial, self.online) and roles.settle(
            trial, me, self.online, self.domains
        ):
            self.submit({"op": "noop"})

    def sync_node_ip(self) -> None:
        """A restarted kubelet with a new --node-ip updates its Node's InternalIP."""
        if paths.has_lock("clustered.lock"):
            return  # a worker's Node is registered through the cluster agent
        me = store.find_node(store.load_cluster(), self.hostname)
        if me is not None and me.get("internal_ip") != self.node_ip:
            node = {"name": self.hostname, "internal_ip": self.node_ip}
            self.submit({"op": "upsert_node", "node": node})

    # ---- changes ---------------------------------------------------------------------------

    def submit(self, op: dict[str, Any], departing: str | None = None) -> tuple[bool, Any]:
        """Have the leader commit `op`: ourselves, or forwarded to it over dqlite."""
        for attempt in range(2):
            cluster, me = store.load_cluster(), store.load_local()["address"]
            online = self.online - {departing} if departing else set(self.online)
            lead = membership.leader(cluster, online)
            if lead == me:
                return self.commit(op, departing)
            if lead is not None:
                try:
                    status, body = wire.call(
                        lead,
                        "POST",
                        "/standin/v1/dqlite/change",
                        {"op": op, "departing": departing},
                        secret=certs.cluster_secret(),
                        timeout=10,
                    )
                except OSError as err:
                    body, status = {"error": f"contacting the leader {lead} failed: {err}"}, 503
                if status == 200:
                    self.adopt(body)
                    return True, body
                if attempt or status != 503:
                    return False, body.get("error") if isinstance(body, dict) else body
            if attempt == 0:
                self.probe()  # our liveness view may be stale: look again before giving up
        return False, "no leader: too few dqlite voters are online to reach quorum"

    def commit(self, op: dict[str, Any], departing: str | None) -> tuple[bool, Any]:
        with self.change_lock:
            me = store.load_local()["address"]
            online = (self.online | {me}) - ({departing} if departing else set())
            try:
                with store.locked():
                    new = membership.apply(store.load_cluster(), op, online, me, self.domains)
                    store.save_cluster(new)
                    store.save_local(store.load_local())
            except membership.ChangeError as err:
                print(f"change {op['op']} refused: {err}", flush=True)
                return False, str(err)
        print(f"committed {op['op']} as version {new['version']}", flush=True)
        skip = {me, departing, op.get("address")}
        self.push(new, [m["address"] for m in new["members"] if m["address"] not in skip])
        return True, new

    def push(self, cluster: dict[str, Any], addresses: list[str]) -> None:
        secret = certs.cluster_secret()
        futures = [
            self.pool.submit(
                wire.call,
                a,
                "POST",
                "/standin/v1/dqlite/state",
                cluster,
                secret=secret,
                timeout=PUSH_TIMEOUT,
            )
            for a in addresses
        ]
        concurrent.futures.wait(futures, timeout=PUSH_TIMEOUT + 1)

    # ---- routes ----------------------------------------------------------------------------

    def _authorised(self, req: wire.Request) -> bool:
        try:
            return req.headers.get(wire.SECRET_HEADER.lower()) == certs.cluster_secret()
        except OSError:
            return False

    def agent_routes(self) -> wire.Routes:
        def ping(req: wire.Request) -> wire.Response:
            cluster = store.load_cluster()
            return 200, {"cluster_id": cluster["cluster_id"], "name": self.hostname}

        def register_worker(req: wire.Request) -> wire.Response:
            body = req.body or {}
            if not tokens.consume_certificate_request_token(str(body.get("token", ""))):
                return 500, {"error": "Invalid token"}
            node = dict(body["node"])
            node["agent"] = f"{req.client_ip}:{node.pop('agent_port', identity.agent_port())}"
            ok, result = self.submit({"op": "upsert_node", "node": node})
            return (200, {"ok": True}) if ok else (500, {"error": str(result)})

        return {
            ("POST", "/cluster/api/v2.0/join"): lambda req: agent.join(self, req),
            ("POST", "/standin/v1/worker/register"): register_worker,
            ("GET", "/standin/v1/ping"): ping,
        }

    def dqlite_routes(self) -> wire.Routes:
        def ping(req: wire.Request) -> wire.Response:
            cluster = store.load_cluster()
            return 200, {
                "cluster_id": cluster["cluster_id"],
                "version": cluster["version"],
                "failure_domain": self.failure_domain,
                # Its kubelet posts Ready only once its kubelite is up (not while warming).
                "kubelet_ready": time.monotonic() >= self.warm_until,
            }

        def get_state(req: wire.Request) -> wire.Response:
            if not self._authorised(req):
                return 403, {"error": "bad cluster certificate"}
            return 200, store.load_cluster()

        def put_state(req: wire.Request) -> wire.Response:
            if not self._authorised(req):
                return 403, {"error": "bad cluster certificate"}
            return 200, {"adopted": self.adopt(req.body)}

        def change(req: wire.Request) -> wire.Response:
            # Forwarded by a member that found us to be the leader: commit it.
            if not self._authorised(req):
                return 403, {"error": "bad cluster certificate"}
            body = req.body or {}
            ok, result = self.commit(body["op"], body.get("departing"))
            return (200, result) if ok else (503, {"error": result})

        def submit(req: wire.Request) -> wire.Response:
            # From a joining or departing node: find the leader for it, as a dqlite client does.
            if not self._authorised(req):
                return 403, {"error": "bad cluster certificate"}
            body = req.body or {}
            ok, result = self.submit(body["op"], body.get("departing"))
            return (200, result) if ok else (503, {"error": result})

        return {
            ("GET", "/standin/v1/dqlite/ping"): ping,
            ("POST", "/standin/v1/dqlite/submit"): submit,
            ("GET", "/standin/v1/dqlite/state"): get_state,
            ("POST", "/standin/v1/dqlite/state"): put_state,
            ("POST", "/standin/v1/dqlite/change"): change,
        }

    def local_routes(self) -> dict[str, local_api.Handler]:
        def reload(body: Any) -> tuple[int, Any]:
            self.node_ip = identity.node_ip()  # join and leave restart kubelite
            self.rebind_dqlite()
            self.warm_until = time.monotonic() + WARMUP_SECONDS
            self.probe()
            return 200, self.status()

        def change(body: Any) -> tuple[int, Any]:
            ok, result = self.submit(body["op"], body.get("departing"))
            return (200, result) if ok else (503, {"error": result})

        def stop_dqlite(body: Any) -> tuple[int, Any]:
            self.stop_dqlite()
            return 200, {}

        return {
            "status": lambda body: (200, self.status()),
            "reload": reload,
            "change": change,
            "stop-dqlite": stop_dqlite,
            "adopt": lambda body: (200, {"adopted": self.adopt(body)}),
        }


def main() -> None:
    Daemon().run()
