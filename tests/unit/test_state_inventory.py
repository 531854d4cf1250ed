"""The inventory commands act through is rendered from the state (issue 14): a hand edit of the
project's `inventory` never picks the machine a probe or a removal reaches. Only what the state
cannot say comes from the last inventory: mesh addresses and the cluster-wide settings."""

from __future__ import annotations

import shutil
from pathlib import Path

from mck import cluster_facts, mesh
from mck.inventory import previous_setting
from mck.nodes import Node
from mck.phases.inventory import STATE_INVENTORY, state_inventory

REPO = Path(__file__).resolve().parents[2]
NODES = [
    Node("mck-k8s-do-0", "digitalocean", "198.51.100.10", None, "root", False, "a[0]"),
    Node("mck-k8s-do-1", "digitalocean", "198.51.100.11", None, "root", False, "a[1]"),
]
# What the last converge wrote, then edited by hand: do-1's address changed to do-0's.
EDITED = """[digitalocean]
mck-k8s-do-0 ansible_host=198.51.100.10 ansible_user=root mck_mesh_ip=10.77.0.7
mck-k8s-do-1 ansible_host=198.51.100.10 ansible_user=root mck_mesh_ip=10.77.0.3

[all:vars]
mck_cluster_name=prod
mck_encryption=none
mck_public_api=true
"""


def test_the_state_gives_the_addresses_the_last_inventory_only_the_rest(tmp_path: Path) -> None:
    shutil.copytree(REPO / "templates", tmp_path / "templates")
    (tmp_path / "inventory").write_text(EDITED)
    (tmp_path / ".mck").mkdir()

    facts = cluster_facts.read(None, EDITED)  # a cluster from before the record: its inventory
    path = state_inventory(tmp_path, tmp_path / ".mck", NODES, facts, name="ignored")

    assert path == tmp_path / ".mck" / STATE_INVENTORY
    text = path.read_text()
    assert "mck-k8s-do-1 ansible_host=198.51.100.11 " in text  # the state's, not the edit's
    assert mesh.previous_from_inventory(text) == {
        "mck-k8s-do-0": "10.77.0.7",
        "mck-k8s-do-1": "10.77.0.3",
    }
    assert previous_setting(text, "mck_cluster_name") == "prod"
    assert previous_setting(text, "mck_encryption") == "none"
    assert previous_setting(text, "mck_public_api") == "true"
    assert (tmp_path / "inventory").read_text() == EDITED  # the user's file is left alone
