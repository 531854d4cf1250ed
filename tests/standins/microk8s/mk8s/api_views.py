"""What the API server adds to a stored object when it is read: the status the controllers
(kubelet, DaemonSet, Deployment, ReplicaSet and disruption controllers) would have written, and
label / field selectors (k8s.io/apimachinery labels.Parse, fields.ParseSelector subsets).
"""

from __future__ import annotations

import copy
import math
from typing import Any

from . import api_meta, api_objects, workloads


def label_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A metav1.LabelSelector: matchLabels and matchExpressions (In, NotIn, Exists,
    DoesNotExist). An empty selector matches everything (policy/v1 PDB semantics)."""
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def parse_label_query(text: str) -> list[tuple[str, str, str]]:
    """`a=b,c!=d,e,!f` as (key, op, value); set-based `in (…)` is refused (400)."""
    terms = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if " in " in part or " notin " in part or "(" in part:
            raise api_meta.bad_request(
                f"the stand-in does not implement the label selector {part!r}"
            )
        if "!=" in part:
            k, v = part.split("!=", 1)
            terms.append((k.strip(), "!=", v.strip()))
        elif "==" in part or "=" in part:
            k, v = part.replace("==", "=").split("=", 1)
            terms.append((k.strip(), "=", v.strip()))
        elif part.startswith("!"):
            terms.append((part[1:].strip(), "!", ""))
        else:
            terms.append((part, "exists", ""))
    return terms


def query_matches(terms: list[tuple[str, str, str]], values: dict[str, str]) -> bool:
    for key, op, want in terms:
        have = values.get(key)
        if op == "=" and have != want:
            return False
        if op == "!=" and have == want:
            return False
        if op == "exists" and key not in values:
            return False
        if op == "!" and key in values:
            return False
    return True


FIELDS = {
    "Pod": ("metadata.name", "metadata.namespace", "spec.nodeName", "status.phase"),
    "Node": ("metadata.name", "spec.unschedulable"),
}


def field_values(obj: dict[str, Any]) -> dict[str, str]:
    values = {
        "metadata.name": obj["metadata"]["name"],
        "metadata.namespace": obj["metadata"].get("namespace", ""),
    }
    if obj["kind"] == "Pod":
        values["spec.nodeName"] = obj["spec"].get("nodeName", "")
        values["status.phase"] = obj.get("status", {}).get("phase", "")
    if obj["kind"] == "Node":
        values["spec.unschedulable"] = "true" if obj["spec"].get("unschedulable") else "false"
    return values


def check_fields(kind: str, terms: list[tuple[str, str, str]]) -> None:
    allowed = FIELDS.get(kind, ("metadata.name", "metadata.namespace"))
    for key, op, _ in terms:
        if key not in allowed or op not in ("=", "!="):
            raise api_meta.bad_request(
                f'"{key}" is not a known field selector: only "{", ".join(allowed)}"'
            )


def _owned(shared: dict[str, Any], uid: str) -> list[dict[str, Any]]:
    pods = api_objects.items(shared, api_objects.resource("", "pods"))
    return [p for p in pods if workloads.controller_uid(p) == uid]


def pdb_status(shared: dict[str, Any], pdb: dict[str, Any]) -> dict[str, Any]:
    """The disruption controller's arithmetic (pkg/controller/disruption): expected pods are
    the matching pods here (real: the owners' scale), healthy ones the Ready ones."""
    ns = pdb["metadata"].get("namespace", "")
    spec = pdb.get("spec", {})
    pods = [
        p
        for p in api_objects.items(shared, api_objects.resource("", "pods"))
        if p["metadata"].get("namespace") == ns
        and label_matches(spec.get("selector") or {}, p["metadata"].get("labels", {}))
    ]
    expected = len(pods)
    healthy = sum(
        1
        for p in pods
        if any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in p.get("status", {}).get("conditions", [])
        )
    )

    def scaled(value: Any, round_up: bool) -> int:
        if isinstance(value, str) and value.endswith("%"):
            share = int(value[:-1]) * expected / 100
            return math.ceil(share) if round_up else math.floor(share)
        return int(value)

    if "minAvailable" in spec:
        desired = scaled(spec["minAvailable"], True)
    elif "maxUnavailable" in spec:
        desired = expected - scaled(spec["maxUnavailable"], True)
    else:
        desired = expected
    allowed = max(0, healthy - desired)
    return {
        "observedGeneration": pdb["metadata"].get("generation", 1),
        "disruptionsAllowed": allowed,
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "expectedPods": expected,
        "conditions": [
            {
                "type": "DisruptionAllowed",
                "status": "True" if allowed else "False",
                "reason": "SufficientPods" if allowed else "InsufficientPods",
                "message": "",
                "observedGeneration": pdb["metadata"].get("generation", 1),
                "lastTransitionTime": pdb["metadata"].get("creationTimestamp", ""),
            }
        ],
    }


def pdbs_for(shared: dict[str, Any], pod: dict[str, Any]) -> list[dict[str, Any]]:
    ns = pod["metadata"].get("namespace", "")
    return [
        b
        for b in api_objects.items(shared, api_objects.resource("policy", "poddisruptionbudgets"))
        if b["metadata"].get("namespace") == ns
        and label_matches(
            (b.get("spec") or {}).get("selector") or {}, pod["metadata"].get("labels", {})
        )
    ]


def decorate(
    shared: dict[str, Any], obj: dict[str, Any], node_ips: dict[str, str]
) -> dict[str, Any]:
    """The object as read: its controller-written status filled in."""
    obj = copy.deepcopy(obj)
    kind = obj.get("kind")
    if kind == "Pod":
        node = obj["spec"].get("nodeName", "")
        status = obj.setdefault("status", {})
        if node in node_ips:
            status["hostIP"] = node_ips[node]
            status["podIP"] = node_ips[node] if obj["spec"].get("hostNetwork") else _pod_ip(obj)
        elif not node:
            status["phase"] = "Pending"
    elif kind in ("DaemonSet", "ReplicaSet", "Deployment"):
        uid = obj["metadata"]["uid"]
        if kind == "Deployment":
            pods = [p for rs in _owned_rs(shared, uid) for p in _owned(shared, rs)]
        else:
            pods = _owned(shared, uid)
        n = len(pods)
        gen = obj["metadata"].get("generation", 1)
        if kind == "DaemonSet":
            obj["status"] = {
                "currentNumberScheduled": n,
                "desiredNumberScheduled": len(shared["nodes"]),
                "numberAvailable": n,
                "numberMisscheduled": 0,
                "numberReady": n,
                "observedGeneration": gen,
                "updatedNumberScheduled": n,
            }
        else:
            obj["status"] = {
                "availableReplicas": n,
                "fullyLabeledReplicas": n,
                "observedGeneration": gen,
                "readyReplicas": n,
                "replicas": n,
            }
            if kind == "Deployment":
                del obj["status"]["fullyLabeledReplicas"]
                obj["status"]["updatedReplicas"] = n
    elif kind == "PodDisruptionBudget":
        obj["status"] = pdb_status(shared, obj)
    return obj


def _owned_rs(shared: dict[str, Any], uid: str) -> list[str]:
    sets = api_objects.items(shared, api_objects.resource("apps", "replicasets"))
    return [rs["metadata"]["uid"] for rs in sets if workloads.controller_uid(rs) == uid]


def _pod_ip(pod: dict[str, Any]) -> str:
    """A stable address in microk8s' Calico pool 10.1.0.0/16 for a pod on the pod network."""
    h = int(pod["metadata"]["uid"].replace("-", "")[:8], 16)
    return f"10.1.{(h >> 8) % 256}.{h % 254 + 1}"
