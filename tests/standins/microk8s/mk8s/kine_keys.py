"""The shared cluster state seen as k8s-dqlite's keys, for `microk8s dbctl` (cmd_dbctl.py).

The real datastore is kine over dqlite: one key per object, `/registry/<resource>/<ns>/<name>`
as kube-apiserver stores them (`/registry/minions/<name>` for Nodes; custom resources under
`/registry/<group>/<plural>/…`). The stand-in keeps one JSON row (store.py); this module lists
that row as such keys and writes keys back, so the migrator's semantics hold over it:
- backup (canonical/k8s-dqlite pkg/migrator/migrator.go BackupDqlite): every key under `/`;
- restore (RestoreToDqlite + util.go putKey): each key of the backup is created, or put over
  the current value when it exists; keys that are not in the backup are left as they are (an
  object created after the backup survives a restore; one deleted after it comes back).
The stand-in's own fields (cluster-wide addons, the Calico objects it keeps apart) travel as
`/registry/standin/<field>`. The cluster id and the revision counter are not keys: a restore
gives each restored object a new resourceVersion, as kine gives each write a new revision.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from . import api_meta, api_objects

PREFIX = "/registry/"
NODES = "minions"
STANDIN = "standin"
NOT_KEYS = ("cluster_id", "rv", "nodes", "objects")
BUILTIN_GROUPS = ("", "apps", "policy")  # kube-apiserver's prefix is the resource alone


def _object_key(stored: str) -> str:
    group, plural, namespace, name = stored.split("/", 3)
    parts = [plural] if group in BUILTIN_GROUPS else [group, plural]
    return PREFIX + "/".join([*parts, *([namespace] if namespace else []), name])


def _stored_key(key: str) -> str:
    parts = key[len(PREFIX) :].split("/")
    res = next(
        (r for r in api_meta.RESOURCES if r.group in BUILTIN_GROUPS and r.plural == parts[0]),
        None,
    )
    if res is None:
        res = next(r for r in api_meta.RESOURCES if (r.group, r.plural) == tuple(parts[:2]))
        parts = parts[1:]
    namespace, name = (parts[1], parts[2]) if res.namespaced else ("", parts[1])
    return f"{res.group}/{res.plural}/{namespace}/{name}"


def dump(shared: dict[str, Any]) -> list[tuple[str, bytes]]:
    """Every key and value, sorted by key (kine lists in key order)."""
    found = [(f"{PREFIX}{NODES}/{n['name']}", n) for n in shared.get("nodes", [])]
    found += [(_object_key(k), o) for k, o in shared.get("objects", {}).items()]
    found += [(f"{PREFIX}{STANDIN}/{k}", v) for k, v in shared.items() if k not in NOT_KEYS]
    return sorted((key, json.dumps(value, sort_keys=True).encode()) for key, value in found)


def put(shared: dict[str, Any], key: str, data: bytes) -> None:
    """Create `key` or write over it (in place, inside a store.update_shared change)."""
    if not key.startswith(PREFIX):
        raise ValueError(f"key {key!r} is outside {PREFIX}")
    value = json.loads(data)
    kind, _, rest = key[len(PREFIX) :].partition("/")
    if kind == NODES:
        nodes = [n for n in shared.get("nodes", []) if n["name"] != rest]
        shared["nodes"] = [*nodes, value]
    elif kind == STANDIN:
        shared[rest] = value
    else:
        obj = copy.deepcopy(value)
        obj["metadata"]["resourceVersion"] = api_objects.next_rv(shared)
        shared.setdefault("objects", {})[_stored_key(key)] = obj
