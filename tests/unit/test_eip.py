"""An AWS instance with an Elastic IP in the same state is reached at the EIP, not at its stale
`public_ip` (mck/eip.py), in both state shapes mck reads: `show -json` (values, child modules)
and the stored state `state pull` prints (instances with index keys). The states are the
recorded fixtures with EIP resources added, shaped as terraform-provider-aws stores them
(internal/service/ec2/ec2_eip.go: `instance`, `network_interface`, `public_ip`)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from mck.nodes import nodes_from_state, nodes_from_stored_state

FIXTURES = Path(__file__).parent / "fixtures"
EIP_A = "198.51.100.201"
EIP_B = "198.51.100.202"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())  # type: ignore[no-any-return]


def _eip(address: str, values: dict[str, Any], **extra: Any) -> dict[str, Any]:
    kind = address.split(".")[-2] if address.startswith("module.") else address.split(".")[0]
    return {"address": address, "mode": "managed", "type": kind, "values": values, **extra}


def _modules_state(*resources: dict[str, Any]) -> dict[str, Any]:
    """state_modules.json (module.aws.aws_instance.node["a"] and ["b"], for_each) plus
    `resources` in a module of their own, module.ips."""
    state = load("state_modules.json")
    aws = state["values"]["root_module"]["child_modules"][0]
    aws["resources"][1]["values"]["primary_network_interface_id"] = "eni-0b0b0b0b0b0b0b0b0"
    state["values"]["root_module"]["child_modules"].append(
        {"address": "module.ips", "resources": list(resources)}
    )
    return state


def _by_name(state: dict[str, Any]) -> dict[str, str]:
    return {n.name: n.public_ip for n in nodes_from_state(state)}


def test_without_an_eip_the_instance_public_ip_is_used() -> None:
    ips = _by_name(_modules_state())
    assert (ips["lab-aws-a"], ips["lab-aws-b"]) == ("203.0.113.21", "203.0.113.22")


def test_a_for_each_eip_in_another_module_replaces_the_stale_public_ip() -> None:
    state = _modules_state(
        _eip(
            'module.ips.aws_eip.node["a"]',
            {"id": "eipalloc-0a", "instance": "i-0aaaaaaaaaaaaaaa1", "public_ip": EIP_A},
        )
    )
    nodes = {n.name: n for n in nodes_from_state(state)}

    assert nodes["lab-aws-a"].public_ip == EIP_A
    assert nodes["lab-aws-a"].nat is True  # an EIP is mapped onto the VM too, not bound on it
    assert nodes["lab-aws-a"].private_ip == "192.0.2.21"
    assert nodes["lab-aws-b"].public_ip == "203.0.113.22"  # no EIP: unchanged


def test_an_eip_on_the_instance_network_interface_counts() -> None:
    state = _modules_state(
        _eip(
            "module.ips.aws_eip.b",
            {
                "id": "eipalloc-0b",
                "instance": "",
                "network_interface": "eni-0b0b0b0b0b0b0b0b0",
                "public_ip": EIP_B,
            },
        )
    )
    assert _by_name(state)["lab-aws-b"] == EIP_B


def test_an_eip_association_gives_the_eip_address_by_its_allocation() -> None:
    spare = {"id": "eipalloc-0c", "instance": "", "public_ip": EIP_A}
    link = {"allocation_id": "eipalloc-0c", "instance_id": "i-0aaaaaaaaaaaaaaa1", "public_ip": ""}
    state = _modules_state(
        _eip("module.ips.aws_eip.spare[0]", spare),
        _eip("module.ips.aws_eip_association.a", link),
    )
    assert _by_name(state)["lab-aws-a"] == EIP_A


def test_unattached_deposed_and_data_source_eips_change_nothing() -> None:
    attached_to_a = {"id": "eipalloc-0d", "instance": "i-0aaaaaaaaaaaaaaa1", "public_ip": EIP_A}
    state = _modules_state(
        _eip("module.ips.aws_eip.free", {"id": "eipalloc-0e", "instance": "", "public_ip": EIP_B}),
        _eip("module.ips.aws_eip.old", attached_to_a, deposed_key="00000001"),
        {**_eip("data.aws_eip.looked_up", attached_to_a), "mode": "data"},
    )
    assert _by_name(state)["lab-aws-a"] == "203.0.113.21"


def test_only_nat_clouds_take_an_eip() -> None:
    # A droplet whose id happens to equal an EIP's `instance` is not an AWS instance.
    droplet_id = "456789099"  # module.do["fra1"].digitalocean_droplet.node["x"]
    state = _modules_state(
        _eip("module.ips.aws_eip.x", {"instance": droplet_id, "public_ip": EIP_A})
    )
    assert droplet_id in json.dumps(state["values"]["root_module"]["child_modules"][1])
    assert _by_name(state)["lab-do-x"] != EIP_A


def test_the_stored_state_reads_a_for_each_module_eip_the_same_way() -> None:
    stored = load("stored_state_lab.json")
    instance = next(r for r in stored["resources"] if r["type"] == "aws_instance")
    instance_id = instance["instances"][0]["attributes"]["id"]
    stored["resources"].append(
        {
            "module": 'module.ips["eu"]',
            "mode": "managed",
            "type": "aws_eip",
            "name": "node",
            "each": "map",
            "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
            "instances": [
                {
                    "index_key": "aws-0",
                    "schema_version": 0,
                    "attributes": {
                        "id": "eipalloc-0f",
                        "allocation_id": "eipalloc-0f",
                        "association_id": "eipassoc-0f",
                        "domain": "vpc",
                        "instance": instance_id,
                        "network_interface": instance["instances"][0]["attributes"][
                            "primary_network_interface_id"
                        ],
                        "public_ip": EIP_B,
                    },
                }
            ],
        }
    )
    show = load("show_state_lab.json")
    show["values"]["root_module"].setdefault("child_modules", []).append(
        {
            "address": 'module.ips["eu"]',
            "resources": [
                _eip(
                    'module.ips["eu"].aws_eip.node["aws-0"]',
                    copy.deepcopy(stored["resources"][-1]["instances"][0]["attributes"]),
                )
            ],
        }
    )

    aws = next(n for n in nodes_from_stored_state(stored) if n.cloud == "aws")

    assert aws.public_ip == EIP_B
    assert nodes_from_stored_state(stored) == nodes_from_state(show)
