"""Changes to the shared cluster state, as the API server applies them: pure functions.

Membership of dqlite itself (joins, removals, roles) is not here: go-dqlite does it. What
clients change through the API server (cordon, patches, evictions) is api_router.py's.
"""

from __future__ import annotations

import copy
from typing import Any

from . import store


class ChangeError(Exception):
    pass


def apply(shared: dict[str, Any], op: dict[str, Any]) -> dict[str, Any]:
    """The state after `op`; raises ChangeError when the change is refused."""
    new = copy.deepcopy(shared)
    kind = op["op"]
    if kind == "upsert_node":
        _upsert_node(new, op["node"])
    elif kind == "delete_node":
        new["nodes"] = [n for n in new["nodes"] if n["name"] != op["name"]]
    elif kind == "set_addon":
        enabled = set(new["addons"])
        if op["enabled"]:
            enabled.add(op["name"])
        else:
            enabled.discard(op["name"])
        new["addons"] = sorted(enabled)
    else:
        raise ChangeError(f"unknown change {kind!r}")
    return new


def _upsert_node(shared: dict[str, Any], node: dict[str, Any]) -> None:
    existing = store.find_node(shared, node["name"])
    if existing is None:
        shared["nodes"].append(dict(node))
        return
    # A kubelet re-registering keeps its Node object (and so its creation time).
    created = existing.get("created", node.get("created"))
    existing.update(node)
    existing["created"] = created
