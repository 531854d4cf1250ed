"""Who this node is: hostname, snap version, the address its kubelet reports.

The kubelet's InternalIP is its --node-ip when set (launch configuration `extraKubeletArgs`, or
copied from the leader on join); otherwise the real kubelet picks the address of the interface
it would route through, which the stand-in takes as the first address `hostname -I` lists.
"""

from __future__ import annotations

import socket

from . import netinfo, paths, svcargs


def hostname() -> str:
    return socket.gethostname().lower()


def snap_meta() -> dict[str, str]:
    meta: dict[str, str] = {}
    path = paths.SNAP_MOUNT / "current" / "meta" / "snap.yaml"
    if path.is_file():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition(":")
            if sep:
                meta[key.strip()] = value.strip()
    return meta


def version() -> str:
    return snap_meta().get("version", "(unknown)")


def revision() -> str:
    return snap_meta().get("revision", "(unknown)")


def node_ip() -> str:
    configured = svcargs.get("kubelet", "--node-ip")
    if configured:
        return configured
    ips = [ip for ip in netinfo.all_ips() if ":" not in ip]
    return ips[0] if ips else "127.0.0.1"


def agent_port() -> int:
    """The cluster agent's port, from args/cluster-agent `--bind` (get_cluster_agent_port)."""
    bind = svcargs.get("cluster-agent", "--bind") or "0.0.0.0:25000"
    return int(bind.rsplit(":", 1)[1])
