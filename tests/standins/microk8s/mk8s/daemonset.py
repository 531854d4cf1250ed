"""The `calico-node` DaemonSet in kube-system, as microk8s applies it with its Calico manifest.

Calico picks each node's address by the calico-node container's IP_AUTODETECTION_METHOD
(microk8s ships "first-found"); users change it with `kubectl set env` on the DaemonSet. The
object is cluster state: it lives in the shared state in dqlite (store.py) under "calico_node", so
a change through one member is what every member reads.

Pure functions only: the default object (a subset of the real one: the containers and the env
that matter here), and `set env`'s update of the selected containers' env.
"""

from __future__ import annotations

import copy
import fnmatch
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
                    return var.get("value")
    return None


def with_env(obj: dict[str, Any], selector: str, env: dict[str, str]) -> dict[str, Any]:
    """`kubectl set env`: every container and init container whose name matches the selector
    (a glob, kubectl's default `*`) gets each variable, replaced in place or appended. An
    unchanged template gives back the same object (kubectl then sends nothing and prints
    nothing); a changed one a new resourceVersion and generation (a rolling update)."""
    new = copy.deepcopy(obj)
    pod = new["spec"]["template"]["spec"]
    for c in [*pod.get("initContainers", []), *pod["containers"]]:
        if not fnmatch.fnmatchcase(c["name"], selector):
            continue
        current_env = c.setdefault("env", [])
        for name, value in env.items():
            for var in current_env:
                if var["name"] == name:
                    var.pop("valueFrom", None)
                    var["value"] = value
                    break
            else:
                current_env.append({"name": name, "value": value})
    if new == obj:
        return obj
    meta = new["metadata"]
    meta["resourceVersion"] = str(int(meta["resourceVersion"]) + 1)
    meta["generation"] = int(meta["generation"]) + 1
    return new


def matches(obj: dict[str, Any], selector: str) -> bool:
    pod = obj["spec"]["template"]["spec"]
    return any(
        fnmatch.fnmatchcase(c["name"], selector)
        for c in [*pod.get("initContainers", []), *pod["containers"]]
    )
