"""Changes to the shared cluster state, as the API server applies them: pure functions.

Membership of dqlite itself (joins, removals, roles) is not here: go-dqlite does it.
"""

from __future__ import annotations

import copy
from typing import Any

from . import calico_config, daemonset, felix, store


class ChangeError(Exception):
    pass


def apply(shared: dict[str, Any], op: dict[str, Any]) -> dict[str, Any]:
    """The state after `op`; raises ChangeError when the change is refused."""
    new = copy.deepcopy(shared)
    kind = op["op"]
    if kind == "upsert_node":
        _upsert_node(new, op["node"])
    elif kind == "cordon_node":
        node = store.find_node(new, op["name"])
        if node is None:
            raise ChangeError(f'nodes "{op["name"]}" not found')
        node["unschedulable"] = True
    elif kind == "delete_node":
        new["nodes"] = [n for n in new["nodes"] if n["name"] != op["name"]]
    elif kind == "set_addon":
        enabled = set(new["addons"])
        if op["enabled"]:
            enabled.add(op["name"])
        else:
            enabled.discard(op["name"])
        new["addons"] = sorted(enabled)
    elif kind == "patch_felix":
        # The API server applies a merge patch to what it stores at that moment.
        try:
            new["felix"], _ = felix.patched(felix.current(new), op["patch"])
        except felix.Invalid as err:
            raise ChangeError(str(err)) from err
    elif kind == "set_calico_node_env":
        # `kubectl set env` patches the template as stored at that moment.
        new["calico_node"] = daemonset.with_env(daemonset.current(new), op["selector"], op["env"])
    elif kind == "patch_calico_config":
        try:
            new["calico_config"] = calico_config.patched(calico_config.current(new), op["patch"])
        except calico_config.Invalid as err:
            raise ChangeError(str(err)) from err
    elif kind == "restart_calico_node":
        new["calico_node"] = calico_config.restarted(daemonset.current(new), op["at"])
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
