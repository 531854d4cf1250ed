"""`aws_instance` of the stand-in AWS provider (`aws_key_pair`: aws_keys.py).

The schema follows internal/service/ec2/ec2_instance.go: ami, subnet_id,
key_name, private_ip, availability_zone and associate_public_ip_address force a new instance;
instance_type, vpc_security_group_ids, tags and root_block_device's volume_size change it in
place (the root volume grows, ModifyVolume; it never shrinks). An instance's public IP is the
lab's 1:1 NAT address (not on the VM), exactly as on EC2.
"""

from __future__ import annotations

import re
from typing import Any

from tf.iface import Config, CreateContext, DeleteContext, ReadContext, UpdateContext
from tf.schema import Attribute, Block
from tf.types import Bool, Number, Set, String
from tf.utils import Diagnostics

from . import aws_ami
from .aws_common import (
    INSTANCES,
    SECURITY_GROUPS,
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
    zones,
)
from .aws_keys import KEY_PAIRS
from .cloud_api import Record
from .framework import LabResource, ListNestedBlock, State, items, known, schema
from .ids import hex_id, stable_hex_id

SUBNETS = "aws_subnet"
INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
AMI_ROOT_GIB = 8  # the size of the Debian AMIs' root snapshot
VOLUME_TYPES = {"standard", "io1", "io2", "gp2", "gp3", "sc1", "st1"}
# The subset of root_block_device the shipped HCL can use (the real block has more).
ROOT_BLOCK_DEVICE = ListNestedBlock(
    "root_block_device",
    Block(
        attributes=[
            Attribute("delete_on_termination", Bool(), optional=True),
            Attribute("volume_size", Number(), optional=True),
            Attribute("volume_type", String(), optional=True),
        ]
    ),
    max_items=1,
)


def _replaces(name: str, type_: Any) -> Attribute:
    """An optional argument the API fills in when left out; changing it replaces the instance."""
    return Attribute(name, type_, optional=True, computed=True, requires_replace=True)


class Instance(LabResource):
    NAME = "instance"

    SCHEMA = schema(
        [
            Attribute("id", String(), computed=True),
            Attribute("arn", String(), computed=True),
            _replaces("ami", String()),
            Attribute("instance_type", String(), optional=True, computed=True),
            _replaces("subnet_id", String()),
            _replaces("key_name", String()),
            Attribute("vpc_security_group_ids", Set(String()), optional=True, computed=True),
            _replaces("associate_public_ip_address", Bool()),
            _replaces("availability_zone", String()),
            _replaces("private_ip", String()),
            Attribute("public_ip", String(), computed=True),
            Attribute("public_dns", String(), computed=True),
            Attribute("private_dns", String(), computed=True),
            Attribute("primary_network_interface_id", String(), computed=True),
            Attribute("instance_state", String(), computed=True),
            *tag_attributes(),
        ],
        [ROOT_BLOCK_DEVICE],
    )

    def validate(self, diags: Diagnostics, type_name: str, config: Config) -> None:
        super().validate(diags, type_name, config)
        for device in items(config.get("root_block_device")):
            kind = device.get("volume_type")
            if isinstance(kind, str) and kind not in VOLUME_TYPES:
                diags.add_error(
                    f"expected root_block_device.0.volume_type to be one of "
                    f"{sorted(VOLUME_TYPES)}, got {kind}",
                    path=["root_block_device"],
                )
        for name in ("ami", "instance_type"):
            if config.get(name) is None:  # AtLeastOneOf with launch_template, not offered here
                diags.add_error(
                    f'"{name}": one of `{name},launch_template` must be specified', path=[name]
                )

    def plan(self, ctx: Any, current: State | None, planned: State) -> State:
        return plan_tags(self.provider.default_tags, planned)

    def _state(self, record: Record, host: dict[str, Any], current: State) -> State:
        region = self.provider.region
        public_ip = host["public_ip"] if record["public"] else ""
        private_ip = host["private_ip"]
        if region == "us-east-1":
            public_dns = f"ec2-{public_ip.replace('.', '-')}.compute-1.amazonaws.com"
            private_dns = f"ip-{private_ip.replace('.', '-')}.ec2.internal"
        else:
            public_dns = f"ec2-{public_ip.replace('.', '-')}.{region}.compute.amazonaws.com"
            private_dns = f"ip-{private_ip.replace('.', '-')}.{region}.compute.internal"
        return {
            "id": host["id"],
            "arn": arn(region, f"instance/{host['id']}"),
            "ami": record["ami"],
            "instance_type": record["instance_type"],
            "subnet_id": record["subnet_id"],
            "key_name": record["key_name"],
            "vpc_security_group_ids": sorted(record["security_groups"]),
            "associate_public_ip_address": record["public"],
            "availability_zone": record["availability_zone"],
            "private_ip": private_ip,
            "public_ip": public_ip,
            "public_dns": public_dns if public_ip else "",
            "private_dns": private_dns,
            "primary_network_interface_id": stable_hex_id("eni", host["id"]),
            "instance_state": "running" if host.get("status") == "active" else "stopped",
            "tags": own_tags(self.provider.default_tags, record["tags"], current.get("tags")),
            "tags_all": record["tags"],
            "root_block_device": _root_device(record, current),
        }

    def _check_security_groups(self, groups: list[str], vpc_id: str) -> list[str]:
        own = {g["cloud_id"] for g in self.provider.cloud.records(SECURITY_GROUPS)}
        for group in groups:
            if group != default_security_group_id(vpc_id) and group not in own:
                message = f"The security group '{group}' does not exist in VPC '{vpc_id}'"
                raise ec2_error("InvalidGroup.NotFound", message)
        return sorted(groups)

    def _subnet(self, planned: State) -> tuple[str, str, bool]:
        """(subnet id, zone, maps a public IP on launch) of the subnet the instance goes to."""
        region = self.provider.region
        zone = planned["availability_zone"] if known(planned["availability_zone"]) else None
        subnet_id = planned["subnet_id"] if known(planned["subnet_id"]) else None
        by_id = {default_subnet_id(region, z): z for z in zones(region)}
        if subnet_id is None:
            zone = zone or zones(region)[0]
            if zone not in zones(region):
                message = f"Invalid availability zone: [{zone}]"
                raise ec2_error("InvalidParameterValue", message)
            subnet_id = default_subnet_id(region, zone)
        elif subnet_id not in by_id:
            message = f"The subnet ID '{subnet_id}' does not exist"
            raise ec2_error("InvalidSubnetID.NotFound", message)
        elif zone is not None and zone != by_id[subnet_id]:
            raise ec2_error(
                "InvalidParameterValue",
                "Network interfaces and an instance-level "
                "availability zone may not be specified on the same request",
            )
        subnet = self.provider.cloud.find(SUBNETS, cloud_id=subnet_id)
        if subnet is not None and subnet["deleted"]:  # force_destroy'ed by aws_default_subnet
            message = f"The subnet ID '{subnet_id}' does not exist"
            raise ec2_error("InvalidSubnetID.NotFound", message)
        maps_public_ip = subnet is None or subnet["map_public_ip_on_launch"]
        return subnet_id, by_id[subnet_id], bool(maps_public_ip)

    def _public_keys(self, key_name: str | None) -> list[str]:
        if key_name is None:
            return []
        region = self.provider.region
        record = self.provider.cloud.find(KEY_PAIRS, cloud_id=key_name, region=region)
        if record is None:
            message = f"The key pair '{key_name}' does not exist"
            raise ec2_error("InvalidKeyPair.NotFound", message)
        return [record["public_key"]]

    def do_create(self, ctx: CreateContext, planned: State) -> State:
        cloud = self.provider.cloud
        region = self.provider.region
        with ec2_call("RunInstances", "creating EC2 Instance"):
            self.provider.authorize()
            if aws_ami.find(region, planned["ami"]) is None:
                message = f"The image id '[{planned['ami']}]' does not exist"
                raise ec2_error("InvalidAMIID.NotFound", message)
            if not INSTANCE_TYPE.match(planned["instance_type"]):
                message = f"Invalid value '{planned['instance_type']}' for InstanceType."
                raise ec2_error("InvalidParameterValue", message)
            if known(planned["private_ip"]) and planned["private_ip"] is not None:
                message = "Stand-in limitation: the lab assigns private IPs itself (private_ip)"
                raise ec2_error("InvalidParameterValue", message)
            subnet_id, zone, maps_public_ip = self._subnet(planned)
            vpc_id = default_vpc_id(region)
            groups = items(planned["vpc_security_group_ids"])
            groups = self._check_security_groups(
                groups or [default_security_group_id(vpc_id)], vpc_id
            )
            key_name = planned["key_name"] if known(planned["key_name"]) else None
            keys = self._public_keys(key_name)
            public = planned["associate_public_ip_address"]
            tags = all_tags(self.provider.default_tags, planned["tags"])
            root_gib = _root_size(planned, AMI_ROOT_GIB)
            # The lab names the VM after the Name tag (its hostname is ip-..., as on EC2)
            host = cloud.create_host(tags.get("Name") or hex_id("unnamed"), keys)
            record = cloud.insert(
                INSTANCES,
                {
                    "cloud_id": host["id"],
                    "region": region,
                    "ami": planned["ami"],
                    "instance_type": planned["instance_type"],
                    "subnet_id": subnet_id,
                    "availability_zone": zone,
                    "key_name": key_name or "",
                    "security_groups": groups,
                    "public": maps_public_ip if not known(public) or public is None else public,
                    "tags": tags,
                    "root_gib": root_gib,
                },
            )
        return self._state(record, host, planned)

    def do_read(self, ctx: ReadContext, current: State) -> State | None:
        with ec2_call("DescribeInstances", f"reading EC2 Instance ({current['id']})"):
            self.provider.authorize()
            # terminated: gone from DescribeInstances soon after
            found = self.provider.cloud.vm(INSTANCES, current["id"])
            if found is None:
                return None
            host, record = found
            if record is None:
                message = f"The instance ID '{current['id']}' does not exist"
                raise ec2_error("InvalidInstanceID.NotFound", message)
        return self._state(record, host, current)

    def do_update(self, ctx: UpdateContext, current: State, planned: State) -> State:
        cloud = self.provider.cloud
        instance_id = current["id"]
        with ec2_call("ModifyInstanceAttribute", f"updating EC2 Instance ({instance_id})"):
            self.provider.authorize()
            host = cloud.get_host(instance_id)
            record = cloud.find(INSTANCES, cloud_id=instance_id)
            if host is None or record is None:
                message = f"The instance ID '{instance_id}' does not exist"
                raise ec2_error("InvalidInstanceID.NotFound", message)
            if not INSTANCE_TYPE.match(planned["instance_type"]):
                message = f"Invalid value '{planned['instance_type']}' for InstanceType."
                raise ec2_error("InvalidParameterValue", message)
            vpc_id = default_vpc_id(self.provider.region)
            groups = self._check_security_groups(items(planned["vpc_security_group_ids"]), vpc_id)
            new = {
                **record,
                "instance_type": planned["instance_type"],  # stop, modify, start on EC2
                "security_groups": groups,
                "tags": all_tags(self.provider.default_tags, planned["tags"]),
                "root_gib": _grown(record, planned),  # ModifyVolume, while it runs
            }
            stored = cloud.replace(INSTANCES, record, new)
        return self._state(stored, host, planned)

    def do_delete(self, ctx: DeleteContext, current: State) -> None:
        cloud = self.provider.cloud
        with ec2_call("TerminateInstances", f"terminating EC2 Instance ({current['id']})"):
            self.provider.authorize()
            cloud.delete_host(current["id"])  # already terminated counts as done
            cloud.forget(INSTANCES, cloud_id=current["id"])


def _root_size(planned: State, current_gib: int) -> int:
    """The root volume size a create asks for; EC2 refuses one below the AMI's snapshot."""
    devices = items(planned.get("root_block_device"))
    size = devices[0].get("volume_size") if devices else None
    if size is None or not known(size):
        return current_gib
    if size < AMI_ROOT_GIB:
        raise ec2_error(
            "InvalidBlockDeviceMapping",
            f"Volume of size {size}GB is smaller than snapshot 'snap-0d3b6ad9d1e1b5a43', "
            f"expect size >= {AMI_ROOT_GIB}GB",
        )
    return int(size)


def _grown(record: Record, planned: State) -> int:
    """The root volume after an update: EC2 grows a volume in place and never shrinks one."""
    current = int(record.get("root_gib", AMI_ROOT_GIB))
    size = _root_size(planned, current)
    if size < current:
        message = f"New size cannot be smaller than existing size ({current} GiB)"
        raise ec2_error("InvalidParameterValue", message)
    return size


def _root_device(record: Record, current: State) -> list[dict[str, Any]]:
    """root_block_device as the state shows it.

    The real attribute is Optional+Computed (the SDK's legacy type system lets a block be
    computed): a configuration without the block never shows a diff. The framework offers no
    computed blocks, so the block is reported only where the configuration has one, which gives
    terraform the same plans.
    """
    devices = items(current.get("root_block_device"))
    if not devices:
        return []
    return [{**devices[0], "volume_size": int(record.get("root_gib", AMI_ROOT_GIB))}]
