"""Writes the API server commits (inside api_router's backend.commit): create, replace, patch
and delete of stored objects, and the changes a client may make to a Node (cordon, uncordon,
labels), with the validation kube-apiserver applies before storing (identity fields, names,
a ConfigMap's string data, a custom resource's schema).
"""

from __future__ import annotations

import copy
from typing import Any

from . import api_meta, api_nodes, api_objects, api_patch, felix, workloads
from .api_meta import ApiError, Resource


def check_identity(res: Resource, ns: str, name: str, obj: Any) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise api_meta.bad_request("the body must be a JSON object")
    if (
        obj.get("kind", res.kind) != res.kind
        or obj.get("apiVersion", res.group_version) != res.group_version
    ):
        raise api_meta.bad_request(
            f"the API version in the data ({obj.get('apiVersion')}) does not match the "
            f"expected API version ({res.group_version})"
        )
    meta = obj.setdefault("metadata", {})
    if ns and meta.get("namespace", ns) != ns:
        raise api_meta.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    if res.namespaced:
        meta["namespace"] = ns or "default"
    obj["kind"], obj["apiVersion"] = res.kind, res.group_version
    return obj


def create(shared: dict[str, Any], res: Resource, ns: str, body: Any) -> dict[str, Any]:
    obj = check_identity(res, ns, "", copy.deepcopy(body))
    meta = obj["metadata"]
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = meta["generateName"] + workloads.suffix()
    if not meta.get("name"):
        raise api_meta.invalid(
            res, "", [("metadata.name", "Required value: name or generateName is required")]
        )
    if res.namespaced and meta["namespace"] not in api_meta.NAMESPACES:
        raise ApiError(
            404,
            "NotFound",
            f'namespaces "{meta["namespace"]}" not found',
            {"name": meta["namespace"], "kind": "namespaces"},
        )
    if res.kind == "Pod" and not (obj.get("spec") or {}).get("containers"):
        raise api_meta.invalid(res, meta["name"], [("spec.containers", "Required value")])
    for key in ("uid", "resourceVersion", "creationTimestamp"):
        meta.pop(key, None)
    obj.pop("status", None)
    return api_objects.create(shared, res, obj)


def change(
    shared: dict[str, Any],
    res: Resource,
    ns: str,
    name: str,
    method: str,
    ctype: str,
    body: Any,
    warnings: list[str],
) -> dict[str, Any]:
    current = api_objects.get(shared, res, ns, name)
    if current is None:
        raise api_meta.not_found(res, name)
    custom = res.group == felix.GROUP
    if method == "PUT":
        new = check_identity(res, ns, name, copy.deepcopy(body))
        sent = new["metadata"].get("resourceVersion")
        if sent and sent != current["metadata"].get("resourceVersion"):
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {res.qualified} "{name}": the object has been '
                "modified; please apply your changes to the latest version and try again",
                {"name": name, "kind": res.plural},
            )
    elif custom and ctype.startswith(api_patch.MERGE):
        try:
            new, found = felix.patched(current, body)
        except felix.Invalid as err:
            field, _, detail = str(err).partition(": ")
            raise api_meta.invalid(res, name, [(field, detail)]) from err
        warnings += found
        new = {**new, "metadata": current["metadata"]}
    else:
        new = api_patch.apply(current, ctype, body, custom)
    if new.get("metadata", {}).get("name") != name:
        raise api_meta.invalid(
            res,
            name,
            [
                (
                    "metadata.name",
                    f'Invalid value: "{new.get("metadata", {}).get("name")}": field is immutable',
                )
            ],
        )
    for key in ("uid", "creationTimestamp", "namespace"):
        if key in current["metadata"]:
            new["metadata"][key] = current["metadata"][key]
    if res.kind == "ConfigMap":
        for value in (new.get("data") or {}).values():
            if not isinstance(value, str):
                kind = "number" if isinstance(value, int | float) else type(value).__name__
                raise api_meta.bad_request(
                    f"json: cannot unmarshal {kind} into Go struct field ConfigMap.data "
                    "of type string"
                )
    if res.kind in ("Pod", "ReplicaSet", "DaemonSet", "Deployment"):
        new["status"] = current.get("status", {}) if res.kind == "Pod" else new.get("status", {})
    return api_objects.put(shared, res, new)


def delete(shared: dict[str, Any], res: Resource, ns: str, name: str) -> dict[str, Any]:
    gone = api_objects.delete(shared, res, ns, name)
    if gone is None:
        raise api_meta.not_found(res, name)
    if res.kind == "Pod":
        return gone
    details = {"name": name, "kind": res.plural, "uid": gone["metadata"].get("uid", "")}
    if res.group:
        details["group"] = res.group
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }


def node_change(method: str, name: str, ctype: str, body: Any, ready: dict[str, bool]) -> Any:
    """The change function for a write to Node `name` (a PATCH, PUT or DELETE)."""
    res = api_objects.resource("", "nodes")

    def change(shared: dict[str, Any]) -> Any:
        entry = next((n for n in shared["nodes"] if n["name"] == name), None)
        if not name or entry is None:
            if method == "POST":
                raise ApiError(
                    405,
                    "MethodNotAllowed",
                    "nodes register themselves (the kubelet); the stand-in takes no created Node",
                )
            raise api_meta.not_found(res, name)
        rv = str(shared.get("rv", 1))
        old = api_nodes.node_object({**entry, "ready": ready.get(name, False)}, rv)
        if method == "DELETE":
            shared["nodes"] = [n for n in shared["nodes"] if n["name"] != name]
            return {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "details": {"name": name, "kind": "nodes", "uid": old["metadata"]["uid"]},
            }
        if method == "PUT":
            new = check_identity(res, "", name, copy.deepcopy(body))
        elif method == "PATCH":
            new = api_patch.apply(old, ctype, body, False)
        else:
            raise ApiError(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            )
        updated = api_nodes.apply(entry, old, new)
        if updated == entry:
            return old
        entry.clear()
        entry.update(updated)
        return api_nodes.node_object(
            {**entry, "ready": ready.get(name, False)}, api_objects.next_rv(shared)
        )

    return change
