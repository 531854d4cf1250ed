"""`microk8s remove-node NAME|IP [--force]`, run on a remaining control-plane node.

Checked against microk8s-resources/wrappers/microk8s-remove-node.wrapper and
scripts/wrappers/remove_node.py: an IP is first mapped to the Node with that InternalIP; a node
whose InternalIP is still a dqlite member is refused without --force ("Removal failed. Node X is
registered with dqlite. ...", exit 1) — run `leave` on it first; with --force its dqlite entry
is removed too. Anything that makes the kubectl lookups fail (unknown node, API server down)
lands in "Node X does not exist in Kubernetes.", exit 1; with --force it still tries to drop a
dqlite entry whose address starts with the given string. A failed dqlite removal exits 2.
"""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from typing import Any

from . import cmd_leave, common, paths, service


def _nodes() -> list[dict[str, Any]]:
    """kubectl get no -o json; CalledProcessError when the API server does not answer."""
    current = service.status(fresh=True)
    if current is None or not current["ready"]:
        raise subprocess.CalledProcessError(1, ["/snap/microk8s/current/kubectl", "get", "no"])
    return list(current["nodes"])


def _node(name: str) -> dict[str, Any]:
    found = next((n for n in _nodes() if n["name"] == name), None)
    if found is None:
        raise subprocess.CalledProcessError(
            1, ["/snap/microk8s/current/kubectl", "get", "no", name]
        )
    return found


def _delete_dqlite_node(node_ep: str, via: list[str]) -> None:
    if "127.0.0.1" in node_ep or not via:
        return
    answer = service.ask("remove-member", {"address": node_ep})
    if answer is None or answer[0] != 200:
        error = subprocess.CalledProcessError(
            1, cmd_leave.dqlite_command("/snap/microk8s/current", f".remove {node_ep}")
        )
        print(f"Contacting node {via[0]} failed. Error:")
        print(repr(error))
        sys.exit(2)


def remove_dqlite_node(node: str, force: bool) -> None:
    try:
        try:
            ipaddress.ip_address(node)
            is_ip = True
        except ValueError:
            is_ip = False
        if is_ip:
            node = next((n["name"] for n in _nodes() if n["internal_ip"] == node), node)
        node_address = _node(node)["internal_ip"]
        if not node_address:
            common.die(f"Node {node} is not part of the cluster.")
        mine, others = cmd_leave.endpoints(cmd_leave.dqlite_cluster())
        node_ep = next((ep for ep in others if ep.startswith(f"{node_address}:")), None)
        if node_ep and force:
            _delete_dqlite_node(node_ep, mine)
        elif node_ep:
            print(
                f"Removal failed. Node {node} is registered with dqlite. "
                "Please, run first 'microk8s leave' on the departing node. \n"
                "If the node is not available anymore and will never attempt to join the cluster "
                "in the future use the '--force' flag \n"
                "to unregister the node while removing it."
            )
            sys.exit(1)
    except subprocess.CalledProcessError:
        print(f"Node {node} does not exist in Kubernetes.")
        if force:
            print(f"Attempting to remove {node} from dqlite.")
            mine, others = cmd_leave.endpoints(cmd_leave.dqlite_cluster())
            for ep in others:
                if ep.startswith(f"{node}:"):
                    print("Removing node entry found in dqlite.")
                    _delete_dqlite_node(ep, mine)
        sys.exit(1)
    remove_node(node)


def remove_node(node: str) -> None:
    try:
        _node(node)
    except subprocess.CalledProcessError:
        common.die(f"Node {node} does not exist.")
    answer = service.ask("change", {"op": {"op": "delete_node", "name": node}})
    if answer is None or answer[0] != 200:
        raise subprocess.CalledProcessError(
            1, ["/snap/microk8s/current/microk8s-kubectl.wrapper", "delete", "no", node]
        )


def main(argv: list[str]) -> None:
    common.exit_if_no_permissions()
    if common.is_worker():
        common.die(
            "This MicroK8s deployment is acting as a node in a cluster. Please use microk8s leave."
        )
    if not argv:
        common.die("Please provide the node you want to remove.")
    if paths.has_lock("ha-cluster") and len(argv) == 2 and argv[1] != "--force":
        common.die("Please provide the node and the optional --force flag.")
    force = "--force" in argv
    rest = [a for a in argv if a != "--force"]
    unknown = [a for a in rest if a.startswith("-")]
    if unknown or len(rest) != 1:
        print("Usage: microk8s remove-node [OPTIONS] NODE", file=sys.stderr)
        print("Try 'microk8s remove-node --help' for help.", file=sys.stderr)
        print("", file=sys.stderr)
        what = f"No such option: {unknown[0]}" if unknown else "Got unexpected extra argument"
        print(f"Error: {what}", file=sys.stderr)
        sys.exit(2)
    if paths.has_lock("ha-cluster"):
        remove_dqlite_node(rest[0], force)
    else:
        remove_node(rest[0])
    sys.exit(0)
