"""Mesh addresses (mck/mesh.py) and the WireGuard configuration the mesh role renders."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
import yaml

from mck import mesh
from mck.errors import MckError
from tests.unit.test_static import INVENTORY, REPO, _render

A0, A1, D0, D1, L0 = (
    "mck-k8s-aws-0",
    "mck-k8s-aws-1",
    "mck-k8s-do-0",
    "mck-k8s-do-1",
    "mck-k8s-linode-0",
)

ALLOCATIONS = {
    "a fresh cluster: lowest addresses in name order": (
        [D0, A0, L0],
        {},
        {A0: "10.77.0.1", D0: "10.77.0.2", L0: "10.77.0.3"},
    ),
    "numbers in names sort as numbers": (
        ["x-10", "x-2", "x-1"],
        {},
        {"x-1": "10.77.0.1", "x-2": "10.77.0.2", "x-10": "10.77.0.3"},
    ),
    "a node added before the others by name does not move them": (
        [A0, D0, L0],
        {D0: "10.77.0.1", L0: "10.77.0.2"},
        {D0: "10.77.0.1", L0: "10.77.0.2", A0: "10.77.0.3"},
    ),
    "a removed node's address is freed, the others keep theirs": (
        [A0, L0],
        {A0: "10.77.0.1", D0: "10.77.0.2", L0: "10.77.0.3"},
        {A0: "10.77.0.1", L0: "10.77.0.3"},
    ),
    "add one, remove another: the newcomer takes the lowest free address": (
        [A0, D0, D1],
        {A0: "10.77.0.1", A1: "10.77.0.2", D0: "10.77.0.3"},
        {A0: "10.77.0.1", D0: "10.77.0.3", D1: "10.77.0.2"},
    ),
    "addresses outside the mesh or unusable are allocated afresh": (
        [A0, D0, L0],
        {A0: "192.0.2.1", D0: "10.77.0.0", L0: "not-an-ip"},
        {A0: "10.77.0.1", D0: "10.77.0.2", L0: "10.77.0.3"},
    ),
    "an address claimed twice stays with the first by name": (
        [A0, D0],
        {A0: "10.77.0.5", D0: "10.77.0.5"},
        {A0: "10.77.0.5", D0: "10.77.0.1"},
    ),
    "gaps are filled before the range grows": (
        [A0, D0, D1, L0],
        {A0: "10.77.0.1", L0: "10.77.0.4"},
        {A0: "10.77.0.1", D0: "10.77.0.2", D1: "10.77.0.3", L0: "10.77.0.4"},
    ),
}


@pytest.mark.parametrize("case", ALLOCATIONS.values(), ids=list(ALLOCATIONS))
def test_allocate(case: tuple[list[str], dict[str, str], dict[str, str]]) -> None:
    names, previous, expected = case

    assert mesh.allocate(names, previous) == expected


def test_a_node_keeps_its_address_through_any_sequence_of_adds_and_removes() -> None:
    steps = [[D0, L0], [D0, L0, A0, A1], [L0, A1], [L0, A1, D1, D0], [D1], [D1, A0, L0]]
    previous: dict[str, str] = {}
    for names in steps:
        now = mesh.allocate(names, previous)
        assert set(now) == set(names)
        assert len(set(now.values())) == len(names)  # never two nodes on one address
        for name in set(names) & set(previous):
            assert now[name] == previous[name], (name, names)
        previous = now


def test_a_full_mesh_network_is_an_error() -> None:
    size = mesh.NETWORK.num_addresses - 2
    previous = {f"n-{i}": str(ip) for i, ip in enumerate(mesh.NETWORK.hosts())}
    assert len(previous) == size
    with pytest.raises(MckError, match="no free address for zz-new"):
        mesh.allocate([*previous, "zz-new"], previous)


def test_previous_allocation_is_read_back_from_the_inventory() -> None:
    text = INVENTORY.replace("\\\n", "") + "\n[broken]\n# x mck_mesh_ip=10.77.9.9\n"

    assert mesh.previous_from_inventory(text) == {
        "mck-k8s-do-1": "10.77.0.3",
        "mck-k8s-do-0": "10.77.0.2",
        "mck-k8s-linode-0": "10.77.0.4",
        "mck-k8s-aws-0": "10.77.0.1",
    }


def test_the_role_uses_the_prefix_length_of_the_network_mck_allocates_from() -> None:
    role_vars = yaml.safe_load((REPO / "roles/mesh/vars/main.yml").read_text())
    assert role_vars["mesh_prefix_length"] == mesh.NETWORK.prefixlen
    assert ipaddress.IPv4Network("10.0.0.0/16").overlaps(mesh.NETWORK) is False


KEYS = {
    "mck-k8s-aws-0": "A" * 43 + "=",
    "mck-k8s-do-0": "D" * 43 + "=",
    "mck-k8s-do-1": "E" * 43 + "=",
    "mck-k8s-linode-0": "L" * 43 + "=",
}


def _wg_config(tmp_path: Path, host: str, *, keyless: tuple[str, ...] = ()) -> str:
    inventory = tmp_path / "inventory"
    inventory.write_text(INVENTORY.replace("\\\n", ""))
    # What the role's first task leaves in every node's hostvars: its public key, nothing secret.
    # A `keyless` node did not get that far in this run (unreachable, failed before it).
    (tmp_path / "host_vars").mkdir()
    for name, key in KEYS.items():
        if name in keyless:
            continue
        (tmp_path / "host_vars" / f"{name}.yml").write_text(
            json.dumps({"mesh_node": {"public_key": key}})
        )
    role = REPO / "roles/mesh"
    return _render(
        tmp_path,
        inventory,
        host,
        role / "templates/wg.conf.j2",
        "-e",
        f"@{role / 'defaults/main.yml'}",
        "-e",
        f"@{role / 'vars/main.yml'}",
    )


def _sections(text: str) -> list[dict[str, str]]:
    sections: list[dict[str, str]] = []
    for line in text.splitlines():
        if line.startswith("["):
            sections.append({"section": line})
        elif "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            sections[-1][key.strip()] = value.strip()
    return sections


def test_wireguard_config_has_this_node_and_every_other_as_a_peer(tmp_path: Path) -> None:
    text = _wg_config(tmp_path, "mck-k8s-do-0")

    assert _sections(text) == [
        {
            "section": "[Interface]",
            "Address": "10.77.0.2/16",
            "ListenPort": "51820",
            # Fixed, not wg-quick's guess from the endpoint route (8921 on AWS).
            "MTU": "1420",
            "PostUp": "wg set %i private-key /etc/wireguard/wg0.key",
        },
        # Sorted by name; the AWS peer is reached at its public (NAT'd) address.
        {
            "section": "[Peer]",
            "PublicKey": KEYS["mck-k8s-aws-0"],
            "AllowedIPs": "10.77.0.1/32",
            "Endpoint": "203.0.113.10:51820",
            "PersistentKeepalive": "25",
        },
        {
            "section": "[Peer]",
            "PublicKey": KEYS["mck-k8s-do-1"],
            "AllowedIPs": "10.77.0.3/32",
            "Endpoint": "198.51.100.12:51820",
            "PersistentKeepalive": "25",
        },
        {
            "section": "[Peer]",
            "PublicKey": KEYS["mck-k8s-linode-0"],
            "AllowedIPs": "10.77.0.4/32",
            "Endpoint": "198.51.100.11:51820",
            "PersistentKeepalive": "25",
        },
    ]
    # The private key is loaded from its file on the node; no key material is in the config.
    assert "PrivateKey" not in text
    assert KEYS["mck-k8s-do-0"] not in text


def test_a_node_that_reported_no_key_is_left_out_of_the_mesh_not_everyone(tmp_path: Path) -> None:
    # One node died before the state read: the others still get a config, among themselves;
    # the next run that reaches the dead node adds it back.
    text = _wg_config(tmp_path, "mck-k8s-do-0", keyless=("mck-k8s-do-1",))
    peers = [s["PublicKey"] for s in _sections(text) if s["section"] == "[Peer]"]
    assert peers == [KEYS["mck-k8s-aws-0"], KEYS["mck-k8s-linode-0"]]
    assert "10.77.0.3" not in text  # mck-k8s-do-1's mesh address
