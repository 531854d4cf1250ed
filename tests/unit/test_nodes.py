from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mck.errors import MckError
from mck.nodes import (
    Node,
    NodeChanges,
    name_key,
    nodes_from_state,
    nodes_from_stored_state,
    planned_changes,
    planned_nodes,
)

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())  # type: ignore[no-any-return]


def test_count_state_gives_one_node_per_vm_sorted_by_name() -> None:
    nodes = nodes_from_state(load("state_count.json"))

    assert nodes == [
        Node(
            "mck-k8s-aws-0",
            "aws",
            "203.0.113.10",
            "192.0.2.10",
            "admin",
            True,
            "aws_instance.node[0]",
            "i-0a1b2c3d4e5f60718",  # the cloud's id: a replaced VM has a new one
        ),
        Node(
            "mck-k8s-do-0",
            "digitalocean",
            "198.51.100.10",
            "198.18.0.10",
            "root",
            False,
            "digitalocean_droplet.node[0]",
            "456789012",  # the cloud's id: a replaced VM has a new one
        ),
        Node(
            "mck-k8s-do-1",
            "digitalocean",
            "198.51.100.12",
            "198.18.0.12",
            "root",
            False,
            "digitalocean_droplet.node[1]",
            "456789013",  # the cloud's id: a replaced VM has a new one
        ),
        Node(
            "mck-k8s-linode-0",
            "linode",
            "198.51.100.11",
            "198.18.1.11",
            "root",
            False,
            "linode_instance.node[0]",
            "61234567",  # the cloud's id: a replaced VM has a new one
        ),
    ]


def test_for_each_and_nested_child_modules_are_walked() -> None:
    nodes = {n.name: n for n in nodes_from_state(load("state_modules.json"))}

    assert list(nodes) == ["lab-aws-a", "lab-aws-b", "lab-do-x", "lab-hcloud-0", "lab-linode-edge"]
    assert nodes["lab-aws-a"].address == 'module.aws.aws_instance.node["a"]'
    assert nodes["lab-do-x"].address == 'module.do["fra1"].digitalocean_droplet.node["x"]'
    hcloud = nodes["lab-hcloud-0"]
    assert hcloud.address == "module.aws.module.hetzner.hcloud_server.node[0]"
    assert (hcloud.cloud, hcloud.ssh_user, hcloud.nat, hcloud.private_ip) == (
        "hcloud",
        "root",
        False,
        None,
    )
    # Linode without private networking reports "" for the private address: no private IP.
    assert nodes["lab-linode-edge"].private_ip is None
    assert nodes["lab-linode-edge"].address == 'linode_instance.node["edge"]'


def test_empty_state_has_no_nodes() -> None:
    # `terraform show -json` before the first apply prints only the format version.
    assert nodes_from_state({"format_version": "1.0"}) == []


def test_names_sort_with_numbers_in_numeric_order() -> None:
    state = load("state_count.json")
    resources = state["values"]["root_module"]["resources"]
    droplet = next(r for r in resources if r["address"] == "digitalocean_droplet.node[1]")
    droplet["values"]["name"] = "mck-k8s-do-10"

    names = [n.name for n in nodes_from_state(state)]

    assert names == ["mck-k8s-aws-0", "mck-k8s-do-0", "mck-k8s-do-10", "mck-k8s-linode-0"]
    assert sorted(["n-10", "n-2", "n-1"], key=name_key) == ["n-1", "n-2", "n-10"]


def _droplet(state: dict[str, Any], index: int) -> dict[str, Any]:
    resources = state["values"]["root_module"]["resources"]
    return next(r for r in resources if r["address"] == f"digitalocean_droplet.node[{index}]")


def test_duplicate_names_name_both_resources() -> None:
    state = load("state_count.json")
    _droplet(state, 1)["values"]["name"] = "mck-k8s-do-0"

    with pytest.raises(MckError) as err:
        nodes_from_state(state)

    assert "digitalocean_droplet.node[0]" in err.value.message
    assert "digitalocean_droplet.node[1]" in err.value.message
    assert "rename" in err.value.message


@pytest.mark.parametrize("missing", [None, ""])
def test_a_vm_without_public_ip_is_an_error_naming_its_address(missing: str | None) -> None:
    state = load("state_modules.json")
    aws = state["values"]["root_module"]["child_modules"][0]["resources"][1]
    aws["values"]["public_ip"] = missing

    with pytest.raises(MckError) as err:
        nodes_from_state(state)

    assert 'module.aws.aws_instance.node["b"]' in err.value.message
    assert "public IP" in err.value.message


def test_an_aws_instance_without_a_name_tag_is_an_error() -> None:
    state = load("state_count.json")
    aws = state["values"]["root_module"]["resources"][1]
    aws["values"]["tags"] = {}

    with pytest.raises(MckError, match=r"aws_instance\.node\[0\] has no tags\.Name"):
        nodes_from_state(state)


@pytest.mark.parametrize("name", ["Mck-K8s", "two words", "a=b", "x\ny", "-lead"])
def test_names_that_cannot_be_hostnames_are_refused(name: str) -> None:
    state = load("state_count.json")
    _droplet(state, 0)["values"]["name"] = name

    with pytest.raises(MckError, match="cannot be a hostname"):
        nodes_from_state(state)


def test_a_garbled_ip_is_refused() -> None:
    state = load("state_count.json")
    _droplet(state, 0)["values"]["ipv4_address_private"] = "10.0.0.1 evil=1"

    with pytest.raises(MckError, match="not an IP address"):
        nodes_from_state(state)


def test_data_sources_other_resources_and_deposed_objects_are_not_nodes() -> None:
    state = load("state_count.json")
    resources = state["values"]["root_module"]["resources"]
    # A deposed droplet (create_before_destroy leftover) carries the same name as the new one.
    deposed = copy.deepcopy(_droplet(state, 0))
    deposed["deposed_key"] = "5c3e91a0"
    deposed["values"]["ipv4_address"] = "198.51.100.99"
    resources.append(deposed)
    # A data source of a VM type is a read, not a VM mck manages.
    data = copy.deepcopy(_droplet(state, 1))
    data.update(mode="data", address="data.digitalocean_droplet.node[1]")
    resources.append(data)

    assert [n.name for n in nodes_from_state(state)] == [
        "mck-k8s-aws-0",
        "mck-k8s-do-0",
        "mck-k8s-do-1",
        "mck-k8s-linode-0",
    ]
    assert nodes_from_state(state)[1].public_ip == "198.51.100.10"


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"values": {}}, "format_version"),
        ({"format_version": "2.0"}, "format 2.0"),
        ({"format_version": "1.0", "values": {"root_module": {"resources": {}}}}, "not a list"),
        ({"format_version": "1.0", "values": []}, "not an object"),
    ],
)
def test_json_that_is_not_show_output_is_refused(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(MckError, match=message):
        nodes_from_state(doc)


def test_planned_changes_reads_creates_deletes_and_replacements() -> None:
    changes = planned_changes(load("plan_changes.json"))

    assert changes == NodeChanges(
        # aws_instance.node[1] gets its Name tag from a value known only after apply.
        created=("aws_instance.node[1]", "mck-k8s-do-2"),
        # The deposed droplet is an old object; the update, no-op and read touch no node;
        # the ssh key is not a VM.
        destroyed=("mck-k8s-do-1",),
        # delete-then-create and create_before_destroy are both replacements.
        replaced=("edge-hcloud-x", "mck-k8s-linode-0"),
    )


def test_a_plan_without_changes_has_no_node_changes() -> None:
    assert planned_changes({"format_version": "1.2"}) == NodeChanges()


def test_forget_alone_is_no_node_change_but_create_forget_is_a_replacement() -> None:
    plan = load("plan_changes.json")
    droplet = next(
        r for r in plan["resource_changes"] if r["address"] == "digitalocean_droplet.node[0]"
    )
    droplet["change"]["actions"] = ["forget"]
    assert "mck-k8s-do-0" not in planned_changes(plan).destroyed

    droplet["change"]["actions"] = ["create", "forget"]
    assert "mck-k8s-do-0" in planned_changes(plan).replaced


def _change(plan: dict[str, Any], address: str) -> dict[str, Any]:
    rc = next(r for r in plan["resource_changes"] if r["address"] == address)
    return rc["change"]  # type: ignore[no-any-return]


def _plan_with_known_names() -> dict[str, Any]:
    """The recorded plan, with aws_instance.node[1]'s Name tag known at plan time."""
    plan = load("plan_changes.json")
    change = _change(plan, "aws_instance.node[1]")
    change["after"]["tags"] = {"Name": "mck-k8s-aws-1"}
    change["after_unknown"]["tags"] = False
    return plan


def test_planned_nodes_are_those_left_after_apply() -> None:
    planned = planned_nodes(_plan_with_known_names())
    assert [(n.name, n.cloud, n.nat) for n in planned] == [
        ("edge-hcloud-x", "hcloud", False),
        ("mck-k8s-aws-0", "aws", True),
        ("mck-k8s-aws-1", "aws", True),
        ("mck-k8s-do-0", "digitalocean", False),
        ("mck-k8s-do-2", "digitalocean", False),
        ("mck-k8s-linode-0", "linode", False),
    ]  # mck-k8s-do-1 is deleted, its deposed twin is not a node


def test_stored_state_gives_the_same_nodes_as_show_json() -> None:
    # One lab state (Terraform 1.11.4, three clouds) in both formats.
    stored = nodes_from_stored_state(load("stored_state_lab.json"))
    assert [n.cloud for n in stored] == ["aws", "digitalocean", "linode"]
    assert stored == nodes_from_state(load("show_state_lab.json"))


def _stored(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"version": 4, "terraform_version": "1.11.4", "resources": list(resources)}


def _stored_droplet(name: str, ip: str, **instance: Any) -> dict[str, Any]:
    return {
        "attributes": {"name": name, "ipv4_address": ip, "ipv4_address_private": None},
        **instance,
    }


def test_stored_state_addresses_modules_and_keys_and_skips_deposed_and_data() -> None:
    state = _stored(
        {
            "module": 'module.eu["fra"]',
            "mode": "managed",
            "type": "digitalocean_droplet",
            "name": "node",
            "each": "map",
            "instances": [
                _stored_droplet("a", "198.51.100.1", index_key="a"),
                # create_before_destroy's old VM, about to go: not a node.
                _stored_droplet("a", "198.51.100.9", index_key="a", deposed="00000001"),
            ],
        },
        {
            "mode": "managed",
            "type": "digitalocean_droplet",
            "name": "solo",
            "instances": [_stored_droplet("b", "198.51.100.2")],
        },
        {"mode": "data", "type": "aws_ami", "name": "debian", "instances": [{"attributes": {}}]},
    )
    nodes = nodes_from_stored_state(state)
    assert [(n.name, n.public_ip, n.address) for n in nodes] == [
        ("a", "198.51.100.1", 'module.eu["fra"].digitalocean_droplet.node["a"]'),
        ("b", "198.51.100.2", "digitalocean_droplet.solo"),
    ]


def test_stored_state_of_another_format_is_refused_by_name() -> None:
    with pytest.raises(MckError, match="state format 5; mck reads format 4"):
        nodes_from_stored_state({"version": 5, "resources": []})


def test_stored_state_without_resources_has_no_nodes() -> None:
    assert nodes_from_stored_state({"version": 4}) == []
