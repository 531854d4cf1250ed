"""The API server's objects, kept in the shared cluster state in dqlite (store.py).

Nodes are the kubelets' registrations (`nodes` in the shared state, see api_nodes.py). The
objects the stand-in modelled first keep their own keys (`felix`, `calico_node`,
`calico_config`, with defaults as Calico's manifest creates them); every other object is kept
under `objects`, keyed by group, resource, namespace and name. resourceVersion is one counter
for the whole state (`rv`), as etcd's revision is for kube-apiserver. Functions here change
`shared` in place: they run inside a store.update_shared transaction.
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Callable
from typing import Any

from . import api_meta, calico_config, daemonset, felix
from .api_meta import Resource

# Objects kept under their own key: (group, plural, namespace, name) -> (key, default maker).
BUILTINS: dict[tuple[str, str, str, str], tuple[str, Callable[[dict[str, Any]], Any]]] = {
    (felix.GROUP, "felixconfigurations", "", "default"): ("felix", felix.current),
    ("apps", "daemonsets", daemonset.NAMESPACE, daemonset.NAME): ("calico_node", daemonset.current),
    ("", "configmaps", calico_config.NAMESPACE, calico_config.NAME): (
        "calico_config",
        calico_config.current,
    ),
}


def resource(group: str, plural: str) -> Resource:
    found = next(r for r in api_meta.RESOURCES if (r.group, r.plural) == (group, plural))
    return found


def _key(res: Resource, namespace: str, name: str) -> str:
    return f"{res.group}/{res.plural}/{namespace if res.namespaced else ''}/{name}"


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def next_rv(shared: dict[str, Any]) -> str:
    shared["rv"] = int(shared.get("rv", 100)) + 1
    return str(shared["rv"])


def items(shared: dict[str, Any], res: Resource) -> list[dict[str, Any]]:
    """Every stored object of `res` (nodes excepted), sorted by namespace and name."""
    found = []
    for (group, plural, _, _), (_, default) in BUILTINS.items():
        if (group, plural) == (res.group, res.plural) and "cluster_id" in shared:
            found.append(default(shared))
    prefix = f"{res.group}/{res.plural}/"
    found += [o for k, o in shared.get("objects", {}).items() if k.startswith(prefix)]
    return sorted(found, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))


def get(shared: dict[str, Any], res: Resource, namespace: str, name: str) -> Any:
    builtin = BUILTINS.get((res.group, res.plural, namespace if res.namespaced else "", name))
    if builtin is not None:
        return builtin[1](shared) if "cluster_id" in shared else None
    return shared.get("objects", {}).get(_key(res, namespace, name))


def put(shared: dict[str, Any], res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
    """Store a changed object with a new resourceVersion (and generation when spec moved)."""
    meta = obj["metadata"]
    namespace = meta.get("namespace", "")
    old = get(shared, res, namespace, meta["name"])
    if old is not None and _same(old, obj):
        return old  # nothing changed: no new resourceVersion (kubectl then says "no change")
    obj = copy.deepcopy(obj)
    obj["metadata"]["resourceVersion"] = next_rv(shared)
    if old is not None and "generation" in old["metadata"] and old.get("spec") != obj.get("spec"):
        obj["metadata"]["generation"] = int(old["metadata"]["generation"]) + 1
    builtin = BUILTINS.get((res.group, res.plural, namespace, meta["name"]))
    if builtin is not None:
        shared[builtin[0]] = obj
    else:
        shared.setdefault("objects", {})[_key(res, namespace, meta["name"])] = obj
    return obj


def _same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    strip = {"resourceVersion", "generation"}
    a = {**old, "metadata": {k: v for k, v in old["metadata"].items() if k not in strip}}
    b = {**new, "metadata": {k: v for k, v in new["metadata"].items() if k not in strip}}
    return a == b


def create(shared: dict[str, Any], res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
    """A new object as the API server completes it: uid, creation time, defaults."""
    obj = copy.deepcopy(obj)
    meta = obj.setdefault("metadata", {})
    if get(shared, res, meta.get("namespace", ""), meta["name"]) is not None:
        raise api_meta.already_exists(res, meta["name"])
    meta["uid"] = str(uuid.uuid4())
    meta["creationTimestamp"] = now()
    if res.kind in ("Deployment", "DaemonSet", "ReplicaSet", "PodDisruptionBudget"):
        meta["generation"] = 1
    if res.kind == "Pod":
        _pod_defaults(obj)
    return put(shared, res, obj)


def delete(shared: dict[str, Any], res: Resource, namespace: str, name: str) -> Any:
    builtin = BUILTINS.get((res.group, res.plural, namespace, name))
    if builtin is not None:
        raise api_meta.ApiError(
            405,
            "MethodNotAllowed",
            f'the stand-in keeps {res.qualified} "{name}"; it is not deleted',
        )
    return shared.get("objects", {}).pop(_key(res, namespace, name), None)


def _pod_defaults(pod: dict[str, Any]) -> None:
    spec = pod.setdefault("spec", {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    started = now()
    containers = spec.get("containers", [])
    pod["status"] = {
        "phase": "Running",
        "conditions": [
            {"type": t, "status": "True", "lastTransitionTime": started}
            for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
        ],
        "startTime": started,
        "containerStatuses": [
            {
                "name": c.get("name", ""),
                "image": c.get("image", ""),
                "ready": True,
                "started": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": started}},
            }
            for c in containers
        ],
    }
