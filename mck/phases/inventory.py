"""The inventory phase: rendered from the OpenTofu state, never read back to pick a node.

A converge writes the project's `inventory` (the file a user runs `ansible-playbook main.yml -i
inventory` with). Commands and steps that act on nodes before that write (`mck status`, `mck
plan`'s probe, a scale-down's removals, `mck kubeconfig`) render their own from the state into
.mck/: a hand edit of `inventory` (a wrong address) never decides which machine is acted on.
Only what the state cannot say comes from the last inventory: each node's mesh address and the
cluster-wide settings the cluster was built with."""

from __future__ import annotations

from pathlib import Path

from mck import mesh
from mck.files import write_atomic
from mck.inventory import previous_setting, render
from mck.nodes import Node

# The inventory of the state as it is now, for the nodes' probes and removals (see above).
STATE_INVENTORY = "state.inventory"


def write_inventory(
    project: Path,
    nodes: list[Node],
    previous: str,
    *,
    name: str,
    encryption: str,
    public_api: bool,
    ssh_public_key_file: str = "",
    path: Path | None = None,
) -> dict[str, str]:
    """Write the inventory (the project's, or `path`); returns node name -> mesh address.
    Addresses come back from the inventory written last time (`previous`), so a live node keeps
    its address whatever else changes."""
    mesh_ips = mesh.allocate([n.name for n in nodes], mesh.previous_from_inventory(previous))
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
    project: Path, state_dir: Path, nodes: list[Node], previous: str, *, name: str
) -> Path:
    """An inventory of the state's `nodes` in .mck/, with the settings of the last converge
    (`previous`, the text of its inventory): what a read-only probe or a removal runs against."""
    path = state_dir / STATE_INVENTORY
    write_inventory(
        project,
        nodes,
        previous,
        name=previous_setting(previous, "mck_cluster_name") or name,
        encryption=previous_setting(previous, "mck_encryption") or "mesh",
        public_api=previous_setting(previous, "mck_public_api") == "true",
        path=path,
    )
    return path
