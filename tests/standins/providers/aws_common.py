"""What every stand-in AWS resource shares: errors worded like aws-sdk-go-v2, ARNs, the default
network's ids, and `tags` / `tags_all` with the provider's `default_tags`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tf.schema import Attribute
from tf.types import Map, String, Unknown

from .cloud_api import CloudError
from .framework import ApiError, State, known
from .ids import request_id, stable_hex_id

ACCOUNT_ID = "123456789012"  # the lab's one AWS account
INSTANCES = "aws_instance"  # record kinds in labd's store
SECURITY_GROUPS = "aws_security_group"
LAB_CIDR = "192.0.2.0/24"  # every AWS host of the lab sits on this one network (vpc0)
AZ_LETTERS = "abc"  # availability zones a default VPC has a default subnet in

REGIONS = {
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "ca-west-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1",
    "eu-south-1", "eu-south-2", "ap-south-1", "ap-south-2", "ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
    "ap-east-1", "sa-east-1", "me-south-1", "me-central-1", "af-south-1", "il-central-1",
}  # fmt: skip


def ec2_error(code: str, message: str, status: int = 400) -> CloudError:
    """An EC2 API error (`InvalidKeyPair.NotFound: The key pair 'x' does not exist`)."""
    return CloudError(status, f"{code}: {message}")


@contextmanager
def ec2_call(operation: str, what: str) -> Iterator[None]:
    """Reword a refused call the way the provider prints an aws-sdk-go-v2 error."""
    try:
        yield
    except CloudError as err:
        raise ApiError(
            f"{what}: operation error EC2: {operation}, https response error StatusCode: "
            f"{err.status}, RequestID: {request_id()}, api error {err.message}"
        ) from err


def arn(region: str, resource: str) -> str:
    return f"arn:aws:ec2:{region}:{ACCOUNT_ID}:{resource}"


def default_vpc_id(region: str) -> str:
    return stable_hex_id("vpc", ACCOUNT_ID, region)


def default_subnet_id(region: str, zone: str) -> str:
    return stable_hex_id("subnet", ACCOUNT_ID, region, zone)


def default_security_group_id(vpc_id: str) -> str:
    return stable_hex_id("sg", ACCOUNT_ID, vpc_id)


def zones(region: str) -> list[str]:
    return [region + letter for letter in AZ_LETTERS]


def zone_id(region: str, zone: str) -> str:
    """us-east-1b -> use1-az2, the way AWS names zone ids."""
    parts = region.split("-")
    short = parts[0] + "".join(p[0] for p in parts[1:-1]) + parts[-1]
    return f"{short}-az{AZ_LETTERS.index(zone[-1]) + 1}"


def tag_attributes() -> list[Attribute]:
    return [
        Attribute("tags", Map(String()), optional=True),
        Attribute("tags_all", Map(String()), computed=True),
    ]


def all_tags(default_tags: dict[str, str], tags: Any) -> Any:
    """tags_all: the provider's default_tags overridden by the resource's own tags."""
    if not known(tags):
        return Unknown
    return {**default_tags, **(tags or {})}


def own_tags(default_tags: dict[str, str], on_object: dict[str, str], current: Any) -> Any:
    """The `tags` state of an object carrying `on_object`: all but the default_tags it got."""
    own = {k: v for k, v in on_object.items() if default_tags.get(k) != v}
    return None if current is None and not own else own


def plan_tags(default_tags: dict[str, str], planned: State) -> State:
    """What the real provider's SetTagsDiff plans: tags_all follows tags and default_tags."""
    planned["tags_all"] = all_tags(default_tags, planned.get("tags"))
    return planned
