"""The cluster's record: what mck needs across runs that the VMs' own state does not say.

- the cluster name and encryption mode the cluster was built with (both pinned: changing them
  would replace every VM, or strand the nodes' pinned addresses), and whether its API is public;
- each node's WireGuard mesh address: its identity inside the cluster for its whole life;
- each VM's SSH host keys as mck first configured it, with the VM's id (a replaced VM is a new
  machine with new keys).

It lives in the OpenTofu state (`terraform_data.mck_facts`, mck_facts.tf), so every operator and
CI runner sharing the backend reads the same record under the backend's own lock, and losing a
checkout's `inventory` and `.mck/` loses nothing. A state written before the record existed has
none: then the last local inventory says what it can (its settings and mesh addresses, no host
keys), and the next converge writes the record.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mck import mesh
from mck.errors import MckError, UsageError
from mck.inventory import previous_setting
from mck.tofu import Tofu

ADDRESS = "terraform_data.mck_facts"
VARIABLE = "mck_facts"
FORMAT = 1
_RESTORE = "restore the state from your backend's versions, or fix mck_facts by hand"


@dataclass(frozen=True)
class HostKeys:
    """A VM's SSH host keys (`type base64` each, sorted) and the id of the VM that showed them."""

    vm_id: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class ClusterFacts:
    cluster_name: str | None = None
    encryption: str | None = None
    public_api: bool = False
    mesh_ips: Mapping[str, str] = field(default_factory=dict)
    host_keys: Mapping[str, HostKeys] = field(default_factory=dict)
    source: str = ""  # "state", "inventory" (a state from before the record), "" (nothing yet)

    def record(self) -> str:
        """The record as mck writes it into the state: JSON, keys sorted (same facts, same text)."""
        nodes: dict[str, dict[str, Any]] = {}
        for name, address in self.mesh_ips.items():
            nodes.setdefault(name, {})["mesh_ip"] = address
        for name, found in self.host_keys.items():
            nodes.setdefault(name, {}).update(vm_id=found.vm_id, host_keys=list(found.keys))
        doc = {
            "format": FORMAT,
            "cluster_name": self.cluster_name,
            "encryption": self.encryption,
            "public_api": self.public_api,
            "nodes": nodes,
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":"))

    def same_as(self, other: ClusterFacts) -> bool:
        return self.record() == other.record()


def check_declared(variables: Mapping[str, bool]) -> None:
    """A converge needs mck_facts.tf, the record's home: one line saying so when it is gone."""
    if VARIABLE not in variables:
        raise UsageError(
            f"the project declares no variable {VARIABLE!r}: restore mck_facts.tf from mck's "
            "repository (the cluster's mesh addresses and host keys are kept in the state by it)"
        )


def find_record(resources: Iterable[Mapping[str, Any]]) -> str | None:
    """The record's text among a state's resources (`show -json` shaped), None when absent.
    `state pull` keeps the dynamically typed `input` as {"value": …, "type": …}."""
    for resource in resources:
        if resource.get("address") != ADDRESS or resource.get("deposed_key"):
            continue
        values = resource.get("values")
        value = values.get("input") if isinstance(values, Mapping) else None
        if isinstance(value, Mapping):
            value = value.get("value")
        return value if isinstance(value, str) else None
    return None


def read(record: str | None, inventory: str) -> ClusterFacts:
    """The facts: the state's record when it has one, else what the last inventory says."""
    if record:
        return parse(record)
    if not inventory:
        return ClusterFacts()
    return ClusterFacts(
        cluster_name=previous_setting(inventory, "mck_cluster_name"),
        encryption=previous_setting(inventory, "mck_encryption"),
        public_api=previous_setting(inventory, "mck_public_api") == "true",
        mesh_ips=mesh.previous_from_inventory(inventory),
        source="inventory",
    )


def parse(record: str) -> ClusterFacts:
    """The record mck wrote; anything else is one error naming the resource (never a guess:
    a wrong mesh address would be handed to a live node)."""
    try:
        doc = json.loads(record)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{ADDRESS} in the state is not JSON ({exc}): {_RESTORE}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else None
        raise UsageError(
            f"{ADDRESS} in the state has format {found!r}, this mck reads {FORMAT}: use the mck "
            f"release that wrote it, or {_RESTORE}"
        )
    nodes = doc.get("nodes")
    if not isinstance(nodes, dict):
        raise UsageError(f"{ADDRESS} in the state has no nodes map: {_RESTORE}")
    mesh_ips: dict[str, str] = {}
    host_keys: dict[str, HostKeys] = {}
    for name, node in nodes.items():
        if not isinstance(node, dict):
            raise UsageError(f"{ADDRESS} in the state: node {name!r} is not an object: {_RESTORE}")
        if isinstance(node.get("mesh_ip"), str):
            mesh_ips[name] = node["mesh_ip"]
        keys = node.get("host_keys")
        if isinstance(node.get("vm_id"), str) and isinstance(keys, list):
            host_keys[name] = HostKeys(node["vm_id"], tuple(sorted(str(k) for k in keys)))
    return ClusterFacts(
        cluster_name=_text(doc.get("cluster_name")),
        encryption=_text(doc.get("encryption")),
        public_api=doc.get("public_api") is True,
        mesh_ips=mesh_ips,
        host_keys=host_keys,
        source="state",
    )


def write(tofu: Tofu, facts: ClusterFacts) -> None:
    """Record `facts` in the state: one resource replaced, nothing else planned or refreshed
    (`-target`), under the run's state lock. `ignore_changes` keeps every other plan from
    touching it, so `-replace` is how a new value goes in."""
    argv = tofu.argv(
        "apply",
        "-auto-approve",
        "-refresh=false",
        f"-target={ADDRESS}",
        f"-replace={ADDRESS}",
        f"-var={VARIABLE}={facts.record()}",
    )
    try:
        tofu.run(argv)
    except MckError as exc:
        raise MckError(f"recording the cluster's facts in the state failed: {exc}") from exc


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
