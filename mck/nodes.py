"""Nodes: what mck knows about each VM, read from OpenTofu state JSON (`show -json`, or the
stored state `state pull` prints).

Every VM resource type maps onto a `Node` through one small `Adapter` in `ADAPTERS`: adding a
provider means adding one entry there (plus its HCL), nothing else. An AWS instance with an
Elastic IP in the same state is reached at the EIP (mck/eip.py). The same adapters read a
plan (`show -json <planfile>`) to tell which nodes are about to be created or destroyed, and
check the planned names before anything is applied (mck/names.py).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mck import names
from mck.eip import ElasticIps, elastic_ips
from mck.errors import MckError, UsageError
from mck.tofu_json import as_list, check_format, mapping, resources, stored_resources, text


@dataclass(frozen=True)
class Node:
    name: str  # the VM's name (hostname, inventory name, k8s node name)
    cloud: str  # digitalocean | linode | aws | hcloud
    public_ip: str  # address mck and the other nodes reach it on
    private_ip: str | None  # provider-private address, if any
    ssh_user: str  # root on DigitalOcean/Linode/Hetzner, admin on AWS Debian AMIs
    nat: bool  # True when public_ip is not bound on the VM (AWS 1:1 NAT)
    address: str  # resource address in state, e.g. module.x.aws_instance.node["a"]
    vm_id: str = ""  # the cloud's id of this VM: a replaced VM has a new one (and new host keys)


@dataclass(frozen=True)
class NodeChanges:
    """Node names a plan will create, destroy, or destroy and create again (replace)."""

    created: tuple[str, ...] = ()
    destroyed: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()


@dataclass(frozen=True)
class Adapter:
    """Where one VM resource type keeps a node's facts. Paths are dotted: `tags.Name`."""

    cloud: str
    ssh_user: str
    name: str
    public_ip: str
    private_ip: str | None
    nat: bool = False  # the public IP is mapped onto the VM by the cloud, not bound on it


ADAPTERS: dict[str, Adapter] = {
    "digitalocean_droplet": Adapter(
        "digitalocean", "root", "name", "ipv4_address", "ipv4_address_private"
    ),
    "linode_instance": Adapter("linode", "root", "label", "ip_address", "private_ip_address"),
    # Debian's AMIs log in as `admin`; EC2 maps the public IP 1:1 onto the private one.
    "aws_instance": Adapter("aws", "admin", "tags.Name", "public_ip", "private_ip", nat=True),
    "hcloud_server": Adapter("hcloud", "root", "name", "ipv4_address", None),
}

# Clouds in the order mck lists them (inventory groups, reports).
CLOUDS: tuple[str, ...] = tuple(dict.fromkeys(a.cloud for a in ADAPTERS.values()))

# The format `tofu state pull` prints (OpenTofu and Terraform since 0.12).
STORED_STATE_FORMAT = 4


def name_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders `x-2` before `x-10`: digit runs compare as numbers."""
    parts = re.split(r"(\d+)", name)
    return tuple((1, int(p)) if p.isdigit() else (0, p) for p in parts if p)


@dataclass(frozen=True)
class StateNodes:
    """The nodes in a state, and every VM resource that cannot be one (one line each, saying
    what to change): one unusable VM never hides the others."""

    nodes: list[Node]
    unusable: tuple[str, ...] = ()
    facts_record: str | None = None  # the cluster's record in the same state (cluster_facts.py)

    def strict(self) -> list[Node]:
        """The nodes, or one error naming every unusable VM at once."""
        if self.unusable:
            raise MckError(unusable_message(self.unusable))
        return self.nodes


def nodes_from_state(show_json: Mapping[str, Any]) -> list[Node]:
    """Every VM in `tofu show -json` output, sorted by name."""
    return read_state(show_json).strict()


def read_state(show_json: Mapping[str, Any]) -> StateNodes:
    """`nodes_from_state`, with the VMs that cannot be nodes listed instead of refused."""
    check_format(show_json, "tofu show -json")
    root = mapping(show_json.get("values"), "values").get("root_module")
    return _read(list(resources(mapping(root, "values.root_module"))))


def nodes_from_stored_state(state: Mapping[str, Any]) -> list[Node]:
    """Every VM in the state as `tofu state pull` prints it (STORED_STATE_FORMAT, the one
    OpenTofu and Terraform have kept since 0.12), sorted by name: the same nodes
    `nodes_from_state` finds in `show -json`."""
    return read_stored_state(state).strict()


def read_stored_state(state: Mapping[str, Any]) -> StateNodes:
    """`nodes_from_stored_state`, with the VMs that cannot be nodes listed instead of refused."""
    if state.get("version") != STORED_STATE_FORMAT:
        raise MckError(
            f"`tofu state pull` printed state format {state.get('version')!r}; mck reads "
            f"format {STORED_STATE_FORMAT}: use an OpenTofu/Terraform release that writes it"
        )
    return _read(list(stored_resources(state)))


def _read(resources: list[Mapping[str, Any]]) -> StateNodes:
    eips = elastic_ips(resources)
    nodes: list[Node] = []
    unusable: list[str] = []
    for resource in resources:
        # A deposed object is an old VM create_before_destroy is about to delete: not a node.
        if not _is_vm(resource) or resource.get("deposed_key"):
            continue
        node = _node(resource, eips)
        if isinstance(node, Node):
            nodes.append(node)
        else:
            unusable.append(node)
    unusable += _duplicates(nodes)
    return StateNodes(sorted(nodes, key=lambda n: name_key(n.name)), tuple(unusable))


def refusal(unusable: tuple[str, ...]) -> str:
    """The plan phase's one line for VMs that cannot be nodes: nothing was applied yet."""
    return "refusing before anything is applied: " + unusable_message(unusable)


def unusable_message(unusable: tuple[str, ...]) -> str:
    if len(unusable) == 1:
        return unusable[0]
    return f"{len(unusable)} VMs cannot be nodes: " + "; ".join(unusable)


def planned_changes(plan_json: Mapping[str, Any]) -> NodeChanges:
    """Which nodes `tofu show -json <planfile>` says will be created, destroyed or replaced."""
    check_format(plan_json, "tofu show -json <planfile>")
    created: list[str] = []
    destroyed: list[str] = []
    replaced: list[str] = []
    for rc in as_list(plan_json.get("resource_changes"), "resource_changes"):
        # A deposed object is a leftover of an earlier replace: the node under that name is
        # the new VM, which this change does not touch.
        if not _is_vm(rc) or rc.get("deposed"):
            continue
        change = mapping(rc.get("change"), f"{rc.get('address')}.change")
        actions = set(as_list(change.get("actions"), f"{rc.get('address')}.change.actions"))
        if "create" in actions and actions & {"delete", "forget"}:
            replaced.append(_planned_name(rc, change.get("before")))
        elif actions == {"create"}:
            created.append(_planned_name(rc, change.get("after")))
        elif actions == {"delete"}:
            destroyed.append(_planned_name(rc, change.get("before")))
        # "forget" alone leaves the VM running outside the state; update/no-op/read keep it.

    def ordered(names: list[str]) -> tuple[str, ...]:
        return tuple(sorted(names, key=name_key))

    return NodeChanges(ordered(created), ordered(destroyed), ordered(replaced))


@dataclass(frozen=True)
class PlannedNode:
    """A node as the plan knows it before apply: its name and cloud, not yet its addresses."""

    name: str
    cloud: str
    nat: bool
    address: str = ""  # resource address in the plan; "" when read from the stored state


def planned_nodes(plan_json: Mapping[str, Any]) -> list[PlannedNode]:
    """Every node that will exist once the plan is applied (kept, updated, created, replaced).
    Their names are checked here, before anything is applied (mck/names.py): a name that
    cannot be a hostname, is missing, repeats or is known only after apply is refused, every
    such VM named in one error."""
    check_format(plan_json, "tofu show -json <planfile>")
    planned: list[PlannedNode] = []
    refused: list[str] = []
    for rc in as_list(plan_json.get("resource_changes"), "resource_changes"):
        if not _is_vm(rc) or rc.get("deposed"):
            continue
        address = str(rc.get("address", rc["type"]))
        change = mapping(rc.get("change"), f"{address}.change")
        actions = set(as_list(change.get("actions"), f"{address}.change.actions"))
        if actions <= {"delete", "forget"}:
            continue
        adapter = ADAPTERS[str(rc["type"])]
        after = change.get("after")
        name = text(after, adapter.name) if isinstance(after, Mapping) else None
        if names.is_unknown(change.get("after_unknown"), adapter.name):
            refused.append(names.unknown(address, adapter.name))
        elif (problem := names.problem(address, adapter.name, name)) is not None:
            refused.append(problem)
        else:
            planned.append(PlannedNode(str(name), adapter.cloud, adapter.nat, address))
    refused += _duplicates(planned)
    if refused:
        raise UsageError(refusal(tuple(refused)))
    return sorted(planned, key=lambda n: name_key(n.name))


def _is_vm(resource: Mapping[str, Any]) -> bool:
    return resource.get("mode") == "managed" and resource.get("type") in ADAPTERS


def _node(resource: Mapping[str, Any], eips: ElasticIps) -> Node | str:
    """The node a VM resource is, or one line saying why it cannot be one."""
    adapter = ADAPTERS[str(resource["type"])]
    address = str(resource.get("address", resource["type"]))
    values = mapping(resource.get("values"), f"{address}.values")

    name = text(values, adapter.name)
    problem = names.problem(address, adapter.name, name)
    if problem is not None or name is None:
        return problem or f"{address} has no {adapter.name}"
    # An Elastic IP replaces the address the instance had before it (mck/eip.py).
    public_ip = (eips.for_instance(values) if adapter.nat else None) or text(
        values, adapter.public_ip
    )
    if not public_ip:
        return (
            f"{address} ({name}) has no public IP ({adapter.public_ip} is empty): give the VM a "
            "public IPv4 address in its HCL, or run `tofu refresh` if it has one"
        )
    private_ip = text(values, adapter.private_ip) if adapter.private_ip else None
    for attribute, ip in ((adapter.public_ip, public_ip), (adapter.private_ip, private_ip)):
        if ip and not _is_ip(ip):
            return f"{address} ({name}) has {attribute} = {ip!r}, which is not an IP address"
    return Node(
        name=name,
        cloud=adapter.cloud,
        public_ip=public_ip,
        private_ip=private_ip or None,
        ssh_user=adapter.ssh_user,
        nat=adapter.nat,
        address=address,
        vm_id=str(values.get("id") or ""),
    )


def _planned_name(rc: Mapping[str, Any], values: object) -> str:
    """The node name in a change's before/after object; the resource address when a name only
    becomes known at apply time (the plan leaves unknown values out of `after`)."""
    adapter = ADAPTERS[str(rc["type"])]
    name = text(values, adapter.name) if isinstance(values, Mapping) else None
    return name or str(rc.get("address", rc["type"]))


def _duplicates(nodes: Sequence[Node | PlannedNode]) -> list[str]:
    """One line per name two VMs share: both must be renamed apart."""
    seen: dict[str, str] = {}
    found = []
    for node in nodes:
        if node.name in seen:
            found.append(
                f"{seen[node.name]} and {node.address} are both named {node.name!r}: "
                "node names must be unique, rename one in its HCL"
            )
        seen.setdefault(node.name, node.address)
    return found


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
