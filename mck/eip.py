"""Elastic IPs: an AWS instance with an Elastic IP is reached at the EIP's address. Pure.

When an EIP is associated, EC2 maps the EIP onto the instance instead of its auto-assigned
public address, which stays in the instance's `public_ip` until the next refresh (stale). So
an EIP in the same state wins. Attributes as terraform-provider-aws reads them back
(internal/service/ec2/ec2_eip.go resourceEIPRead: `instance`, `network_interface`,
`public_ip` come from the AWS address; `aws_eip_association` has `instance_id`,
`network_interface_id`, `allocation_id`, `public_ip`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mck.tofu_json import text


@dataclass
class ElasticIps:
    """Every EIP address in a state, by the instance or network interface it is attached to."""

    by_instance: dict[str, str] = field(default_factory=dict)
    by_interface: dict[str, str] = field(default_factory=dict)

    def for_instance(self, values: Mapping[str, Any]) -> str | None:
        """The EIP address of the aws_instance with these values, if one is attached."""
        instance = text(values, "id")
        interface = text(values, "primary_network_interface_id")
        return (self.by_instance.get(instance) if instance else None) or (
            self.by_interface.get(interface) if interface else None
        )


def elastic_ips(resources: Iterable[Mapping[str, Any]]) -> ElasticIps:
    """Read the EIPs and EIP associations among `resources` (shaped as `show -json` shows
    them: mode, type, values, deposed_key). Resources in any module count: an EIP is tied to
    its instance by the instance's ID, not by where either is declared."""
    found = ElasticIps()
    eips: list[Mapping[str, Any]] = []
    associations: list[Mapping[str, Any]] = []
    for resource in resources:
        if resource.get("mode") != "managed" or resource.get("deposed_key"):
            continue
        values = resource.get("values")
        if not isinstance(values, Mapping):
            continue
        if resource.get("type") == "aws_eip":
            eips.append(values)
        elif resource.get("type") == "aws_eip_association":
            associations.append(values)
    by_allocation = {
        allocation: ip
        for v in eips
        if (allocation := text(v, "id")) and (ip := text(v, "public_ip"))
    }
    for v in eips:
        _attach(found, text(v, "public_ip"), text(v, "instance"), text(v, "network_interface"))
    for v in associations:
        allocation = text(v, "allocation_id")
        ip = text(v, "public_ip") or (by_allocation.get(allocation) if allocation else None)
        _attach(found, ip, text(v, "instance_id"), text(v, "network_interface_id"))
    return found


def _attach(found: ElasticIps, ip: str | None, instance: str | None, eni: str | None) -> None:
    if not ip:
        return
    if instance:
        found.by_instance.setdefault(instance, ip)
    if eni:
        found.by_interface.setdefault(eni, ip)
