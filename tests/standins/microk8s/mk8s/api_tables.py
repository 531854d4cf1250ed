"""Server-side printing: the `Table` kubectl asks for (`Accept: application/json;as=Table;
v=v1;g=meta.k8s.io`) when it prints without `-o json|yaml|name|jsonpath`. Columns follow
kubernetes pkg/printers/internalversion/printers.go (priority 1 = `-o wide` only); a custom
resource without printer columns gets apiextensions' default (Name, Created At). Ages are
k8s.io/apimachinery duration.HumanDuration of the creation time.
"""

from __future__ import annotations

import calendar
import time
from typing import Any

WIDE = 1


def human_duration(seconds: float) -> str:
    s = int(seconds)
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = hours // 24
        return f"{days // 365}y{days % 365}d"
    return f"{hours // 24 // 365}y"


def age(obj: dict[str, Any]) -> str:
    stamp = obj["metadata"].get("creationTimestamp")
    if not stamp:
        return "<unknown>"
    created = calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))
    return human_duration(time.time() - created)


def _col(name: str, kind: str = "string", priority: int = 0, fmt: str = "") -> dict[str, Any]:
    return {"name": name, "type": kind, "format": fmt, "description": "", "priority": priority}


def _containers(obj: dict[str, Any]) -> tuple[str, str]:
    cs = obj["spec"]["template"]["spec"].get("containers", [])
    return ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs)


def _selector(obj: dict[str, Any]) -> str:
    labels = (obj["spec"].get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "<none>"


def _node(o: dict[str, Any]) -> list[Any]:
    ready = next((c for c in o["status"]["conditions"] if c["type"] == "Ready"), None)
    status = "Ready" if ready and ready["status"] == "True" else "NotReady"
    if o["spec"].get("unschedulable"):
        status += ",SchedulingDisabled"
    roles = sorted(
        k.split("/", 1)[1]
        for k in o["metadata"].get("labels", {})
        if k.startswith("node-role.kubernetes.io/")
    )
    addr = {a["type"]: a["address"] for a in o["status"]["addresses"]}
    info = o["status"]["nodeInfo"]
    return [
        o["metadata"]["name"], status, ",".join(roles) or "<none>", age(o),
        info["kubeletVersion"], addr.get("InternalIP", "<none>"),
        addr.get("ExternalIP", "<none>"), info["osImage"], info["kernelVersion"],
        info["containerRuntimeVersion"],
    ]  # fmt: skip


def _pod(o: dict[str, Any]) -> list[Any]:
    st = o.get("status", {})
    statuses = st.get("containerStatuses", [])
    ready = sum(1 for c in statuses if c.get("ready"))
    total = len(o["spec"].get("containers", []))
    restarts = sum(int(c.get("restartCount", 0)) for c in statuses)
    return [
        o["metadata"]["name"], f"{ready}/{total}", st.get("phase", "Pending"), str(restarts),
        age(o), st.get("podIP", "<none>"), o["spec"].get("nodeName") or "<none>", "<none>",
        "<none>",
    ]  # fmt: skip


def _daemonset(o: dict[str, Any]) -> list[Any]:
    s = o.get("status", {})
    names, images = _containers(o)
    node_selector = o["spec"]["template"]["spec"].get("nodeSelector") or {}
    selector = ",".join(f"{k}={v}" for k, v in sorted(node_selector.items())) or "<none>"
    return [
        o["metadata"]["name"], s.get("desiredNumberScheduled", 0),
        s.get("currentNumberScheduled", 0), s.get("numberReady", 0),
        s.get("updatedNumberScheduled", 0), s.get("numberAvailable", 0), selector, age(o),
        names, images, _selector(o),
    ]  # fmt: skip


def _deployment(o: dict[str, Any]) -> list[Any]:
    s = o.get("status", {})
    names, images = _containers(o)
    return [
        o["metadata"]["name"], f"{s.get('readyReplicas', 0)}/{o['spec'].get('replicas', 1)}",
        s.get("updatedReplicas", 0), s.get("availableReplicas", 0), age(o), names, images,
        _selector(o),
    ]  # fmt: skip


def _replicaset(o: dict[str, Any]) -> list[Any]:
    s = o.get("status", {})
    names, images = _containers(o)
    return [
        o["metadata"]["name"], o["spec"].get("replicas", 1), s.get("replicas", 0),
        s.get("readyReplicas", 0), age(o), names, images, _selector(o),
    ]  # fmt: skip


def _pdb(o: dict[str, Any]) -> list[Any]:
    spec = o.get("spec", {})
    return [
        o["metadata"]["name"], str(spec.get("minAvailable", "N/A")),
        str(spec.get("maxUnavailable", "N/A")), o.get("status", {}).get("disruptionsAllowed", 0),
        age(o),
    ]  # fmt: skip


COLUMNS: dict[str, tuple[list[dict[str, Any]], Any]] = {
    "Node": (
        [_col("Name"), _col("Status"), _col("Roles"), _col("Age"), _col("Version"),
         _col("Internal-IP", priority=WIDE), _col("External-IP", priority=WIDE),
         _col("OS-Image", priority=WIDE), _col("Kernel-Version", priority=WIDE),
         _col("Container-Runtime", priority=WIDE)],
        _node,
    ),
    "Pod": (
        [_col("Name"), _col("Ready"), _col("Status"), _col("Restarts", "string"), _col("Age"),
         _col("IP", priority=WIDE), _col("Node", priority=WIDE),
         _col("Nominated Node", priority=WIDE), _col("Readiness Gates", priority=WIDE)],
        _pod,
    ),
    "DaemonSet": (
        [_col("Name"), _col("Desired", "integer"), _col("Current", "integer"),
         _col("Ready", "integer"), _col("Up-to-date", "integer"), _col("Available", "integer"),
         _col("Node Selector"), _col("Age"), _col("Containers", priority=WIDE),
         _col("Images", priority=WIDE), _col("Selector", priority=WIDE)],
        _daemonset,
    ),
    "Deployment": (
        [_col("Name"), _col("Ready"), _col("Up-to-date", "integer"),
         _col("Available", "integer"), _col("Age"), _col("Containers", priority=WIDE),
         _col("Images", priority=WIDE), _col("Selector", priority=WIDE)],
        _deployment,
    ),
    "ReplicaSet": (
        [_col("Name"), _col("Desired", "integer"), _col("Current", "integer"),
         _col("Ready", "integer"), _col("Age"), _col("Containers", priority=WIDE),
         _col("Images", priority=WIDE), _col("Selector", priority=WIDE)],
        _replicaset,
    ),
    "ConfigMap": (
        [_col("Name"), _col("Data", "integer"), _col("Age")],
        lambda o: [o["metadata"]["name"], len(o.get("data") or {}), age(o)],
    ),
    "PodDisruptionBudget": (
        [_col("Name"), _col("Min Available"), _col("Max Unavailable"),
         _col("Allowed Disruptions", "integer"), _col("Age")],
        _pdb,
    ),
    "Namespace": (
        [_col("Name"), _col("Status"), _col("Age")],
        lambda o: [o["metadata"]["name"], "Active", age(o)],
    ),
}  # fmt: skip
CUSTOM = (
    [_col("Name"), _col("Created At", "date")],
    lambda o: [o["metadata"]["name"], o["metadata"].get("creationTimestamp", "")],
)


def table(kind: str, objects: list[dict[str, Any]], rv: str) -> dict[str, Any]:
    columns, row = COLUMNS.get(kind, CUSTOM)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv},
        "columnDefinitions": columns,
        "rows": [
            {
                "cells": row(o),
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": o["metadata"],
                },
            }
            for o in objects
        ],
    }
