"""`aws_default_security_group` and `aws_security_group` of the stand-in AWS.

The default group is the one every VPC has: `aws_default_security_group` adopts it (its rules
become exactly the configured ones, whatever the account had) and destroying it only forgets it,
rules and all. `aws_security_group` (internal/service/ec2/vpc_security_group.go) is a group of
one's own: name, name_prefix, description and vpc_id force a new group; EC2 refuses a second
group of the same name in a VPC (InvalidGroup.Duplicate), names in the `sg-*` format, and
deleting a group an instance still uses (DependencyViolation). Rules are recorded, not enforced:
lab hosts have no firewall of the cloud's.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from tf.blocks import SetNestedBlock
from tf.iface import Config, CreateContext, DeleteContext, ReadContext, UpdateContext
from tf.schema import Attribute, Block
from tf.types import Bool, List, Number, Set, String
from tf.utils import Diagnostics

from .aws_common import (
    ACCOUNT_ID,
    INSTANCES,
    SECURITY_GROUPS,
    all_tags,
    arn,
    default_security_group_id,
    default_vpc_id,
    ec2_call,
    ec2_error,
    own_tags,
    plan_tags,
    tag_attributes,
)
from .cloud_api import Record
from .framework import LabResource, State, attributes, items, known, schema
from .ids import hex_id

PROTOCOLS = {"tcp", "udp", "icmp", "icmpv6", "-1", "all"}
GROUP_IDS = ("id", "arn", "description", "name", "name_prefix", "owner_id")
DEFAULT_DESCRIPTION = "Managed by Terraform"  # the provider's default for `description`


def _check_cidrs(diags: Diagnostics, config: Config) -> None:
    """The provider's check of every rule's cidr_blocks (verify.ValidIPv4CIDRNetworkAddress)."""
    for direction in ("ingress", "egress"):
        for i, rule in enumerate(items(config.get(direction))):
            for j, cidr in enumerate(items(rule.get("cidr_blocks"))):
                if not known(cidr):
                    continue
                try:
                    ipaddress.IPv4Network(cidr, strict=True)
                except ValueError:
                    diags.add_error(
                        f'"{direction}.{i}.cidr_blocks.{j}" must contain a valid network '
                        f'CIDR, got "{cidr}"',
                        path=[direction],
                    )


def _rule_block(name: str) -> SetNestedBlock:
    return SetNestedBlock(
        name,
        Block(
            attributes=[
                Attribute("cidr_blocks", List(String()), optional=True),
                Attribute("description", String(), optional=True),
                Attribute("from_port", Number(), required=True),
                Attribute("ipv6_cidr_blocks", List(String()), optional=True),
                Attribute("prefix_list_ids", List(String()), optional=True),
                Attribute("protocol", String(), required=True),
                Attribute("security_groups", Set(String()), optional=True),
                Attribute("self", Bool(), optional=True),
                Attribute("to_port", Number(), required=True),
            ]
        ),
    )


def _check_rule(rule: dict[str, Any]) -> None:
    """What the provider's expand code and the EC2 API refuse in a rule."""
    protocol = str(rule["protocol"]).lower()
    low, high = rule["from_port"], rule["to_port"]
    if protocol not in PROTOCOLS and not (protocol.isdigit() and int(protocol) <= 255):
        message = f"Invalid value '{rule['protocol']}' for IP protocol. Unknown protocol."
        raise ec2_error("InvalidParameterValue", message)
    if protocol in ("-1", "all") and (low != 0 or high != 0):
        raise ec2_error(
            "InvalidParameterValue",
            f"from_port ({low}) and to_port ({high}) must both be 0 to use the 'ALL' "
            '"-1" protocol!',
        )
    if protocol in ("tcp", "udp") and not 0 <= low <= high <= 65535:
        raise ec2_error("InvalidParameterValue", "Invalid TCP/UDP port range")


class DefaultSecurityGroup(LabResource):
    NAME = "default_security_group"

    SCHEMA = schema(
        [
            *attributes(String, *GROUP_IDS, computed=True),
            Attribute(
                "revoke_rules_on_delete", Bool(), optional=True, computed=True, default=False
            ),
            Attribute("vpc_id", String(), optional=True, computed=True, requires_replace=True),
            *tag_attributes(),
        ],
        [_rule_block("ingress"), _rule_block("egress")],
    )

    def validate(self, diags: Diagnostics, type_name: str, config: Config) -> None:
        super().validate(diags, type_name, config)
        _check_cidrs(diags, config)

    def plan(self, ctx: Any, current: State | None, planned: State) -> State:
        return plan_tags(self.provider.default_tags, planned)

    def _state(self, record: Record, current: State) -> State:
        return {
            "id": record["cloud_id"],
            "arn": arn(self.provider.region, f"security-group/{record['cloud_id']}"),
            "description": "default VPC security group",
            "name": "default",
            "name_prefix": "",
            "owner_id": ACCOUNT_ID,
            "revoke_rules_on_delete": bool(current.get("revoke_rules_on_delete")),
            "vpc_id": record["vpc_id"],
            "tags": own_tags(self.provider.default_tags, record["tags"], current.get("tags")),
            "tags_all": record["tags"],
            "ingress": record["ingress"],
            "egress": record["egress"],
        }

    def _save(self, planned: State, old: Record | None, vpc_id: str) -> Record:
        for rule in [*planned["ingress"], *planned["egress"]]:
            _check_rule(rule)
        new = {
            "cloud_id": default_security_group_id(vpc_id),
            "region": self.provider.region,
            "vpc_id": vpc_id,
            "ingress": planned["ingress"],
            "egress": planned["egress"],
            "tags": all_tags(self.provider.default_tags, planned["tags"]),
        }
        return self.provider.cloud.save(SECURITY_GROUPS, old, new)

    def do_create(self, ctx: CreateContext, planned: State) -> State:
        default_vpc = default_vpc_id(self.provider.region)
        vpc_id = planned["vpc_id"] if known(planned["vpc_id"]) else default_vpc
        with ec2_call("AuthorizeSecurityGroupIngress", "creating Default Security Group"):
            self.provider.authorize()
            if vpc_id != default_vpc:
                raise ec2_error("InvalidVpcID.NotFound", f"The vpc ID '{vpc_id}' does not exist")
            group_id = default_security_group_id(vpc_id)
            old = self.provider.cloud.find(SECURITY_GROUPS, cloud_id=group_id)
            return self._state(self._save(planned, old, vpc_id), planned)

    def do_read(self, ctx: ReadContext, current: State) -> State | None:
        with ec2_call("DescribeSecurityGroups", f"reading Security Group ({current['id']})"):
            self.provider.authorize()
            record = self.provider.cloud.find(SECURITY_GROUPS, cloud_id=current["id"])
        return None if record is None else self._state(record, current)

    def do_update(self, ctx: UpdateContext, current: State, planned: State) -> State:
        with ec2_call(
            "AuthorizeSecurityGroupIngress", f"updating Security Group ({current['id']})"
        ):
            self.provider.authorize()
            old = self.provider.cloud.find(SECURITY_GROUPS, cloud_id=current["id"])
            return self._state(self._save(planned, old, current["vpc_id"]), planned)

    def do_delete(self, ctx: DeleteContext, current: State) -> None:
        return  # a default security group outlives terraform: its rules stay as they are


def _replaces(name: str) -> Attribute:
    """An optional string the API fills in when left out; changing it makes a new group."""
    return Attribute(name, String(), optional=True, computed=True, requires_replace=True)


class SecurityGroup(LabResource):
    NAME = "security_group"

    SCHEMA = schema(
        [
            *attributes(String, "id", "arn", "owner_id", computed=True),
            _replaces("name"),
            _replaces("name_prefix"),
            Attribute(
                "description",
                String(),
                optional=True,
                computed=True,
                requires_replace=True,
                default=DEFAULT_DESCRIPTION,
            ),
            _replaces("vpc_id"),
            Attribute(
                "revoke_rules_on_delete", Bool(), optional=True, computed=True, default=False
            ),
            *tag_attributes(),
        ],
        [_rule_block("ingress"), _rule_block("egress")],
    )

    def validate(self, diags: Diagnostics, type_name: str, config: Config) -> None:
        super().validate(diags, type_name, config)
        _check_cidrs(diags, config)
        name = config.get("name")
        if isinstance(name, str) and len(name) > 255:
            diags.add_error(f"expected length of name to be in the range (0 - 255), got {name}")

    def plan(self, ctx: Any, current: State | None, planned: State) -> State:
        return plan_tags(self.provider.default_tags, planned)

    def _state(self, record: Record, current: State) -> State:
        return {
            "id": record["cloud_id"],
            "arn": arn(self.provider.region, f"security-group/{record['cloud_id']}"),
            "owner_id": ACCOUNT_ID,
            "name": record["name"],
            "name_prefix": current.get("name_prefix") if known(current.get("name_prefix")) else "",
            "description": record["description"],
            "vpc_id": record["vpc_id"],
            "revoke_rules_on_delete": bool(current.get("revoke_rules_on_delete")),
            "tags": own_tags(self.provider.default_tags, record["tags"], current.get("tags")),
            "tags_all": record["tags"],
            "ingress": record["ingress"],
            "egress": record["egress"],
        }

    def _rules(self, planned: State) -> dict[str, Any]:
        for rule in [*planned["ingress"], *planned["egress"]]:
            _check_rule(rule)
        return {
            "ingress": planned["ingress"],
            "egress": planned["egress"],
            "tags": all_tags(self.provider.default_tags, planned["tags"]),
        }

    def do_create(self, ctx: CreateContext, planned: State) -> State:
        cloud = self.provider.cloud
        default_vpc = default_vpc_id(self.provider.region)
        vpc_id = (
            planned["vpc_id"] if known(planned["vpc_id"]) and planned["vpc_id"] else default_vpc
        )
        name = planned["name"] if known(planned["name"]) and planned["name"] else None
        if name is None:  # create.Name(): name_prefix or "terraform-", then a unique suffix
            prefix = planned["name_prefix"] if known(planned["name_prefix"]) else None
            name = (prefix or "terraform-") + hex_id("x")[2:]
        with ec2_call("CreateSecurityGroup", f"creating Security Group ({name})"):
            self.provider.authorize()
            if vpc_id != default_vpc:
                raise ec2_error("InvalidVpcID.NotFound", f"The vpc ID '{vpc_id}' does not exist")
            if name.startswith("sg-"):
                message = "Group names may not be in the format sg-*"
                raise ec2_error("InvalidParameterValue", message)
            if cloud.find(SECURITY_GROUPS, name=name, vpc_id=vpc_id) is not None:
                message = f"The security group '{name}' already exists for VPC '{vpc_id}'"
                raise ec2_error("InvalidGroup.Duplicate", message)
            record = {
                "cloud_id": hex_id("sg"),
                "region": self.provider.region,
                "name": name,
                "description": planned["description"] or DEFAULT_DESCRIPTION,
                "vpc_id": vpc_id,
                **self._rules(planned),
            }
            return self._state(cloud.insert(SECURITY_GROUPS, record), planned)

    def do_read(self, ctx: ReadContext, current: State) -> State | None:
        with ec2_call("DescribeSecurityGroups", f"reading Security Group ({current['id']})"):
            self.provider.authorize()
            record = self.provider.cloud.find(SECURITY_GROUPS, cloud_id=current["id"])
        return None if record is None else self._state(record, current)

    def do_update(self, ctx: UpdateContext, current: State, planned: State) -> State:
        group_id = current["id"]
        with ec2_call("AuthorizeSecurityGroupIngress", f"updating Security Group ({group_id})"):
            self.provider.authorize()
            record = self.provider.cloud.change(
                SECURITY_GROUPS, self._rules(planned), cloud_id=group_id
            )
            if record is None:
                message = f"The security group '{group_id}' does not exist"
                raise ec2_error("InvalidGroup.NotFound", message)
            return self._state(record, planned)

    def do_delete(self, ctx: DeleteContext, current: State) -> None:
        cloud = self.provider.cloud
        group_id = current["id"]
        with ec2_call("DeleteSecurityGroup", f"deleting Security Group ({group_id})"):
            self.provider.authorize()
            users = [i for i in cloud.records(INSTANCES) if group_id in i["security_groups"]]
            if users:  # the provider retries this for its delete timeout, then gives up
                message = f"resource {group_id} has a dependent object"
                raise ec2_error("DependencyViolation", message)
            cloud.forget(SECURITY_GROUPS, cloud_id=group_id)
