"""The `calico-node` DaemonSet in kube-system, as microk8s applies it with its Calico manifest.

Calico picks each node's address by the calico-node container's IP_AUTODETECTION_METHOD
(microk8s ships "first-found"); users change it with `kubectl set env` on the DaemonSet. The
object is cluster state: it lives in the shared state in dqlite (store.py) under "calico_node", so
a change through one member is what every member reads.

Pure functions only: the default object (a subset of the real one: the containers and the env
that matter here). `kubectl set env` is the real kubectl's strategic merge patch (api_patch.py).
"""

from __future__ import annotations

import copy
import time
import uuid
from typing import Any

NAME = "calico-node"
NAMESPACE = "kube-system"
PLURAL = "daemonsets.apps"
SINGULAR = "daemonset.apps"
# How kubectl may name the resource: kind, plural, short name, with or without the group.
NAMES = (
    "daemonset",
    "daemonsets",
    "ds",
    SINGULAR,
    PLURAL,
    "daemonset.v1.apps",
    "daemonsets.v1.apps",
)
IMAGE = "docker.io/calico/node:v3.28.1"
CNI_IMAGE = "docker.io/calico/cni:v3.28.1"
# calico-node's env as microk8s' cni.yaml sets it (VXLAN backend, Kubernetes datastore).
DEFAULT_ENV: list[dict[str, Any]] = [
    {"name": "DATASTORE_TYPE", "value": "kubernetes"},
    {"name": "WAIT_FOR_DATASTORE", "value": "true"},
    {
        "name": "NODENAME",
        "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}},
    },
    {"name": "CALICO_NETWORKING_BACKEND", "value": "vxlan"},
    {"name": "CLUSTER_TYPE", "value": "k8s,bgp"},
    {"name": "IP", "value": "autodetect"},
    {"name": "IP_AUTODETECTION_METHOD", "value": "first-found"},
    {"name": "CALICO_IPV4POOL_VXLAN", "value": "Always"},
    {"name": "CALICO_IPV4POOL_CIDR", "value": "10.1.0.0/16"},
    {"name": "FELIX_IPV6SUPPORT", "value": "false"},
]


def current(cluster: dict[str, Any]) -> dict[str, Any]:
    """The cluster's object: as last changed, else the one the Calico manifest created (its uid
    derived from the cluster id, so every member and every read agree on it)."""
    stored: dict[str, Any] | None = cluster.get("calico_node")
    if stored is not None:
        return stored
    created = min((n["created"] for n in cluster.get("nodes", [])), default=0.0)
    uid = str(uuid.uuid5(uuid.NAMESPACE_URL, "calico-node/" + cluster["cluster_id"]))
    return default_object(created, uid)


def default_object(created: float, uid: str) -> dict[str, Any]:
    labels = {"k8s-app": NAME}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "creationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created)),
            "generation": 1,
            "labels": dict(labels),
            "name": NAME,
            "namespace": NAMESPACE,
            "resourceVersion": "1",
            "uid": uid,
        },
        "spec": {
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "containers": [
                        {"env": copy.deepcopy(DEFAULT_ENV), "image": IMAGE, "name": NAME}
                    ],
                    "hostNetwork": True,
                    "initContainers": [
                        {
                            "command": ["/opt/cni/bin/calico-ipam", "-upgrade"],
                            "image": CNI_IMAGE,
                            "name": "upgrade-ipam",
                        },
                        {
                            "command": ["/opt/cni/bin/install"],
                            "image": CNI_IMAGE,
                            "name": "install-cni",
                        },
                    ],
                    "serviceAccountName": NAME,
                },
            },
            "updateStrategy": {"rollingUpdate": {"maxUnavailable": 1}, "type": "RollingUpdate"},
        },
    }


def env_value(obj: dict[str, Any], container: str, name: str) -> str | None:
    """A container's plain env value, None when unset (or set from a reference)."""
    for c in obj["spec"]["template"]["spec"]["containers"]:
        if c["name"] == container:
            for var in c.get("env", []):
                if var["name"] == name:
                    value = var.get("value")
                    return None if value is None else str(value)
    return None
