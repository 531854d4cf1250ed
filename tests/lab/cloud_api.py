"""The fake cloud API's operations (see the lab contract): request validation and dispatch to
the Lab (VMs) and the ObjectStore (everything else)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .api_client import LabApiError
from .object_store import ObjectStore

if TYPE_CHECKING:
    from .lab import Lab

# op -> fields it takes besides "op"
FIELDS: dict[str, set[str]] = {
    "create_host": {"cloud", "name", "ssh_keys"},
    "get_host": {"id"},
    "delete_host": {"id"},
    "list_hosts": set(),
    "put": {"kind", "object"},
    "get": {"kind", "id"},
    "delete": {"kind", "id"},
    "list": {"kind"},
}


class CloudApi:
    def __init__(self, lab: Lab, store: ObjectStore) -> None:
        self.lab = lab
        self.store = store

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if not isinstance(op, str) or op not in FIELDS:
            raise LabApiError("bad_request", f"unknown op {op!r}; ops: {', '.join(FIELDS)}")
        unexpected = set(request) - FIELDS[op] - {"op"}
        if unexpected:
            raise LabApiError("bad_request", f"{op}: unexpected fields {sorted(unexpected)}")
        if op == "create_host":
            keys = request.get("ssh_keys")
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                raise LabApiError("bad_request", "create_host: ssh_keys must be a list of strings")
            host = self.lab.create_host(_str(request, "cloud"), _str(request, "name"), keys)
            return host.to_api()
        if op == "get_host":
            return self.lab.get_host(_str(request, "id")).to_api()
        if op == "delete_host":
            self.lab.delete_host(_str(request, "id"))
            return {}
        if op == "list_hosts":
            return {"hosts": [host.to_api() for host in self.lab.hosts()]}
        kind = _str(request, "kind")
        if op == "put":
            obj = request.get("object")
            if not isinstance(obj, dict):
                raise LabApiError("bad_request", "put: object must be a JSON object")
            stored = self.store.put(kind, obj)
            return {"id": stored["id"], "object": stored}
        if op == "get":
            return {"object": self.store.get(kind, _str(request, "id"))}
        if op == "delete":
            self.store.delete(kind, _str(request, "id"))
            return {}
        return {"objects": self.store.list(kind)}


def _str(request: dict[str, Any], field: str) -> str:
    value = request.get(field)
    if not isinstance(value, str) or not value:
        raise LabApiError("bad_request", f"{request['op']}: {field} must be a non-empty string")
    return value
