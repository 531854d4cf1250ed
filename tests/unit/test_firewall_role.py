"""The firewall role's ruleset and boot unit, rendered by ansible itself for a node of an
inventory in mck's shape, in the variants the role's variables allow. The lab test
(tests/e2e/test_firewall.py) proves the default ruleset's effect on real traffic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "firewall"
BIN = Path(sys.executable).parent

INVENTORY = """\
[digitalocean]
mck-k8s-do-0 ansible_host=198.51.100.10 ansible_user=root mck_cloud=digitalocean \
mck_public_ip=198.51.100.10 mck_private_ip=198.18.0.10 mck_nat=false

[linode]
mck-k8s-linode-0 ansible_host=198.51.100.11 ansible_user=root mck_cloud=linode \
mck_public_ip=198.51.100.11 mck_nat=false

[aws]
mck-k8s-aws-0 ansible_host=203.0.113.10 ansible_user=admin mck_cloud=aws \
mck_public_ip=203.0.113.10 mck_private_ip=192.0.2.10 mck_nat=true

[k8s:children]
digitalocean
linode
aws
"""
CLUSTER_TCP = "{ 16443, 10250, 10255, 25000, 12379, 10257, 10259, 19001 }"

# Every variant in one ansible run (each run costs seconds): template_vars override the role's.
VARIANTS = {
    "default": {},
    "public": {
        "firewall_public_api": True,
        "firewall_public_tcp_ports": [80, 443],
        "firewall_public_udp_ports": [3478],
        "firewall_cluster_udp_ports": [],
    },
    "no_mesh": {"firewall_mesh_interface": "", "firewall_cni_interfaces": []},
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("firewall")
    (tmp / "inventory").write_text(INVENTORY.replace("\\\n", ""))
    template = ROLE / "templates" / "mck-firewall.nft.j2"
    lookups = {
        name: f"lookup('ansible.builtin.template', '{template}', template_vars={overrides!r})"
        for name, overrides in VARIANTS.items()
    }
    # Without the mesh, the cluster's own addresses are the sources the README tells to use.
    lookups["no_mesh"] = lookups["no_mesh"].replace(
        "})", ", 'firewall_cluster_sources': firewall_node_addresses})"
    )
    lookups["unit"] = (
        f"lookup('ansible.builtin.template', '{ROLE}/templates/mck-firewall.service.j2')"
    )
    lookups["node_addresses"] = "firewall_node_addresses"
    expression = "{{ {" + ", ".join(f"'{k}': {v}" for k, v in lookups.items()) + "} }}"
    proc = subprocess.run(
        [
            str(BIN / "ansible"),
            "mck-k8s-do-0",
            "-i",
            str(tmp / "inventory"),
            "-m",
            "ansible.builtin.debug",
            "-a",
            f"msg={expression}",
            "-e",
            f"@{ROLE / 'defaults/main.yml'}",
            "-e",
            f"@{ROLE / 'vars/main.yml'}",
        ],
        cwd=REPO,
        env={
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-tmp"),
            "ANSIBLE_HOME": str(tmp / "ansible-home"),
            "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
            "ANSIBLE_FORCE_COLOR": "0",
        },
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    prefix, _, result = proc.stdout.partition(" => ")
    assert prefix == "mck-k8s-do-0 | SUCCESS", proc.stdout
    msg: dict[str, str] = json.loads(result)["msg"]
    return msg


def _rules(text: str) -> list[str]:
    """The input chain's statements, without comments and blank lines."""
    body = text.split("policy drop;", 1)[1]
    lines = [line.strip() for line in body.splitlines()]
    return [line for line in lines if line and not line.startswith("#") and line != "}"]


BASE = [
    "ct state invalid drop",
    "ct state established,related accept",
    'iifname "lo" accept',
    "meta l4proto { icmp, ipv6-icmp } accept",
    "ip6 saddr fe80::/10 udp dport 546 accept",
    "tcp dport 22 accept",
    "udp dport 51820 accept",
]


def test_default_trusts_the_mesh_whole(rendered: dict[str, str]) -> None:
    text = rendered["default"]
    # The whole table is replaced in one transaction, and only mck's table.
    statements = [line for line in text.splitlines() if line and not line.startswith(("#", "\t"))]
    assert statements[:3] == ["table inet mck", "delete table inet mck", "table inet mck {"]
    assert "ruleset" not in "".join(statements)  # never `flush ruleset`: other tables stay
    assert "type filter hook input priority filter; policy drop;" in text
    assert _rules(text) == [
        *BASE,
        'iifname "wg0" accept',
        'iifname "cali*" accept',
        'iifname "vxlan.calico" accept',
        'iifname "vxlan-v6.calico" accept',
        'iifname "wireguard.cali" accept',
    ]


def test_public_api_and_public_ports_are_opt_in(rendered: dict[str, str]) -> None:
    rules = _rules(rendered["public"])
    assert rules[len(BASE) : len(BASE) + 3] == [
        "tcp dport 16443 accept",
        "tcp dport { 80, 443 } accept",
        "udp dport { 3478 } accept",
    ]
    assert "tcp dport 16443 accept" not in _rules(rendered["default"])
    # An empty port list leaves its rule out (`{ }` would not parse).
    assert [rule for rule in rules if "wg0" in rule] == ['iifname "wg0" accept']
    # The public side stays closed to cluster ports: none is opened by port number.
    assert not [rule for rule in rules if "10250" in rule or "4789" in rule]


def test_without_the_mesh_only_the_nodes_reach_cluster_ports(rendered: dict[str, str]) -> None:
    sources = "{ 192.0.2.10, 198.18.0.10, 198.51.100.10, 198.51.100.11, 203.0.113.10 }"
    assert _rules(rendered["no_mesh"]) == [
        *BASE,
        f"ip saddr {sources} tcp dport {CLUSTER_TCP} accept",
        f"ip saddr {sources} udp dport {{ 4789 }} accept",
    ]


def test_node_addresses_are_every_public_and_private_ip(rendered: dict[str, str]) -> None:
    assert rendered["node_addresses"] == [
        "192.0.2.10",
        "198.18.0.10",
        "198.51.100.10",
        "198.51.100.11",
        "203.0.113.10",
    ]


def test_boot_unit_loads_the_same_file_before_the_network(rendered: dict[str, str]) -> None:
    unit = rendered["unit"].splitlines()
    assert "ExecStart=/usr/sbin/nft -f /etc/mck-firewall.nft" in unit
    assert "Before=network-pre.target shutdown.target" in unit
    assert "After=nftables.service" in unit  # Debian's unit flushes the whole ruleset
    assert "WantedBy=sysinit.target" in unit
