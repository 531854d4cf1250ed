"""The `calico-config` ConfigMap in kube-system, as microk8s' Calico manifest creates it.

canonical/microk8s `upgrade-scripts/000-switch-to-calico/resources/calico.yaml` ships it with
`veth_mtu: "0"` (Calico auto-detects), and calico-node takes CNI_MTU, FELIX_IPINIPMTU,
FELIX_VXLANMTU and FELIX_WIREGUARDMTU from that key. `scripts/generate-cni.sh`, run when
microk8s is installed, copies the manifest to `$SNAP_DATA/args/cni-network/cni.yaml` and, when
`args/cni-env` sets CALICO_VETH_MTU (the launch configuration's extraCNIEnv), rewrites the
line to that value. The manifest is applied to the node's fresh datastore; a joining node takes
the cluster's. Editing cni-env later changes nothing in a running cluster: the ConfigMap is
cluster state (changed with `kubectl patch`, then calico-node restarted to read it).

Kept in the shared standin-cluster.json under "calico_config". Pure functions, plus the
install-time generation of cni.yaml's one line that matters here.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

from . import paths, svcargs

NAME = "calico-config"
NAMESPACE = "kube-system"
NAMES = ("configmap", "configmaps", "cm")
SINGULAR = "configmap"
DEFAULT_DATA = {
    "typha_service_name": "none",
    "calico_backend": "vxlan",
    "veth_mtu": "0",
}
_VETH_MTU = re.compile(r'^\s*veth_mtu:\s*"([^"]*)"\s*$', re.M)


def cni_yaml() -> Path:
    return paths.snap_data() / "args" / "cni-network" / "cni.yaml"


def generate() -> None:
    """generate-cni.sh's veth_mtu substitution, into the node's cni.yaml (the subset kept)."""
    mtu = svcargs.get("cni-env", "CALICO_VETH_MTU") or "0"
    cni_yaml().parent.mkdir(parents=True, exist_ok=True)
    lines = [f"  {key}: {value!s}" for key, value in DEFAULT_DATA.items() if key != "veth_mtu"]
    cni_yaml().write_text(
        "kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: calico-config\n"
        "  namespace: kube-system\ndata:\n" + "\n".join(lines) + f'\n  veth_mtu: "{mtu}"\n'
    )


def applied(cluster_id: str) -> dict[str, Any]:
    """The object the node's manifest creates in a fresh datastore."""
    try:
        match = _VETH_MTU.search(cni_yaml().read_text())
    except OSError:
        match = None
    data = {**DEFAULT_DATA, "veth_mtu": match[1] if match else "0"}
    uid = str(uuid.uuid5(uuid.NAMESPACE_URL, "calico-config/" + cluster_id))
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "creationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "name": NAME,
            "namespace": NAMESPACE,
            "resourceVersion": "1",
            "uid": uid,
        },
        "data": data,
    }


def current(cluster: dict[str, Any]) -> dict[str, Any]:
    """The cluster's object; a datastore made before the stand-in kept it gets the default."""
    stored: dict[str, Any] | None = cluster.get("calico_config")
    if stored is not None:
        return stored
    obj = applied(str(cluster.get("cluster_id", "")))
    obj["data"] = dict(DEFAULT_DATA)
    return obj
