"""Cluster changes as the dqlite leader commits them: pure functions on the shared state.

What a change needs mirrors raft: a majority of voters online (`has_quorum`), else nothing
can be committed — joins hang, `leave`/`remove-node --force` fail, `kubectl delete` fails.
After every change the roles are re-balanced the way go-dqlite's leader does (roles.py).
"""

from __future__ import annotations

import copy
from typing import Any

from . import calico_config, daemonset, felix, roles, store


class ChangeError(Exception):
    pass


def leader(cluster: dict[str, Any], online: set[str]) -> str | None:
    """The member that commits changes: the first online voter, in membership order."""
    for m in cluster["members"]:
        if m["role"] == roles.VOTER and m["address"] in online:
            return str(m["address"])
    return None


def apply(
    cluster: dict[str, Any],
    op: dict[str, Any],
    online: set[str],
    me: str,
    domains: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The state after `op`, committed by leader `me`; raises ChangeError when it cannot commit.

    `domains`: the online members' failure domains (go-dqlite node metadata)."""
    if not roles.has_quorum(cluster["members"], online):
        raise ChangeError("no leader: too few dqlite voters are online to reach quorum")
    new = copy.deepcopy(cluster)
    online = set(online)
    kind = op["op"]
    if kind == "add_member":
        member = op["member"]
        if store.find_member(new, member["address"]) is not None:
            raise ChangeError(f"a node with address {member['address']} already exists")
        new["members"].append(
            {"address": member["address"], "id": member["id"], "role": roles.SPARE}
        )
        online.add(member["address"])  # it is up and listening, that is how it asked to join
        roles.assume(new["members"], member["address"], online)
        if op.get("node"):
            _upsert_node(new, op["node"])
    elif kind == "remove_member":
        if store.find_member(new, op["address"]) is None:
            raise ChangeError(f"no such node ({op['address']})")
        new["members"] = [m for m in new["members"] if m["address"] != op["address"]]
        online.discard(op["address"])
    elif kind == "upsert_node":
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
    elif kind == "noop":
        pass
    else:
        raise ChangeError(f"unknown change {kind!r}")
    roles.settle(new["members"], me, online, domains)
    new["version"] = int(cluster["version"]) + 1
    return new


def _upsert_node(cluster: dict[str, Any], node: dict[str, Any]) -> None:
    existing = store.find_node(cluster, node["name"])
    if existing is None:
        cluster["nodes"].append(dict(node))
        return
    # A kubelet re-registering keeps its Node object (and so its creation time).
    created = existing.get("created", node.get("created"))
    existing.update(node)
    existing["created"] = created
