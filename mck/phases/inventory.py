"""The inventory phase: rendered from the OpenTofu state, never read back to pick a node.

A converge writes the project's `inventory` (the file a user runs `ansible-playbook main.yml -i
inventory` with). Commands and steps that act on nodes before that write (`mck status`, `mck
plan`'s probe, a scale-down's removals, `mck kubeconfig`) render their own from the state into
.mck/: a hand edit of `inventory` (a wrong address) never decides which machine is acted on.
What the VMs' state cannot say (each node's mesh address, the settings the cluster was built
with, the host keys each VM first showed) comes from the cluster's record (mck/cluster_facts.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from mck import known_hosts, mesh
from mck.cluster_facts import ClusterFacts
from mck.files import write_atomic
from mck.inventory import render
from mck.nodes import Node

# The inventory of the state as it is now, for the nodes' probes and removals (see above).
STATE_INVENTORY = "state.inventory"
KNOWN_HOSTS = "known_hosts"  # ansible.cfg's UserKnownHostsFile, in the project's .mck/


def write_inventory(
    project: Path,
    nodes: list[Node],
    previous_ips: Mapping[str, str],
    *,
    name: str,
    encryption: str,
    public_api: bool,
    ssh_public_key_file: str = "",
    path: Path | None = None,
) -> dict[str, str]:
    """Write the inventory (the project's, or `path`); returns node name -> mesh address.
    A node that had an address (`previous_ips`, from the cluster's record) keeps it, whatever
    else changes."""
    mesh_ips = mesh.allocate([n.name for n in nodes], previous_ips)
    text = render(
        nodes,
        template=project / "templates" / "inventory.j2",
        cluster_name=name,
        mesh_ips=mesh_ips,
        encryption=encryption,
        public_api=public_api,
        ssh_public_key_file=ssh_public_key_file,
    )
    write_atomic(path or project / "inventory", text, mode=0o644)  # no secrets in it: readable
    return mesh_ips


def state_inventory(
    project: Path, state_dir: Path, nodes: list[Node], facts: ClusterFacts, *, name: str
) -> Path:
    """An inventory of the state's `nodes` in .mck/, with the settings the cluster was built
    with: what a read-only probe or a removal runs against. The recorded host keys go into
    .mck/known_hosts first, so the probe's first contact with a VM is checked."""
    path = state_dir / STATE_INVENTORY
    write_inventory(
        project,
        nodes,
        facts.mesh_ips,
        name=facts.cluster_name or name,
        encryption=facts.encryption or "mesh",
        public_api=facts.public_api,
        path=path,
    )
    trust_recorded_keys(state_dir, nodes, facts)
    return path


def trust_recorded_keys(state_dir: Path, nodes: list[Node], facts: ClusterFacts) -> None:
    """Put each VM's recorded host keys in .mck/known_hosts, for the VMs the record was made
    of (the same id: a replaced VM is a new machine, met for the first time)."""
    recorded = {}
    for node in nodes:
        found = facts.host_keys.get(node.name)
        if found is not None and found.keys and node.vm_id and found.vm_id == node.vm_id:
            recorded[node.public_ip] = found.keys
    if recorded:
        known_hosts.trust(state_dir / KNOWN_HOSTS, recorded)
