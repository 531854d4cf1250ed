"""One API request to (code, body, headers): discovery, then REST on the resources api_meta
lists, against a backend that reads the shared state and commits changes through dqlite.

Backend: `read()` -> {"dqlite_ok", "shared", "nodes" (registrations with "ready"),
"version" (the kubelet's gitVersion), "address" (host:port for /api)}; `commit(fn)` runs
`fn(shared)` in a dqlite transaction (then the controllers, workloads.reconcile) and returns
its result, raising ApiError (a refusal, or 500 when dqlite has no quorum).
"""

from __future__ import annotations

import copy
import json
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from . import (
    api_discovery,
    api_eviction,
    api_meta,
    api_nodes,
    api_objects,
    api_patch,
    api_tables,
    api_views,
    felix,
)
from .api_meta import ApiError, Resource

Reply = tuple[int, Any, dict[str, str]]
CREATED = "2025-01-01T00:00:00Z"  # the namespaces' creation time (they exist from the start)
NO_RESOURCE = "the server could not find the requested resource"


class Backend(Protocol):
    def read(self) -> dict[str, Any]: ...

    def commit(self, fn: Any) -> Any: ...


def _wants_table(accept: str) -> bool:
    return "as=Table" in accept


def handle(
    method: str, target: str, headers: dict[str, str], body: bytes, backend: Backend
) -> Reply:
    try:
        return _route(method, target, headers, body, backend)
    except ApiError as err:
        return err.code, err.status(), {}


def _route(
    method: str, target: str, headers: dict[str, str], raw: bytes, backend: Backend
) -> Reply:
    url = urlsplit(target)
    query = {k: v[-1] for k, v in parse_qs(url.query).items()}
    parts = [p for p in url.path.split("/") if p]
    if method == "GET" and parts in (["version"], ["version", ""]):
        return 200, api_discovery.version(backend.read()["version"]), {}
    if parts == ["api"] and method == "GET":
        return 200, api_discovery.api_versions(backend.read()["address"]), {}
    if parts == ["apis"] and method == "GET":
        return 200, api_discovery.group_list(), {}
    if len(parts) == 2 and parts[0] == "apis" and method == "GET":
        found = api_discovery.group(parts[1])
        if found is not None:
            return 200, found, {}
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise ApiError(404, "NotFound", NO_RESOURCE)
    if not rest:
        listing = api_discovery.resource_list(f"{group}/{version}" if group else version)
        if listing is None or method != "GET":
            raise ApiError(404, "NotFound", NO_RESOURCE)
        return 200, listing, {}
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    res = api_meta.find(group, version, rest[0])
    if res is None or (namespace and not res.namespaced):
        raise ApiError(404, "NotFound", NO_RESOURCE)
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    if len(rest) > 3 or (sub and not (sub == "eviction" and res.plural == "pods")):
        raise ApiError(404, "NotFound", NO_RESOURCE)
    body: Any = None
    if raw:
        try:
            body = json.loads(raw)
        except ValueError as err:
            raise api_meta.bad_request(f"the stand-in takes JSON bodies only: {err}") from err
    ctype = headers.get("content-type", "application/json")
    accept = headers.get("accept", "")
    if query.get("watch") in ("true", "1"):
        raise ApiError(405, "MethodNotAllowed", "the microk8s stand-in does not implement watch")
    if res.plural == "namespaces":
        return _namespaces(method, name, accept)
    if method == "GET":
        return _get(backend, res, namespace, name, query, accept)
    if query.get("dryRun"):
        raise ApiError(405, "MethodNotAllowed", "the microk8s stand-in does not implement dryRun")
    if sub == "eviction" and method == "POST":
        return 201, backend.commit(lambda s: api_eviction.evict(s, namespace, name, body)), {}
    if res.plural == "nodes":
        return _write_node(method, name, ctype, body, backend)
    if method == "POST" and not name:
        return 201, backend.commit(lambda s: _create(s, res, namespace, body)), {}
    if method in ("PUT", "PATCH") and name:
        warnings: list[str] = []
        obj = backend.commit(
            lambda s: _change(s, res, namespace, name, method, ctype, body, warnings)
        )
        header = {"Warning": ", ".join(f'299 - "{w}"' for w in warnings)} if warnings else {}
        return 200, obj, header
    if method == "DELETE" and name:
        return 200, backend.commit(lambda s: _delete(s, res, namespace, name)), {}
    raise ApiError(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
    )


def _namespaces(method: str, name: str, accept: str) -> Reply:
    if method != "GET":
        raise ApiError(
            405,
            "MethodNotAllowed",
            "the microk8s stand-in keeps the four namespaces a fresh microk8s has",
        )
    res = api_objects.resource("", "namespaces")
    objs = [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": n, "uid": f"namespace-{n}", "creationTimestamp": CREATED,
                      "labels": {"kubernetes.io/metadata.name": n}},
         "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
        for n in api_meta.NAMESPACES
    ]  # fmt: skip
    if name:
        objs = [o for o in objs if o["metadata"]["name"] == name]
        if not objs:
            raise api_meta.not_found(res, name)
    return _present(res, objs, bool(name), accept, "1")


def _objects(backend: Backend, res: Resource) -> tuple[list[dict[str, Any]], str]:
    view = backend.read()
    if not view.get("dqlite_ok") or view.get("shared") is None:
        raise api_meta.read_timeout()
    shared = view["shared"]
    rv = str(shared.get("rv", view.get("rev", 1)))
    if res.plural == "nodes":
        return [api_nodes.node_object(n, rv) for n in view["nodes"]], rv
    ips = {n["name"]: n["internal_ip"] for n in shared["nodes"]}
    return [api_views.decorate(shared, o, ips) for o in api_objects.items(shared, res)], rv


def _get(
    backend: Backend, res: Resource, ns: str, name: str, query: dict[str, str], accept: str
) -> Reply:
    objs, rv = _objects(backend, res)
    if ns:
        objs = [o for o in objs if o["metadata"].get("namespace") == ns]
    if name:
        objs = [o for o in objs if o["metadata"]["name"] == name]
        if not objs:
            raise api_meta.not_found(res, name)
    if query.get("labelSelector"):
        terms = api_views.parse_label_query(query["labelSelector"])
        objs = [o for o in objs if api_views.query_matches(terms, o["metadata"].get("labels", {}))]
    if query.get("fieldSelector"):
        terms = api_views.parse_label_query(query["fieldSelector"])
        api_views.check_fields(res.kind, terms)
        objs = [o for o in objs if api_views.query_matches(terms, api_views.field_values(o))]
    return _present(res, objs, bool(name), accept, rv)


def _present(res: Resource, objs: list[dict[str, Any]], one: bool, accept: str, rv: str) -> Reply:
    if _wants_table(accept):
        return 200, api_tables.table(res.kind, objs, rv), {}
    if one:
        return 200, objs[0], {}
    items = copy.deepcopy(objs)
    if not res.group or res.group in ("apps", "policy"):
        for item in items:  # typed lists carry no kind/apiVersion per item
            item.pop("kind", None)
            item.pop("apiVersion", None)
    listing = {
        "kind": f"{res.kind}List",
        "apiVersion": res.group_version,
        "metadata": {"resourceVersion": rv},
        "items": items,
    }
    return 200, listing, {}


def _check_identity(res: Resource, ns: str, name: str, obj: Any) -> dict[str, Any]:
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


def _create(shared: dict[str, Any], res: Resource, ns: str, body: Any) -> dict[str, Any]:
    obj = _check_identity(res, ns, "", copy.deepcopy(body))
    meta = obj["metadata"]
    if not meta.get("name") and meta.get("generateName"):
        from . import workloads

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


def _change(
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
        new = _check_identity(res, ns, name, copy.deepcopy(body))
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


def _delete(shared: dict[str, Any], res: Resource, ns: str, name: str) -> dict[str, Any]:
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


def _write_node(method: str, name: str, ctype: str, body: Any, backend: Backend) -> Reply:
    res = api_objects.resource("", "nodes")
    ready = {n["name"]: n.get("ready", False) for n in backend.read().get("nodes", [])}

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
            new = _check_identity(res, "", name, copy.deepcopy(body))
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

    return 200, backend.commit(change), {}
