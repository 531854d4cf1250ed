"""The stand-in AWS's image catalogue and the `aws_ami` data source.

A few real public images (Debian's official account 136693071363, Canonical's, Amazon's) with
per-region ids. DescribeImages' semantics are kept: owners by account id or alias, filters with
`*`/`?` wildcards, an unknown filter name refused by the API, and the provider's "no results" /
"more than one result" errors (most_recent picks the newest creation_date).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from tf.blocks import SetNestedBlock
from tf.iface import ReadDataContext
from tf.schema import Attribute, Block
from tf.types import Bool, List, Map, Set, String

from .aws_common import ACCOUNT_ID, arn, ec2_call, ec2_error
from .framework import ApiError, LabDataSource, State, attributes, items, schema
from .ids import stable_hex_id

DEBIAN, CANONICAL, AMAZON = "136693071363", "099720109477", "137112412989"


@dataclass(frozen=True)
class Image:
    name: str
    owner: str
    architecture: str
    creation_date: str
    description: str

    @property
    def owner_alias(self) -> str | None:
        return "amazon" if self.owner == AMAZON else None

    def image_id(self, region: str) -> str:
        return stable_hex_id("ami", region, self.name)


CATALOGUE = [
    Image(f"debian-12-{arch}-{build}", DEBIAN, cpu, date, f"Debian 12 ({build})")
    for build, date in (
        ("20240717-1811", "2024-07-17T18:17:45.000Z"),
        ("20241004-1890", "2024-10-04T21:04:31.000Z"),
    )
    for arch, cpu in (("amd64", "x86_64"), ("arm64", "arm64"))
] + [
    Image(
        "debian-11-amd64-20241004-1890", DEBIAN, "x86_64", "2024-10-04T21:03:58.000Z",
        "Debian 11 (20241004-1890)",
    ),
    Image(
        "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20241004", CANONICAL,
        "x86_64", "2024-10-04T08:31:23.000Z",
        "Canonical, Ubuntu, 24.04, amd64 noble image",
    ),
    Image(
        "al2023-ami-2023.5.20241001.1-kernel-6.1-x86_64", AMAZON, "x86_64",
        "2024-10-01T19:42:11.000Z", "Amazon Linux 2023 AMI 2023.5.20241001.1 x86_64 HVM kernel-6.1",
    ),
]  # fmt: skip


def find(region: str, image_id: str) -> Image | None:
    return next((i for i in CATALOGUE if i.image_id(region) == image_id), None)


def _facts(image: Image, region: str) -> dict[str, str]:
    """The image as DescribeImages filter names see it."""
    return {
        "name": image.name,
        "architecture": image.architecture,
        "owner-id": image.owner,
        "owner-alias": image.owner_alias or "",
        "image-id": image.image_id(region),
        "description": image.description,
        "virtualization-type": "hvm",
        "root-device-type": "ebs",
        "hypervisor": "xen",
        "image-type": "machine",
        "state": "available",
        "is-public": "true",
        "ena-support": "true",
        "platform-details": "Linux/UNIX",
    }


def _owned_by(image: Image, owners: list[str]) -> bool:
    return not owners or any(
        o in (image.owner, image.owner_alias) or (o == "self" and image.owner == ACCOUNT_ID)
        for o in owners
    )


def describe_images(region: str, owners: list[str], filters: list[dict[str, Any]]) -> list[Image]:
    for f in filters:
        if f["name"] not in _facts(CATALOGUE[0], region):
            raise ec2_error("InvalidParameterValue", f"The filter '{f['name']}' is invalid")
    return [
        image
        for image in CATALOGUE
        if _owned_by(image, owners)
        and all(
            any(fnmatchcase(_facts(image, region)[f["name"]], v) for v in f["values"])
            for f in filters
        )
    ]


# The data source's computed string attributes, and its `filter { name, values }` block.
IMAGE_FACTS = (
    "id", "architecture", "arn", "boot_mode", "creation_date", "deprecation_time",
    "description", "hypervisor", "image_id", "image_location", "image_owner_alias",
    "image_type", "name", "owner_id", "platform_details", "root_device_name",
    "root_device_type", "state", "usage_operation", "virtualization_type",
)  # fmt: skip
FILTER = Block(
    attributes=[
        Attribute("name", String(), required=True),
        Attribute("values", Set(String()), required=True),
    ]
)


class Ami(LabDataSource):
    NAME = "ami"

    SCHEMA = schema(
        [
            *attributes(String, *IMAGE_FACTS, computed=True),
            Attribute("ena_support", Bool(), computed=True),
            Attribute("public", Bool(), computed=True),
            Attribute("tags", Map(String()), computed=True),
            Attribute("executable_users", List(String()), optional=True),
            Attribute("include_deprecated", Bool(), optional=True, computed=True),
            Attribute("most_recent", Bool(), optional=True, computed=True),
            Attribute("name_regex", String(), optional=True),
            Attribute("owners", List(String()), optional=True),
        ],
        [SetNestedBlock("filter", FILTER)],
    )

    def do_read(self, ctx: ReadDataContext, config: State) -> State:
        region = self.provider.region
        most_recent = bool(config.get("most_recent"))
        with ec2_call("DescribeImages", "reading EC2 AMIs"):
            self.provider.authorize()
            images = describe_images(region, items(config.get("owners")), items(config["filter"]))
        if config.get("name_regex"):
            pattern = re.compile(config["name_regex"])
            images = [i for i in images if pattern.search(i.name)]
        if not images:
            raise ApiError(
                "Your query returned no results. Please change your search criteria and try again."
            )
        if len(images) > 1 and not most_recent:
            raise ApiError(
                "Your query returned more than one result. Please try a more specific search "
                "criteria, or set `most_recent` attribute to true."
            )
        image = max(images, key=lambda i: i.creation_date)
        image_id = image.image_id(region)
        return {
            **config,
            "id": image_id,
            "architecture": image.architecture,
            "arn": arn(region, f"image/{image_id}").replace(f":{ACCOUNT_ID}:", "::"),
            "boot_mode": "uefi-preferred",
            "creation_date": image.creation_date,
            "deprecation_time": f"{int(image.creation_date[:4]) + 2}{image.creation_date[4:]}",
            "description": image.description,
            "ena_support": True,
            "hypervisor": "xen",
            "image_id": image_id,
            "image_location": f"{image.owner_alias or image.owner}/{image.name}",
            "image_owner_alias": image.owner_alias,
            "image_type": "machine",
            "name": image.name,
            "owner_id": image.owner,
            "platform_details": "Linux/UNIX",
            "public": True,
            "root_device_name": "/dev/xvda",
            "root_device_type": "ebs",
            "state": "available",
            "tags": {},
            "usage_operation": "RunInstances",
            "virtualization_type": "hvm",
            "include_deprecated": bool(config.get("include_deprecated")),
            "most_recent": most_recent,
        }
