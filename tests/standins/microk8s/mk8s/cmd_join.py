"""`microk8s join <ip>:<port>/<token>[/<fingerprint>] [--worker] [--skip-verify]`.

Checked against scripts/wrappers/join.py and common/cluster/utils.py (1.29-1.36):
- get_valid_connection_parts: "Invalid connection: <why>", exit 1 (the address must be an IP
  literal, the token 32+ characters, the fingerprint 12+).
- the agent is reached with http.client over TLS exactly as join.py does, so an unreachable
  leader ends in join.py's uncaught socket error (traceback, exit 1); a certificate whose
  SHA-256 does not start with the fingerprint exits 4; any non-200 answer prints
  "Connection failed. <error> (<status>)." and exits 6.
- a control-plane joiner replaces its kubelet args with the leader's (and sets --node-ip to the
  address the leader saw, if the leader had one), takes the cluster's CA and dqlite identity,
  and k8s-dqlite starts from init.yaml (the voters, and the address the leader saw it come
  from): go-dqlite joins as a spare and takes a role. If that address is not local (the
  joiner is behind NAT) or no voter can be reached, dqlite never joins: join.py still prints
  "Successfully joined the cluster." after its wait loop, and the node is not ready.
- the join takes its time and ends with every service restarted (mk8s/restart.py): when
  `join` returns, the joiner's API server is still coming up.
"""

from __future__ import annotations

import hashlib
import http.client
import ipaddress
import json
import socket
import ssl
import subprocess
import sys
from typing import Any, NoReturn

from . import (
    backend,
    certs,
    common,
    dqlite,
    identity,
    kubeconfig,
    netinfo,
    paths,
    restart,
    service,
    store,
    svcargs,
    timescale,
    wire,
)

CLUSTER_API_V2 = "cluster/api/v2.0"
FINGERPRINT_MIN_LEN = 12
TOKEN_MIN_LEN = 32
JOIN_WAITS = 10  # join.py update_dqlite; its sleeps are scaled by MCK_LAB_TIME_SCALE


class InvalidConnectionError(Exception):
    pass


def valid_connection_parts(connection: str) -> list[str]:
    parts = connection.split("/")
    if len(parts) not in (2, 3):
        raise InvalidConnectionError(
            "Expected format: <master_IP>:<master_PORT>/<token>[/<fingerprint>]"
        )
    master = parts[0].split(":")
    if len(master) != 2:
        raise InvalidConnectionError(
            "Expected format: <master_IP>:<master_PORT>/<token>[/<fingerprint>]"
        )
    try:
        ipaddress.ip_address(master[0])
    except ValueError:
        raise InvalidConnectionError("Invalid master IP") from None
    try:
        port = int(master[1])
    except ValueError:
        raise InvalidConnectionError("Master PORT not a number") from None
    if port < 1 or port > 65535:
        raise InvalidConnectionError("Master PORT not in range 1:65535")
    if len(parts[1]) < TOKEN_MIN_LEN:
        raise InvalidConnectionError(f"Cluster token size should be at least {TOKEN_MIN_LEN} bytes")
    if len(parts) == 3 and len(parts[2]) < FINGERPRINT_MIN_LEN:
        raise InvalidConnectionError(f"Fingerprint should be at least {FINGERPRINT_MIN_LEN} bytes")
    return parts


def _exit(message: str, code: int) -> NoReturn:
    print(message, flush=True)
    sys.exit(code)


def _extract_error(response: http.client.HTTPResponse) -> str:
    message = "Connection failed."
    try:
        raw = response.read().decode()
        if raw:
            data = json.loads(raw)
            if "error" in data:
                message = f"{message} {data['error']}"
    except ValueError:
        pass
    return message


def _join_request(
    conn: http.client.HTTPSConnection,
    req: dict[str, Any],
    master_ip: str,
    verify: bool,
    fingerprint: str | None,
) -> dict[str, Any]:
    headers = {"Content-type": "application/json", "Accept": "application/json"}
    try:
        if verify and fingerprint:
            assert conn.sock is not None
            der = conn.sock.getpeercert(True)  # type: ignore[attr-defined]
            if not hashlib.sha256(der).hexdigest().startswith(fingerprint):
                _exit(
                    f"Joining cluster failed. Could not verify the identity of {master_ip}."
                    " Use '--skip-verify' to skip server certificate check.",
                    4,
                )
        conn.request("POST", f"/{CLUSTER_API_V2}/join", json.dumps(req), headers)
        response = conn.getresponse()
        if response.status != 200:
            _exit(f"{_extract_error(response)} ({response.status}).", 6)
        data: dict[str, Any] = json.loads(response.read())
        return data
    except http.client.HTTPException as err:
        _exit(f"Please ensure the master node is reachable. {err}", 1)
    except ssl.SSLError as err:
        _exit(f"Peer node verification failed ({err}).", 4)


def get_connection_info(
    master_ip: str,
    master_port: str,
    token: str,
    verify: bool,
    fingerprint: str | None,
    worker: bool,
) -> dict[str, Any]:
    try:
        context = ssl._create_unverified_context()
        conn = http.client.HTTPSConnection(f"{master_ip}:{master_port}", context=context)
        conn.connect()  # like join.py, a refused/unroutable connection is not caught
        req = {
            "token": token,
            "hostname": socket.gethostname().lower(),
            "port": str(identity.agent_port()),
            "worker": worker,
            "can_handle_x509_auth": True,
            "can_handle_custom_etcd": True,
        }
        return _join_request(conn, req, master_ip, verify, fingerprint)
    except http.client.HTTPException as err:
        _exit(f"Connecting to cluster failed with {err}.", 5)
    except ssl.SSLError as err:
        _exit(f"Peer node verification failed with {err}.", 4)


def _store_cert(name: str, payload: str) -> None:
    path = paths.certs(name)
    if path.exists():
        path.with_name(name + ".backup").write_bytes(path.read_bytes())
    path.write_text(payload)


def _kubelet_args(info: dict[str, Any]) -> None:
    """store_base_kubelet_args + update_kubelet_node_ip + update_kubelet_hostname_override."""
    args = str(info["kubelet_args"])
    paths.args_file("kubelet").write_text(args)
    if "--node-ip" in args:
        svcargs.update("kubelet", {"--node-ip": info["hostname_override"]})
    if "--hostname-override" in args:
        svcargs.update("kubelet", {}, ["--hostname-override"])


def _update_apiserver(info: dict[str, Any]) -> None:
    updates = {}
    if info.get("api_authz_mode"):
        updates["--authorization-mode"] = info["api_authz_mode"]
    if info.get("apiport"):
        updates["--secure-port"] = info["apiport"]
    svcargs.update("kube-apiserver", updates)


def _join_dqlite_cluster(host: str) -> str | None:
    """Start k8s-dqlite on init.yaml, then wait as join.py update_dqlite does: up to ten looks
    with `dqlite -s file://cluster.yaml ... .cluster` (4 s each) for our address, "." and 5 s
    when it answers without us, ".." and 2 s when it fails. None once listed, else why not."""
    answer = service.ask("reload")
    current = answer[1] if answer and answer[0] == 200 else None
    reason = "this node was never listed by `dqlite .cluster`"
    if current is None or current.get("dqlite_error"):
        reason = str((current or {}).get("dqlite_error") or "k8s-dqlite is not running")
    for _ in range(JOIN_WAITS):
        try:
            out = dqlite.shell([f"file://{paths.backend() / 'cluster.yaml'}"], ".cluster", 4)
        except subprocess.TimeoutExpired:
            out = None
        if out is not None and out.returncode == 0 and host in out.stdout:
            service.ask("reload")  # the services come back on the joined datastore
            return None
        if out is not None and out.returncode == 0:
            print(".", end=" ", flush=True)
            timescale.pause(5)
        else:
            if current is None or not current.get("dqlite_error"):
                reason = (out.stderr.strip() if out else "") or "`dqlite .cluster` timed out"
            print("..", end=" ", flush=True)
            timescale.pause(2)
    return reason


def join_master(info: dict[str, Any]) -> None:
    host = str(info["hostname_override"])
    _store_cert("ca.crt", info["ca"])
    _store_cert("ca.key", info["ca_key"])
    _store_cert("serviceaccount.key", info["service_account_key"])
    # The server certificate is re-issued from the cluster's CA (the joiner's own CA is gone):
    # kubectl through this node's API server verifies it against the CA it now shares.
    certs.make_server_cert(netinfo.all_ips())
    kubeconfig.write_client_config()
    _update_apiserver(info)
    _kubelet_args(info)
    paths.credentials("callback-token.txt").write_text(info["callback_token"])
    service.ask("stop-dqlite")
    restart.settle(restart.DQLITE_SETTLE)
    backend.for_join(
        info["cluster_cert"], info["cluster_key"], info["voters"], host, info["standin_cluster_id"]
    )
    print("Waiting for this node to finish joining the cluster.", end=" ", flush=True)
    failure = _join_dqlite_cluster(host)
    if failure is not None:
        # join.py waits out its loop and reports success regardless.
        _record_dqlite_error(failure)
    print(" ")
    restart.restart_all_services()
    paths.set_lock("no-cert-reissue")


def _record_dqlite_error(reason: str) -> None:
    with store.locked():
        if not store.load_local().get("dqlite_error"):
            store.set_local(dqlite_error=f"failed to join the cluster: {reason}")


def join_worker(info: dict[str, Any], master_ip: str, master_port: str, token: str) -> None:
    if info["ca_key"] is not None:
        _exit(
            "Joining process failed."
            " Make sure the cluster you connect to supports joining worker nodes.",
            1,
        )
    paths.certs("ca.remote.crt").write_text(info["ca"])
    _update_apiserver(info)
    _kubelet_args(info)
    node = backend.self_node(worker=True)
    node["agent_port"] = identity.agent_port()
    try:
        code, body = wire.call(
            f"{master_ip}:{master_port}",
            "POST",
            "/standin/v1/worker/register",
            {"token": f"{token}-kubelet", "node": node},
            tls=True,
            timeout=15,
        )
    except OSError as err:
        _exit(f"Failed to sign kubelet certificate. {err}", 1)
    if code != 200:
        error = f"Failed to sign kubelet certificate ({code})."
        if isinstance(body, dict) and "error" in body:
            error = f"{error} {body['error']}"
        _exit(error, 1)
    paths.credentials("callback-token.txt").write_text(info["callback_token"])
    paths.clear_lock("no-apiserver-proxy")
    paths.set_lock("clustered.lock")
    paths.set_lock("no-k8s-dqlite")
    backend.for_worker(info["standin_cluster_id"])
    service.ask("reload")
    paths.set_lock("no-cert-reissue")
    print("")
    print("The node has joined the cluster and will appear in the nodes list in a few seconds.")
    print("")
    print("This worker node gets automatically configured with the API server endpoints.")
    print(
        "If the API servers are behind a loadbalancer please set the '--refresh-interval'"
        " to '0s' in:"
    )
    print("    /var/snap/microk8s/current/args/apiserver-proxy")
    print("and replace the API server endpoints with the one provided by the loadbalancer in:")
    print("    /var/snap/microk8s/current/args/traefik/provider.yaml")
    print("")


def _usage_error(message: str) -> NoReturn:
    print("Usage: microk8s join [OPTIONS] CONNECTION", file=sys.stderr)
    print("Try 'microk8s join -h' for help.", file=sys.stderr)
    print("", file=sys.stderr)
    print(f"Error: {message}", file=sys.stderr)
    sys.exit(2)


def main(argv: list[str]) -> None:
    if (paths.snap_common() / "default-storage").is_dir():
        print("WARNING: Hostpath storage is enabled and is not suitable for multi node clusters.")
        print("")
    common.exit_if_no_permissions()
    worker = skip_verify = False
    positional = []
    for arg in argv:
        if arg == "--worker":
            worker = True
        elif arg == "--controlplane":
            worker = False
        elif arg == "--skip-verify":
            skip_verify = True
        elif arg == "--disable-low-memory-guard":
            pass
        else:
            positional.append(arg)  # click's ignore_unknown_options: unknown flags are arguments
    if not positional:
        _usage_error("Missing argument 'CONNECTION'.")
    if len(positional) > 1:
        _usage_error(f"Got unexpected extra argument ({positional[1]})")
    try:
        parts = valid_connection_parts(positional[0])
    except InvalidConnectionError as err:
        print("Invalid connection:", err)
        sys.exit(1)
    paths.set_lock("join-in-progress")
    if service.pid() is None:
        service.start()  # join.py starts k8s-dqlite and the API server itself
    master_ip, master_port = parts[0].rsplit(":", 1)
    fingerprint = parts[2] if len(parts) > 2 else None
    verify = not skip_verify and fingerprint is not None
    print(f"Contacting cluster at {master_ip}", flush=True)
    info = get_connection_info(master_ip, master_port, parts[1], verify, fingerprint, worker)
    cidr = svcargs.get("kube-proxy", "--cluster-cidr") or ""
    if "cluster_cidr" in info and info["cluster_cidr"] != cidr:
        print(
            "WARNING: Joining a cluster that has a different CIDR. "
            "The kube-proxy CIDR configuration will be overwritten."
        )
        print(f"Cluster CIDR: {info['cluster_cidr']} -- Node CIDR: {cidr}(will be overwritten)")
        svcargs.update("kube-proxy", {"--cluster-cidr": info["cluster_cidr"]})
    if worker:
        join_worker(info, master_ip, master_port, parts[1])
    else:
        join_master(info)
    paths.clear_lock("join-in-progress")
    print("Successfully joined the cluster.")
    sys.exit(0)
