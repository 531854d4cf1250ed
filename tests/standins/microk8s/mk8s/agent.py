"""The cluster agent's join endpoint: POST /cluster/api/v2.0/join.

Checked against microk8s-cluster-agent pkg/api/v2/join.go (Join), api_util.go
(findMatchingBindAddress), pkg/snap/util/dqlite.go (MaybeUpdateDqliteBindAddress) and
pkg/httputil (errors are {"error": "<Capitalised message>"} with the status code). In order:
consume the token (500 "Invalid token"), the ha-cluster lock (501), the agent port (502),
joining from our own IP (503), the hostname check only when kube-apiserver does not prefer
InternalIP (400), then "already known to dqlite" and, while this node is still unclustered on
127.0.0.1, moving dqlite to the address the join was sent to — refused (500) when no local
interface has that address, which is what breaks joins through a 1:1 NAT.
The joining node's dqlite address is the source IP the agent sees (HostNameOverride).
"""

from __future__ import annotations

import secrets
import socket
from typing import Any, Protocol

from . import netinfo, paths, roles, store, svcargs, tokens, wire


class Node(Protocol):
    def move_dqlite(self, ip: str) -> None: ...


def _error(status: int, message: str) -> wire.Response:
    return status, {"error": message[:1].upper() + message[1:]}


def _prefers_internal_ip() -> bool:
    order = svcargs.get("kube-apiserver", "--kubelet-preferred-address-types") or ""
    if "InternalIP" not in order:
        return False
    return "Hostname" not in order or order.index("InternalIP") < order.index("Hostname")


def _resolves_to(hostname: str, ip: str) -> bool:
    try:
        infos = socket.getaddrinfo(hostname, None)
    except OSError:
        return False
    return any(info[4][0] == ip for info in infos)


def join(node: Node, req: wire.Request) -> wire.Response:
    body: dict[str, Any] = req.body or {}
    token = str(body.get("token", ""))
    worker = body.get("worker") in (True, "as-worker")
    if not tokens.consume_cluster_token(token):
        return _error(500, "invalid token")
    if not paths.has_lock("ha-cluster"):
        return _error(501, "not possible to join. This is not an HA MicroK8s cluster")
    port = str(svcargs.get("cluster-agent", "--bind") or ":25000").rsplit(":", 1)[1]
    if str(body.get("port")) != port:
        return _error(502, f"the port of the cluster agent port has to be set to {port}")
    remote_ip = req.client_ip
    host_ip = req.host.rsplit(":", 1)[0].strip("[]")
    if remote_ip == host_ip:
        return _error(503, f"the joining node has the same IP ({host_ip}) as the node we contact")
    hostname = str(body.get("hostname", ""))
    if not _prefers_internal_ip() and not _resolves_to(hostname, remote_ip):
        return _error(
            400,
            f"the hostname ({hostname}) of the joining node does not resolve to the IP"
            f' "{remote_ip}". Refusing join',
        )
    cluster = store.load_cluster()
    if any(m["address"].startswith(remote_ip + ":") for m in cluster["members"]):
        # microk8s-cluster-agent's v2 join: 504, "the joining node (IP) is already known to
        # dqlite" (pkg/api/v2/join.go; Gateway Timeout is upstream's own choice of status).
        return _error(504, f"the joining node ({remote_ip}) is already known to dqlite")
    members = cluster["members"]
    if len(members) == 1 and members[0]["address"].startswith("127.0.0.1:"):
        try:
            new_ip = netinfo.matching_bind_address(req.host)
        except netinfo.BindAddressError as err:
            return _error(
                500,
                f"failed to retrieve dqlite cluster nodes: failed to find matching dqlite bind"
                f" address for {req.host}: {err}",
            )
        node.move_dqlite(new_ip)
        cluster = store.load_cluster()
    paths.set_lock("no-cert-reissue")
    return 200, _response(cluster, remote_ip, token, worker)


def _response(cluster: dict[str, Any], remote_ip: str, token: str, worker: bool) -> dict[str, Any]:
    response: dict[str, Any] = {
        "ca": paths.certs("ca.crt").read_text(),
        "callback_token": _callback_token(),
        "apiport": svcargs.get("kube-apiserver", "--secure-port") or "16443",
        "api_authz_mode": svcargs.get("kube-apiserver", "--authorization-mode") or "",
        "hostname_override": remote_ip,
        "kubelet_args": svcargs.read("kubelet"),
        "cluster_cidr": svcargs.get("kube-proxy", "--cluster-cidr") or "",
        "service_account_key": "",
        "ca_key": None,
        "control_plane_nodes": None,
        # Not in the real response: which shared state the joiner now belongs to.
        "standin_cluster_id": cluster["cluster_id"],
    }
    if worker:
        tokens.add_certificate_request_token(f"{token}-kubelet")
        tokens.add_certificate_request_token(f"{token}-proxy")
        response["control_plane_nodes"] = [
            n["internal_ip"] for n in cluster["nodes"] if not n.get("worker")
        ]
        return response
    response["ca_key"] = paths.certs("ca.key").read_text()
    response["service_account_key"] = paths.certs("ca.key").read_text()
    response["cluster_cert"] = (paths.backend() / "cluster.crt").read_text()
    response["cluster_key"] = (paths.backend() / "cluster.key").read_text()
    response["voters"] = [m["address"] for m in cluster["members"] if m["role"] == roles.VOTER]
    return response


def _callback_token() -> str:
    path = paths.credentials("callback-token.txt")
    if not path.is_file():
        path.write_text(secrets.token_hex(32) + "\n")
    return path.read_text().strip()
