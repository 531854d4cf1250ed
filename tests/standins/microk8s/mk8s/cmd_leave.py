"""`microk8s leave`: the departing node takes itself out and becomes a fresh single node.

Checked against microk8s-resources/wrappers/microk8s-leave.wrapper (stopped: exit 1; never
clustered — no no-cert-reissue lock — "This MicroK8s deployment is not acting as a node in a
cluster.", exit 1) and scripts/wrappers/leave.py: the only voter of a multi-node cluster
refuses (exit 3); otherwise k8s-dqlite stops (handing over its role) and its dqlite entry is
removed through the other members with the `dqlite` shell's `.remove` (a failure prints
"Contacting node <ep> failed. Error:" and exits 2), the datastore is re-initialised
(cluster-wide addons are gone, the kubelet args stay) and the node restarts. Its Node object
stays in the cluster it left (NotReady) until `remove-node` there. A worker only resets itself.
Both take leave.py's time: its sleeps and a restart of every service (mk8s/restart.py).
"""

from __future__ import annotations

import subprocess
import sys
import time

from . import backend, common, dqlite, kubeconfig, netinfo, paths, restart, service, svcargs


def dqlite_command(snap_rev_dir: str, *extra: str) -> list[str]:
    data = str(paths.snap_data())
    db = f"{data}/var/kubernetes/backend"
    return [
        f"{snap_rev_dir}/bin/dqlite", "-s", f"file://{db}/cluster.yaml", "-c", f"{db}/cluster.crt",
        "-k", f"{db}/cluster.key", "-f", "json", "k8s", *extra,
    ]  # fmt: skip


def dqlite_cluster() -> list[dict[str, object]]:
    """`dqlite ... .cluster`; raises CalledProcessError when dqlite has no leader to ask."""
    answer = service.ask("refresh", timeout=15)
    if answer is None or answer[0] != 200 or not answer[1]["dqlite_ok"]:
        raise subprocess.CalledProcessError(1, dqlite_command("/snap/microk8s/current", ".cluster"))
    return list(answer[1]["members"])


def endpoints(members: list[dict[str, object]]) -> tuple[list[str], list[str]]:
    """(this node's dqlite endpoints, the others') by local IPs (get_dqlite_endpoints)."""
    local_ips = netinfo.local_ips()
    mine, others = [], []
    for m in members:
        address = str(m["address"])
        if any(f"{ip}:" in address for ip in local_ips):
            mine.append(address)
        else:
            others.append(address)
    return mine, others


def remove_through_cluster(node_ep: str, via: list[str]) -> None:
    """`dqlite -s <the other members> k8s ".remove <node_ep>"`, as leave.py runs it."""
    result = dqlite.shell(via, f".remove {node_ep}")
    if result.returncode != 0:
        error = subprocess.CalledProcessError(
            result.returncode, dqlite_command("/snap/microk8s/current", f".remove {node_ep}")
        )
        print(f"Contacting node {via[0] if via else node_ep} failed. Error:")
        print(repr(error))
        sys.exit(2)


def is_leader_without_successor(members: list[dict[str, object]]) -> bool:
    voters = [m for m in members if m["role"] == dqlite.VOTER]
    mine, _ = endpoints(voters)
    return len(voters) == 1 and bool(mine) and len(members) > 1


def wait_for_node_to_start() -> None:
    print("Waiting for node to start.", end=" ", flush=True)
    restart.settle(restart.CNI_SETTLE)
    deadline = time.monotonic() + 15
    while not service.wait_ready(0.5) and time.monotonic() < deadline:
        print(".", end=" ", flush=True)
    print(" ")


def reset_dqlite_node() -> None:
    members = dqlite_cluster()
    if is_leader_without_successor(members):
        print(
            "This node currently holds the only copy of the Kubernetes "
            "database so it cannot leave the cluster."
        )
        print(
            "To remove this node you can either first remove all other "
            "nodes with 'microk8s remove-node' or"
        )
        print("form a highly available cluster by adding at least three nodes.")
        sys.exit(3)
    mine, others = endpoints(members)
    service.ask("stop-dqlite")
    restart.settle(restart.DQLITE_SETTLE)
    if mine and "127.0.0.1" not in mine[0]:
        remove_through_cluster(mine[0], others)
    print("Generating new cluster certificates.", flush=True)
    backend.fresh([])
    kubeconfig.write_client_config()
    service.ask("reload")
    wait_for_node_to_start()
    paths.clear_lock("no-cert-reissue")
    restart.restart_all_services()


def reset_worker_node() -> None:
    print("Configuring services.", flush=True)
    paths.set_lock("no-apiserver-proxy")
    paths.certs("ca.remote.crt").unlink()
    kubeconfig.write_client_config()
    print("Generating new cluster certificates.", flush=True)
    backend.fresh([])
    for service_name in ("kubelet", "kube-proxy"):
        paths.args_file(service_name).write_text(svcargs.DEFAULT_ARGS[service_name])
    paths.clear_lock("no-cert-reissue")
    for lock in ("clustered.lock", "no-k8s-dqlite"):
        if not paths.has_lock(lock):
            common.die("Not in clustering mode.", 2)
        paths.clear_lock(lock)
    restart.restart_all_services()
    wait_for_node_to_start()


def main(argv: list[str]) -> None:
    common.exit_if_stopped()
    common.exit_if_no_permissions()
    if not paths.has_lock("no-cert-reissue") or (
        not paths.has_lock("clustered.lock") and not paths.args_file("k8s-dqlite").exists()
    ):
        common.die("This MicroK8s deployment is not acting as a node in a cluster.")
    if argv and argv[0] not in ("-h", "--help"):
        print("Usage: microk8s leave [OPTIONS]", file=sys.stderr)
        print("Try 'microk8s leave -h' for help.", file=sys.stderr)
        print("", file=sys.stderr)
        print(f"Error: Got unexpected extra argument ({argv[0]})", file=sys.stderr)
        sys.exit(2)
    if argv:
        print(
            "Usage: microk8s leave [OPTIONS]\n\n  The node will depart from the cluster it is in."
        )
        sys.exit(0)
    worker = (
        paths.has_lock("ha-cluster")
        and paths.has_lock("clustered.lock")
        and not paths.has_lock("no-apiserver-proxy")
    )
    if worker:
        reset_worker_node()
    else:
        reset_dqlite_node()
    sys.exit(0)
