"""Calico's cluster-wide settings that the encryption mode needs, read at the end of configure.

- `mesh`: calico-node's IP_AUTODETECTION_METHOD must be `interface=wg0` (the DaemonSet's env),
  so pod traffic between nodes takes the WireGuard mesh, and calico-config's veth_mtu must be
  MESH_VETH_MTU, so that pod packets plus VXLAN's 50 bytes fit inside wg0's MTU;
- `calico-wireguard`: FelixConfiguration `default` must have `spec.wireguardEnabled: true`.

Both are cluster state. `playbooks/calico_read.yml` reads the one the mode needs on one node, in
the configure run, and again in the run of the probe that follows joins or removals (a join can
change it); `settled` says whether the latest read proves the setting is in place, so a
converged or grown cluster skips the ansible run that would set it (about 1.6 s at 12 nodes,
most of it ansible's start-up). Pure: no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from mck.ansible import PLAYBOOKS, PlayResult
from mck.cluster import ClusterPlan

READ = PLAYBOOKS / "calico_read.yml"
MESH_METHOD = "interface=wg0"
# main.yml's mck_calico_veth_mtu: wg0's MTU (1420) minus VXLAN's 50 bytes.
MESH_VETH_MTU = "1370"
# encryption mode → (the read task's name in calico_read.yml, the playbook that sets it)
SETTINGS = {
    "mesh": (
        "Read calico-node's DaemonSet and calico-config",
        PLAYBOOKS / "calico_interface.yml",
    ),
    "calico-wireguard": (
        "Read whether Calico WireGuard is enabled",
        PLAYBOOKS / "calico_wireguard.yml",
    ),
}
READ_TASKS = frozenset(task for task, _playbook in SETTINGS.values())


@dataclass(frozen=True)
class Read:
    host: str  # the node that answered: its cluster is the one the read describes
    in_place: bool  # the setting the mode needs is already there


def on_mesh(objects_json: str) -> bool:
    """Whether `kubectl get daemonset/calico-node configmap/calico-config -o json` output (a
    List) sets calico-node's IP_AUTODETECTION_METHOD to exactly `interface=wg0`, once, as a
    plain value, and calico-config's veth_mtu to MESH_VETH_MTU: the same tests as the `when`s
    of calico_interface.yml's set tasks (anything else gets set)."""
    try:
        items = json.loads(objects_json)["items"]
        daemonset = next(i for i in items if i.get("kind") == "DaemonSet")
        config = next(i for i in items if i.get("kind") == "ConfigMap")
        mtu = (config.get("data") or {}).get("veth_mtu")
        spec = daemonset["spec"]["template"]["spec"]
        values = [
            env.get("value", "")
            for container in spec.get("containers") or []
            if container.get("name") == "calico-node"
            for env in container.get("env") or []
            if env.get("name") == "IP_AUTODETECTION_METHOD"
        ]
    except (ValueError, KeyError, TypeError, AttributeError, StopIteration):
        return False
    return values == [MESH_METHOD] and mtu == MESH_VETH_MTU


def read_from(result: PlayResult, mode: str) -> Read | None:
    """The configure run's read of the setting `mode` needs; None when it did not run or the
    command failed (then the setting must be checked through the leader)."""
    if mode not in SETTINGS:
        return None
    task = SETTINGS[mode][0]
    for host, tasks in result.captured.items():
        res = tasks.get(task)
        if res is None or res.get("skipped") or int(res.get("rc", 1)) != 0:
            continue
        stdout = str(res.get("stdout", ""))
        if mode == "mesh":
            return Read(host, on_mesh(stdout))
        return Read(host, stdout.strip() == "true")
    return None


def settled(read: Read | None, plan: ClusterPlan) -> bool:
    """True when `read` proves the setting is in place in the one cluster the plan converges to:
    read on a member of it. The caller reads after the last join or removal of the run, which
    may have changed the setting."""
    if read is None or not read.in_place or plan.leader is None:
        return False
    if len(plan.clusters) > 1:
        return False
    members = {node.name for cluster in plan.clusters for node in cluster} | {plan.leader.name}
    return read.host in members
