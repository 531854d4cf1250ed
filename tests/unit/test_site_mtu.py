"""main.yml's MTU settings: wg0's fixed MTU, and the veth MTU Calico gets from the launch
configuration (extraCNIEnv CALICO_VETH_MTU, which microk8s' scripts/generate-cni.sh writes
into calico-config's veth_mtu), evaluated by Ansible's own templating as the play does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

REPO = Path(__file__).resolve().parents[2]
PLAY = yaml.safe_load((REPO / "main.yml").read_text())[0]
ROLES = {role["role"]: role for role in PLAY["roles"]}
VXLAN_OVERHEAD = 50  # outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14


def _role_vars(role: str, encryption: str) -> dict[str, Any]:
    # The play's own vars are templates too (as Ansible trusts what a playbook file holds).
    play_vars = {
        k: trust_as_template(v) if isinstance(v, str) else v for k, v in PLAY["vars"].items()
    }
    variables = {**play_vars, "mck_encryption": encryption, "mck_mesh_ip": "10.77.0.3"}
    templar = Templar(loader=DataLoader(), variables=variables)
    return {
        name: templar.template(trust_as_template(value)) if isinstance(value, str) else value
        for name, value in ROLES[role].get("vars", {}).items()
    }


def test_wg0_gets_a_fixed_mtu_that_fits_a_1500_path() -> None:
    mtu = int(_role_vars("mesh", "mesh")["mesh_mtu"])
    assert mtu == 1420  # 1500 - 80, WireGuard's overhead over IPv6 (wg-quick's own margin)


def test_the_launch_configuration_gives_calico_a_veth_mtu_inside_wg0() -> None:
    mtu = int(_role_vars("mesh", "mesh")["mesh_mtu"])
    # The launch configuration template writes every value as a string.
    env = {k: str(v) for k, v in _role_vars("microk8s", "mesh")["microk8s_extra_cni_env"].items()}
    assert env == {
        "IP_AUTODETECTION_METHOD": "interface=wg0",
        "CALICO_VETH_MTU": str(mtu - VXLAN_OVERHEAD),
    }
    assert env["CALICO_VETH_MTU"] == "1370"


def test_without_the_mesh_calico_detects_its_mtu_itself() -> None:
    for encryption in ("calico-wireguard", "none"):
        assert _role_vars("microk8s", encryption)["microk8s_extra_cni_env"] == {}
