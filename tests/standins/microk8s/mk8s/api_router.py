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
    api_tables,
    api_views,
    api_writes,
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
        ready = {n["name"]: n.get("ready", False) for n in backend.read().get("nodes", [])}
        change = api_writes.node_change(method, name, ctype, body, ready)
        return 200, backend.commit(change), {}
    if method == "POST" and not name:
        return 201, backend.commit(lambda s: api_writes.create(s, res, namespace, body)), {}
    if method in ("PUT", "PATCH") and name:
        warnings: list[str] = []
        obj = backend.commit(
            lambda s: api_writes.change(s, res, namespace, name, method, ctype, body, warnings)
        )
        header = {"Warning": ", ".join(f'299 - "{w}"' for w in warnings)} if warnings else {}
        return 200, obj, header
    if method == "DELETE" and name:
        return 200, backend.commit(lambda s: api_writes.delete(s, res, namespace, name)), {}
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
