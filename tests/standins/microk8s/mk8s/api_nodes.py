"""Node objects: what each kubelet registered (`nodes` in the shared state), as the API serves it.

A Node is Ready while its kubelet (here: its daemon) answers for this cluster; the node
controller's `Unknown` otherwise. `spec.unschedulable` is what cordon sets (the
`node.kubernetes.io/unschedulable` taint the node controller adds afterwards is not modelled);
labels and annotations a client patches are kept with the registration.
"""

from __future__ import annotations

import os
import time
from typing import Any

from . import api_meta

ROLE_LABELS = {False: "microk8s-controlplane", True: "microk8s-worker"}


def default_labels(entry: dict[str, Any]) -> dict[str, str]:
    role = ROLE_LABELS[bool(entry.get("worker"))]
    return {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": entry["name"],
        "kubernetes.io/os": "linux",
        "microk8s.io/cluster": "true",
        f"node.kubernetes.io/{role}": role,
    }


def node_object(entry: dict[str, Any], rv: str = "1") -> dict[str, Any]:
    ready = bool(entry.get("ready"))
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(entry["created"]))
    condition = {
        "type": "Ready",
        "status": "True" if ready else "Unknown",
        "reason": "KubeletReady" if ready else "NodeStatusUnknown",
        "message": "kubelet is posting ready status"
        if ready
        else "Kubelet stopped posting node status.",
        "lastHeartbeatTime": created,
        "lastTransitionTime": created,
    }
    metadata: dict[str, Any] = {
        "name": entry["name"],
        "uid": entry.get("uid") or f"node-{entry['name']}",
        "resourceVersion": rv,
        "creationTimestamp": created,
        "labels": entry.get("labels") or default_labels(entry),
        "annotations": entry.get("annotations")
        or {
            "node.alpha.kubernetes.io/ttl": "0",
            "volumes.kubernetes.io/controller-managed-attach-detach": "true",
        },
    }
    spec: dict[str, Any] = {}
    if entry.get("unschedulable"):
        spec["unschedulable"] = True
    if entry.get("taints"):
        spec["taints"] = entry["taints"]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": metadata,
        "spec": spec,
        "status": {
            "addresses": [
                {"address": entry["internal_ip"], "type": "InternalIP"},
                {"address": entry["name"], "type": "Hostname"},
            ],
            "conditions": [condition],
            "nodeInfo": {
                "architecture": "amd64",
                "containerRuntimeVersion": "containerd://1.6.28",
                "kernelVersion": os.uname().release,
                "kubeletVersion": entry["version"],
                "kubeProxyVersion": entry["version"],
                "operatingSystem": "linux",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
            },
        },
    }


def apply(entry: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The registration after a client changed the Node from `old` to `new` (a patch or a PUT):
    what a client may change is kept, a change to anything else is refused (422)."""
    res = api_meta.find("", "v1", "nodes")
    assert res is not None
    name = entry["name"]
    if new.get("metadata", {}).get("name") != name:
        raise api_meta.invalid(
            res, name, [("metadata.name", f'Invalid value: "{name}": field is immutable')]
        )
    spec = new.get("spec") or {}
    unschedulable = spec.get("unschedulable", False)
    if not isinstance(unschedulable, bool):
        raise api_meta.bad_request(
            "json: cannot unmarshal into Go struct field NodeSpec.spec.unschedulable of type bool"
        )
    updated = dict(entry)
    updated["unschedulable"] = unschedulable
    updated["taints"] = spec.get("taints") or []
    meta = new.get("metadata", {})
    if meta.get("labels") != old["metadata"]["labels"]:
        updated["labels"] = meta.get("labels") or {}
    if meta.get("annotations") != old["metadata"]["annotations"]:
        updated["annotations"] = meta.get("annotations") or {}
    return updated
