"""`aws_default_vpc`, `aws_default_subnet` of the stand-in AWS (security groups: aws_sg.py).

The lab's AWS network is one VPC (192.0.2.0/24 on the router's vpc0 bridge), so each region has
exactly one default VPC with one default subnet per zone, with ids that are the same in every
provider process. As for real, these resources *adopt* what the account already has: creating
them changes tags/settings, destroying them only forgets them (unless force_destroy).
"""

from __future__ import annotations

from typing import Any

from tf.iface import CreateContext, DeleteContext, ReadContext, UpdateContext
from tf.schema import Attribute
from tf.types import Bool, String

from .aws_common import (
    ACCOUNT_ID,
    LAB_CIDR,
    all_tags,
    arn,
    default_security_group_id,
    default_subnet_id,
    default_vpc_id,
    ec2_call,
    ec2_error,
    own_tags,
    plan_tags,
    tag_attributes,
    zone_id,
    zones,
)
from .cloud_api import Record
from .framework import LabResource, State, attributes, known, schema
from .ids import stable_hex_id

VPCS = "aws_vpc"  # record kinds in labd's store
SUBNETS = "aws_subnet"

# The computed string attributes of each resource: ids and what the account fixes.
VPC_IDS = (
    "id", "arn", "cidr_block", "default_security_group_id", "default_network_acl_id",
    "default_route_table_id", "main_route_table_id", "dhcp_options_id", "instance_tenancy",
    "owner_id",
)  # fmt: skip
SUBNET_IDS = ("id", "arn", "availability_zone_id", "cidr_block", "vpc_id", "owner_id")


def _setting(planned: State, name: str, default: bool) -> bool:
    value = planned.get(name)
    return default if value is None or not known(value) else bool(value)


class DefaultVpc(LabResource):
    NAME = "default_vpc"

    SCHEMA = schema(
        [
            *attributes(String, *VPC_IDS, computed=True),
            Attribute("existing_default_vpc", Bool(), computed=True),
            Attribute("enable_dns_hostnames", Bool(), optional=True, computed=True, default=True),
            Attribute("enable_dns_support", Bool(), optional=True, computed=True, default=True),
            Attribute("force_destroy", Bool(), optional=True, computed=True, default=False),
            *tag_attributes(),
        ],
    )

    def plan(self, ctx: Any, current: State | None, planned: State) -> State:
        return plan_tags(self.provider.default_tags, planned)

    def _state(self, record: Record, current: State) -> State:
        region = self.provider.region
        vpc_id = record["cloud_id"]
        return {
            "id": vpc_id,
            "arn": arn(region, f"vpc/{vpc_id}"),
            "cidr_block": LAB_CIDR,
            "default_security_group_id": default_security_group_id(vpc_id),
            "default_network_acl_id": stable_hex_id("acl", vpc_id),
            "default_route_table_id": stable_hex_id("rtb", vpc_id),
            "main_route_table_id": stable_hex_id("rtb", vpc_id),
            "dhcp_options_id": stable_hex_id("dopt", ACCOUNT_ID, region),
            "instance_tenancy": "default",
            "owner_id": ACCOUNT_ID,
            "existing_default_vpc": record["existing"],
            "enable_dns_hostnames": record["enable_dns_hostnames"],
            "enable_dns_support": record["enable_dns_support"],
            "force_destroy": bool(current.get("force_destroy")),
            "tags": own_tags(self.provider.default_tags, record["tags"], current.get("tags")),
            "tags_all": record["tags"],
        }

    def _record(self, planned: State, old: Record | None) -> Record:
        return {
            "cloud_id": default_vpc_id(self.provider.region),
            "region": self.provider.region,
            # A default VPC deleted with force_destroy is created anew (CreateDefaultVpc).
            "existing": old["existing"] if old and not old["deleted"] else old is None,
            "enable_dns_hostnames": _setting(planned, "enable_dns_hostnames", True),
            "enable_dns_support": _setting(planned, "enable_dns_support", True),
            "tags": all_tags(self.provider.default_tags, planned["tags"]),
            "deleted": False,
        }

    def _save(self, planned: State, old: Record | None) -> Record:
        cloud = self.provider.cloud
        new = self._record(planned, old)
        return cloud.save(VPCS, old, new)

    def do_create(self, ctx: CreateContext, planned: State) -> State:
        with ec2_call("DescribeVpcs", "creating EC2 Default VPC"):
            self.provider.authorize()
            old = self.provider.cloud.find(VPCS, cloud_id=default_vpc_id(self.provider.region))
            if old and old["deleted"]:  # CreateDefaultVpc: new, so not "existing"
                old = {**old, "existing": False}
            return self._state(self._save(planned, old), planned)

    def do_read(self, ctx: ReadContext, current: State) -> State | None:
        with ec2_call("DescribeVpcs", f"reading EC2 VPC ({current['id']})"):
            self.provider.authorize()
            record = self.provider.cloud.find(VPCS, cloud_id=current["id"])
        return None if record is None or record["deleted"] else self._state(record, current)

    def do_update(self, ctx: UpdateContext, current: State, planned: State) -> State:
        with ec2_call("ModifyVpcAttribute", f"updating EC2 VPC ({current['id']})"):
            self.provider.authorize()
            old = self.provider.cloud.find(VPCS, cloud_id=current["id"])
            return self._state(self._save(planned, old), planned)

    def do_delete(self, ctx: DeleteContext, current: State) -> None:
        if not current.get("force_destroy"):
            return  # "EC2 Default VPC not deleted, removing from state"
        with ec2_call("DeleteVpc", f"deleting EC2 VPC ({current['id']})"):
            self.provider.authorize()
            self.provider.cloud.change(VPCS, {"deleted": True}, cloud_id=current["id"])


class DefaultSubnet(LabResource):
    NAME = "default_subnet"

    SCHEMA = schema(
        [
            *attributes(String, *SUBNET_IDS, computed=True),
            Attribute("availability_zone", String(), required=True, requires_replace=True),
            Attribute(
                "map_public_ip_on_launch", Bool(), optional=True, computed=True, default=True
            ),
            Attribute("existing_default_subnet", Bool(), computed=True),
            Attribute("force_destroy", Bool(), optional=True, computed=True, default=False),
            *tag_attributes(),
        ],
    )

    def plan(self, ctx: Any, current: State | None, planned: State) -> State:
        return plan_tags(self.provider.default_tags, planned)

    def _state(self, record: Record, current: State) -> State:
        region = self.provider.region
        zone = record["availability_zone"]
        return {
            "id": record["cloud_id"],
            "arn": arn(region, f"subnet/{record['cloud_id']}"),
            "availability_zone": zone,
            "availability_zone_id": zone_id(region, zone),
            "cidr_block": LAB_CIDR,
            "vpc_id": default_vpc_id(region),
            "owner_id": ACCOUNT_ID,
            "map_public_ip_on_launch": record["map_public_ip_on_launch"],
            "existing_default_subnet": record["existing"],
            "force_destroy": bool(current.get("force_destroy")),
            "tags": own_tags(self.provider.default_tags, record["tags"], current.get("tags")),
            "tags_all": record["tags"],
        }

    def _save(self, planned: State, old: Record | None, zone: str) -> Record:
        cloud = self.provider.cloud
        new = {
            "cloud_id": default_subnet_id(self.provider.region, zone),
            "region": self.provider.region,
            "availability_zone": zone,
            "existing": old["existing"] if old and not old["deleted"] else old is None,
            "map_public_ip_on_launch": _setting(planned, "map_public_ip_on_launch", True),
            "tags": all_tags(self.provider.default_tags, planned["tags"]),
            "deleted": False,
        }
        return cloud.save(SUBNETS, old, new)

    def do_create(self, ctx: CreateContext, planned: State) -> State:
        region = self.provider.region
        zone = planned["availability_zone"]
        with ec2_call("CreateDefaultSubnet", f"creating EC2 Default Subnet ({zone})"):
            self.provider.authorize()
            if zone not in zones(region):
                raise ec2_error(
                    "InvalidParameterValue",
                    f"Value ({zone}) for parameter availabilityZone is invalid. Subnets can "
                    f"currently only be created in the following availability zones: "
                    f"{', '.join(zones(region))}.",
                )
            old = self.provider.cloud.find(SUBNETS, cloud_id=default_subnet_id(region, zone))
            return self._state(self._save(planned, old, zone), planned)

    def do_read(self, ctx: ReadContext, current: State) -> State | None:
        with ec2_call("DescribeSubnets", f"reading EC2 Subnet ({current['id']})"):
            self.provider.authorize()
            record = self.provider.cloud.find(SUBNETS, cloud_id=current["id"])
        return None if record is None or record["deleted"] else self._state(record, current)

    def do_update(self, ctx: UpdateContext, current: State, planned: State) -> State:
        with ec2_call("ModifySubnetAttribute", f"updating EC2 Subnet ({current['id']})"):
            self.provider.authorize()
            old = self.provider.cloud.find(SUBNETS, cloud_id=current["id"])
            zone = current["availability_zone"]
            return self._state(self._save(planned, old, zone), planned)

    def do_delete(self, ctx: DeleteContext, current: State) -> None:
        if not current.get("force_destroy"):
            return  # "EC2 Default Subnet not deleted, removing from state"
        with ec2_call("DeleteSubnet", f"deleting EC2 Subnet ({current['id']})"):
            self.provider.authorize()
            self.provider.cloud.change(SUBNETS, {"deleted": True}, cloud_id=current["id"])
