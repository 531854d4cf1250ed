"""Refuse before harm: plans that would do damage without a word are stopped before the apply.

Each check compares the plan with what the last converge knew (the cluster's record, and the
inventory it wrote in this checkout):
- no nodes at all: `mck` and `mck plan` refuse alike (`--destroy` is the way to remove a
  cluster), before anything is applied;
- a state with no nodes while the last inventory lists nodes: the state was lost or emptied
  and the plan would build a second cluster beside the live one; a state whose nodes are none
  of the inventory's is another project's or cluster's, and the plan would rename or replace
  live nodes;
- a changed `cluster_name` on a running cluster: every VM, key and security group is named
  after it, so the plan replaces them all. Pinned like the encryption mode (mck/encryption.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mck import mesh
from mck.cluster_facts import ClusterFacts
from mck.errors import UsageError
from mck.nodes import Node, NodeChanges, PlannedNode


def check_plan(
    planned: Sequence[PlannedNode],
    changes: NodeChanges,
    inventory: str,
    *,
    cluster_name: str,
    built: ClusterFacts,
    stored_nodes: Callable[[], Sequence[Node]],
) -> None:
    """Raise a one-line UsageError when applying this plan would do harm. `stored_nodes` reads
    the state's nodes as stored (before refresh); it is called only for a project that has
    converged before (the inventory lists nodes). `built`: the cluster's record."""
    if not planned:
        raise UsageError(
            "the configuration has no nodes: set at least one node count in instances.tf "
            "(to remove the cluster, use mck --destroy)"
        )
    known = sorted(mesh.previous_from_inventory(inventory))
    if known:
        _check_state(known, [n.name for n in stored_nodes()])
    previous = built.cluster_name
    if previous and previous != cluster_name and (built.source == "state" or built.mesh_ips):
        raise UsageError(
            f"this cluster was built with cluster_name {previous!r}, not {cluster_name!r}: "
            "every VM, key and security group is named after it, so the change would replace "
            f"them all; set cluster_name back to {previous!r} (or destroy the cluster first)"
        )


def _check_state(known: list[str], stored: list[str]) -> None:
    """A lost state, or another cluster's, against the nodes this checkout's inventory lists
    (a second checkout has none: the shared state is its only record)."""
    restore = (
        "restore terraform.tfstate (terraform.tfstate.backup, or your backend's versions), or "
        "if those VMs are really gone, delete inventory and run again"
    )
    if not stored:
        raise UsageError(
            f"the state has no nodes, but the last converge's inventory lists {_names(known)}: "
            f"the state was lost or replaced, and going on would build a second cluster: {restore}"
        )
    if not set(stored) & set(known):
        raise UsageError(
            f"the state's nodes ({_names(sorted(stored))}) are none of the inventory's "
            f"({_names(known)}): the state is another project's or cluster's, and going on "
            f"would rename or replace live nodes: {restore}"
        )


def _names(names: Sequence[str]) -> str:
    return ", ".join(names[:5]) + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")
