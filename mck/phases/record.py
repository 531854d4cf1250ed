"""The record phase: the cluster's facts written into the state (mck/cluster_facts.py) once
configure has reached the nodes, before any of them joins: a mesh address is shared before a
node is known by it, and each VM's host keys are those ssh met when mck first configured it.
Nothing is written when the record already says it all (a converge that changes nothing)."""

from __future__ import annotations

from dataclasses import replace

from mck import cluster_facts, known_hosts
from mck.ansible import PlayResult
from mck.cluster_facts import ClusterFacts, HostKeys
from mck.nodes import Node
from mck.phases.context import Run
from mck.phases.inventory import KNOWN_HOSTS


def record_facts(
    run: Run, facts: ClusterFacts, built: ClusterFacts, nodes: list[Node], configured: PlayResult
) -> ClusterFacts:
    """Write `built` (name, encryption, public API, mesh addresses of `nodes`) with each node's
    host keys: those ssh used this run for a node it reached, else the recorded ones of the same
    VM. Returns the record the state now holds."""
    keys_file = run.state_dir / KNOWN_HOSTS
    host_keys: dict[str, HostKeys] = {}
    for node in nodes:
        stats = configured.hosts.get(node.name)
        reached = stats is not None and not stats.unreachable
        keys = known_hosts.keys_of(keys_file, node.public_ip) if reached else ()
        old = facts.host_keys.get(node.name)
        if keys and node.vm_id:
            host_keys[node.name] = HostKeys(node.vm_id, keys)
        elif old is not None and old.vm_id == node.vm_id:
            host_keys[node.name] = old
    new = replace(built, host_keys=host_keys, source="state")
    if facts.source == "state" and new.same_as(facts):
        return facts
    what = "written" if facts.source == "state" else "first written"
    run.ui.phase("record", f"the cluster's facts {what} into the state ({cluster_facts.ADDRESS})")
    cluster_facts.write(run.tofu, new)
    return new
