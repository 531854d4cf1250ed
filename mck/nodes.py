"""Nodes: what mck knows about each VM, read from OpenTofu state JSON (`show -json`).

Every VM resource type maps onto a `Node` through one small `Adapter` in `ADAPTERS`: adding a
provider means adding one entry there (plus its HCL), nothing else. The same adapters read a
plan (`show -json <planfile>`) to tell which nodes are about to be created or destroyed.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mck.errors import MckError


@dataclass(frozen=True)
class Node:
    name: str  # the VM's name (hostname, inventory name, k8s node name)
    cloud: str  # digitalocean | linode | aws | hcloud
    public_ip: str  # address mck and the other nodes reach it on
    private_ip: str | None  # provider-private address, if any
    ssh_user: str  # root on DigitalOcean/Linode/Hetzner, admin on AWS Debian AMIs
    nat: bool  # True when public_ip is not bound on the VM (AWS 1:1 NAT)
    address: str  # resource address in state, e.g. module.x.aws_instance.node["a"]


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

# A node's name becomes its hostname and Kubernetes node name: lowercase DNS labels only.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_NODE_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


# The format `tofu state pull` prints (OpenTofu and Terraform since 0.12).
STORED_STATE_FORMAT = 4


def name_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders `x-2` before `x-10`: digit runs compare as numbers."""
    parts = re.split(r"(\d+)", name)
    return tuple((1, int(p)) if p.isdigit() else (0, p) for p in parts if p)


def nodes_from_state(show_json: Mapping[str, Any]) -> list[Node]:
    """Every VM in `tofu show -json` output, sorted by name."""
    _check_format(show_json, "tofu show -json")
    root = _mapping(show_json.get("values"), "values").get("root_module")
    nodes = [
        _node(resource)
        for resource in _resources(_mapping(root, "values.root_module"))
        # A deposed object is an old VM create_before_destroy is about to delete: not a node.
        if _is_vm(resource) and not resource.get("deposed_key")
    ]
    _reject_duplicates(nodes)
    return sorted(nodes, key=lambda n: name_key(n.name))


def nodes_from_stored_state(state: Mapping[str, Any]) -> list[Node]:
    """Every VM in the state as `tofu state pull` prints it (STORED_STATE_FORMAT, the one
    OpenTofu and Terraform have kept since 0.12), sorted by name: the same nodes
    `nodes_from_state` finds in `show -json`."""
    if state.get("version") != STORED_STATE_FORMAT:
        raise MckError(
            f"`tofu state pull` printed state format {state.get('version')!r}; mck reads "
            f"format {STORED_STATE_FORMAT}: use an OpenTofu/Terraform release that writes it"
        )
    nodes = [
        _node(resource)
        for resource in _stored_resources(state)
        if _is_vm(resource) and not resource.get("deposed_key")
    ]
    _reject_duplicates(nodes)
    return sorted(nodes, key=lambda n: name_key(n.name))


def _stored_resources(state: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The stored state's resource instances, shaped as `show -json` shows them (address,
    mode, type, values, deposed_key), so that one reader serves both."""
    for resource in _list(state.get("resources"), "resources"):
        resource = _mapping(resource, "a resource")
        mode, kind = resource.get("mode"), str(resource.get("type"))
        base = f"{kind}.{resource.get('name')}"
        if mode == "data":
            base = f"data.{base}"
        if resource.get("module"):
            base = f"{resource['module']}.{base}"
        for instance in _list(resource.get("instances"), f"{base}.instances"):
            instance = _mapping(instance, f"an instance of {base}")
            key = instance.get("index_key")
            index = "" if key is None else f"[{json.dumps(key)}]"
            yield {
                "address": base + index,
                "mode": mode,
                "type": kind,
                "values": instance.get("attributes"),
                "deposed_key": instance.get("deposed"),
            }


def planned_changes(plan_json: Mapping[str, Any]) -> NodeChanges:
    """Which nodes `tofu show -json <planfile>` says will be created, destroyed or replaced."""
    _check_format(plan_json, "tofu show -json <planfile>")
    created: list[str] = []
    destroyed: list[str] = []
    replaced: list[str] = []
    for rc in _list(plan_json.get("resource_changes"), "resource_changes"):
        # A deposed object is a leftover of an earlier replace: the node under that name is
        # the new VM, which this change does not touch.
        if not _is_vm(rc) or rc.get("deposed"):
            continue
        change = _mapping(rc.get("change"), f"{rc.get('address')}.change")
        actions = set(_list(change.get("actions"), f"{rc.get('address')}.change.actions"))
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


def planned_nodes(plan_json: Mapping[str, Any]) -> list[PlannedNode]:
    """Every node that will exist once the plan is applied (kept, updated, created, replaced)."""
    _check_format(plan_json, "tofu show -json <planfile>")
    planned = []
    for rc in _list(plan_json.get("resource_changes"), "resource_changes"):
        if not _is_vm(rc) or rc.get("deposed"):
            continue
        change = _mapping(rc.get("change"), f"{rc.get('address')}.change")
        actions = set(_list(change.get("actions"), f"{rc.get('address')}.change.actions"))
        if actions <= {"delete", "forget"}:
            continue
        adapter = ADAPTERS[str(rc["type"])]
        planned.append(
            PlannedNode(_planned_name(rc, change.get("after")), adapter.cloud, adapter.nat)
        )
    return sorted(planned, key=lambda n: name_key(n.name))


def _check_format(doc: Mapping[str, Any], command: str) -> None:
    if not isinstance(doc, Mapping) or "format_version" not in doc:
        raise MckError(
            f"expected the JSON that `{command}` prints, got something without a format_version"
        )
    version = str(doc["format_version"])
    if version.split(".")[0] != "1":
        raise MckError(
            f"`{command}` printed JSON format {version}; mck reads format 1.x: "
            "use an OpenTofu/Terraform release with JSON format 1"
        )


def _resources(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Resources of a module and of all its child modules, depth first."""
    where = module.get("address") or "root_module"
    for resource in _list(module.get("resources"), f"{where}.resources"):
        yield _mapping(resource, f"a resource in {where}")
    for child in _list(module.get("child_modules"), f"{where}.child_modules"):
        yield from _resources(_mapping(child, f"a child module of {where}"))


def _is_vm(resource: Mapping[str, Any]) -> bool:
    return resource.get("mode") == "managed" and resource.get("type") in ADAPTERS


def _node(resource: Mapping[str, Any]) -> Node:
    adapter = ADAPTERS[str(resource["type"])]
    address = str(resource.get("address", resource["type"]))
    values = _mapping(resource.get("values"), f"{address}.values")

    name = _text(values, adapter.name)
    if not name:
        raise MckError(f"{address} has no {adapter.name}: give the VM a name in its HCL")
    if not _NODE_NAME.fullmatch(name):
        raise MckError(
            f"{address} is named {name!r}, which cannot be a hostname: use lowercase letters, "
            "digits, '-' and '.' in its HCL"
        )
    public_ip = _text(values, adapter.public_ip)
    if not public_ip:
        raise MckError(
            f"{address} ({name}) has no public IP ({adapter.public_ip} is empty): give the VM a "
            "public IPv4 address in its HCL, or run `tofu refresh` if it has one"
        )
    private_ip = _text(values, adapter.private_ip) if adapter.private_ip else None
    for attribute, ip in ((adapter.public_ip, public_ip), (adapter.private_ip, private_ip)):
        if ip and not _is_ip(ip):
            raise MckError(
                f"{address} ({name}) has {attribute} = {ip!r}, which is not an IP address"
            )
    return Node(
        name=name,
        cloud=adapter.cloud,
        public_ip=public_ip,
        private_ip=private_ip or None,
        ssh_user=adapter.ssh_user,
        nat=adapter.nat,
        address=address,
    )


def _planned_name(rc: Mapping[str, Any], values: object) -> str:
    """The node name in a change's before/after object; the resource address when a name only
    becomes known at apply time (the plan leaves unknown values out of `after`)."""
    adapter = ADAPTERS[str(rc["type"])]
    name = _text(values, adapter.name) if isinstance(values, Mapping) else None
    return name or str(rc.get("address", rc["type"]))


def _reject_duplicates(nodes: list[Node]) -> None:
    seen: dict[str, Node] = {}
    for node in nodes:
        if node.name in seen:
            raise MckError(
                f"{seen[node.name].address} and {node.address} are both named {node.name!r}: "
                "node names must be unique, rename one in its HCL"
            )
        seen[node.name] = node


def _text(values: Mapping[str, Any], path: str) -> str | None:
    """The string at a dotted path, or None when absent, null or empty."""
    value: object = values
    for step in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value if isinstance(value, str) and value else None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MckError(
            f"unexpected `tofu show -json` output: {where} is a {type(value).__name__}, "
            "not an object"
        )
    return value


def _list(value: object, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MckError(
            f"unexpected `tofu show -json` output: {where} is a {type(value).__name__}, not a list"
        )
    return value
