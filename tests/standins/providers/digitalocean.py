"""Stand-in for registry.terraform.io/digitalocean/digitalocean (2.x, terraform-plugin-sdk v2).

Resources: `digitalocean_ssh_key` and data source `digitalocean_ssh_keys` (digitalocean_keys.py),
`digitalocean_droplet`. Schemas follow the real provider's
`digitalocean/droplet/resource_droplet.go`: which
arguments are required, computed, and which force a new droplet (image, region, ssh_keys...)
versus change it in place (name = rename, size = resize, tags). Errors read like godo's:
`Error creating droplet: POST https://api.digitalocean.com/v2/droplets: 422 (request "...") ...`.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from tf.iface import Config, CreateContext, DeleteContext, ReadContext, UpdateContext
from tf.schema import Attribute
from tf.types import Bool, Number, Set, String
from tf.utils import Diagnostics

from . import framework
from .cloud_api import CloudError, Record
from .digitalocean_common import DROPLETS, KEYS, NOT_FOUND, not_empty, request
from .digitalocean_keys import SshKey, SshKeys
from .framework import LabResource, State, attributes, items, known, null_if_unset, schema
from .ids import now_rfc3339
from .token_provider import TokenProvider

IMAGES = {"debian-11-x64", "debian-12-x64", "ubuntu-22-04-x64", "ubuntu-24-04-x64"}
REGIONS = {
    "nyc1", "nyc2", "nyc3", "sfo1", "sfo2", "sfo3", "ams2", "ams3", "sgp1", "lon1", "fra1",
    "tor1", "blr1", "syd1", "atl1",
}  # fmt: skip
DEFAULT_REGION = "nyc3"
SIZE = re.compile(r"^[a-z0-9]+(-[a-z0-9_]+)+$|^\d+(mb|gb)$")
HOSTNAME = re.compile(r"^[a-zA-Z0-9.-]{1,255}$")
TAG = re.compile(r"^[a-zA-Z0-9:\-_]{1,255}$")


class DigitalOceanProvider(TokenProvider):
    CLOUD = "digitalocean"
    ADDRESS = "digitalocean/digitalocean"
    TOKEN_VARIABLES = ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN")
    UNAUTHORIZED = "Unable to authenticate you"  # api.digitalocean.com's answer

    SETTINGS = (
        *attributes(String, "api_endpoint", "spaces_endpoint", optional=True),
        *attributes(String, "spaces_access_id", "spaces_secret_key", optional=True, sensitive=True),
        *attributes(
            Number,
            "requests_per_second",
            "http_retry_max",
            "http_retry_wait_min",
            "http_retry_wait_max",
            optional=True,
        ),
    )

    def get_resources(self) -> list[Any]:
        return [SshKey, Droplet]

    def get_data_sources(self) -> list[Any]:
        return [SshKeys]


class Droplet(LabResource):
    NAME = "droplet"
    provider: DigitalOceanProvider

    SCHEMA = schema(
        [
            Attribute("id", String(), computed=True),
            Attribute("name", String(), required=True),
            Attribute("image", String(), required=True, requires_replace=True),
            Attribute("region", String(), optional=True, computed=True, requires_replace=True),
            Attribute("size", String(), required=True),
            Attribute("ssh_keys", Set(String()), optional=True, requires_replace=True),
            Attribute("tags", Set(String()), optional=True),
            Attribute("ipv6", Bool(), optional=True, computed=True, default=False),
            Attribute("ipv6_address", String(), computed=True),
            Attribute("vpc_uuid", String(), optional=True, computed=True, requires_replace=True),
            Attribute(
                "monitoring",
                Bool(),
                optional=True,
                computed=True,
                default=False,
                requires_replace=True,
            ),
            Attribute("graceful_shutdown", Bool(), optional=True, computed=True, default=False),
            Attribute("resize_disk", Bool(), optional=True, computed=True, default=True),
            Attribute("urn", String(), computed=True),
            Attribute("status", String(), computed=True),
            Attribute("locked", Bool(), computed=True),
            Attribute("ipv4_address", String(), computed=True),
            Attribute("ipv4_address_private", String(), computed=True),
            Attribute("created_at", String(), computed=True),
        ]
    )

    def validate(self, diags: Diagnostics, type_name: str, config: Config) -> None:
        super().validate(diags, type_name, config)
        not_empty(diags, config, "name", "image", "region", "size", "vpc_uuid")
        for key in items(config.get("ssh_keys")):
            if key == "":
                diags.add_error("ssh_keys value must not be empty.", path=["ssh_keys"])
        for tag in items(config.get("tags")):
            if known(tag) and not TAG.match(tag):
                diags.add_error(
                    "tags may contain lowercase letters, numbers, colons, dashes, and "
                    "underscores; there is a limit of 255 characters per tag",
                    path=["tags"],
                )

    def plan(self, ctx: Any, current: State | None, planned: State) -> State:
        # The real provider replaces the droplet for this (IPv6 cannot be switched off); the
        # framework cannot ask for a replacement here, so refuse loudly instead.
        if current and current.get("ipv6") is True and planned.get("ipv6") is False:
            ctx.diagnostics.add_error(
                "Stand-in limitation: turning ipv6 off replaces the droplet in the real "
                "provider; taint or replace it explicitly (-replace=...) instead.",
                path=["ipv6"],
            )
        return planned

    @staticmethod
    def _state(record: Record, host: dict[str, Any], current: State) -> State:
        """Droplet state: what the API reports, plus the arguments it never returns."""
        droplet_id = host["id"]
        return {
            "id": droplet_id,
            "name": record["name"],
            # Not refreshed, like the real one: image slugs move to newer images over time.
            "image": current.get("image") or record["image"],
            "region": record["region"],
            "size": record["size"],
            "ssh_keys": current.get("ssh_keys"),
            "tags": null_if_unset(current.get("tags"), record["tags"]),
            "ipv6": record["ipv6"],
            "ipv6_address": "",
            "vpc_uuid": record["vpc_uuid"],
            "monitoring": record["monitoring"],
            "graceful_shutdown": bool(current.get("graceful_shutdown")),
            "resize_disk": current.get("resize_disk") is not False,
            "urn": f"do:droplet:{droplet_id}",
            "status": "active" if host.get("status") == "active" else "off",
            "locked": False,
            "ipv4_address": host["public_ip"],
            "ipv4_address_private": host["private_ip"],
            "created_at": record["created_at"],
        }

    @staticmethod
    def _checkrequest(name: str, size: str) -> None:
        """The API's own validation of a create, rename or resize request."""
        if not HOSTNAME.match(name):
            raise CloudError(
                422, "Only valid hostname characters are allowed. (a-z, A-Z, 0-9, . and -)"
            )
        if not SIZE.match(size):
            raise CloudError(422, "You specified an invalid size for Droplet creation.")

    def _public_keys(self, refs: list[str]) -> list[str]:
        """The account's keys the droplet gets, named by id or by fingerprint."""
        keys = []
        for ref in refs:
            field = "cloud_id" if ref.isdigit() else "fingerprint"
            record = self.provider.cloud.find(KEYS, **{field: ref})
            if record is None:
                raise CloudError(422, f"You specified an invalid SSH key: {ref}")
            keys.append(record["public_key"])
        return keys

    def do_create(self, ctx: CreateContext, planned: State) -> State:
        cloud = self.provider.cloud
        with request("POST", "/v2/droplets", "Error creating droplet"):
            self.provider.authorize()
            region = planned["region"] if known(planned["region"]) else DEFAULT_REGION
            if planned["image"] not in IMAGES:
                raise CloudError(422, "You specified an invalid image for Droplet creation.")
            if region not in REGIONS:
                raise CloudError(422, "You specified an invalid region for Droplet creation.")
            self._checkrequest(planned["name"], planned["size"])
            keys = self._public_keys(planned["ssh_keys"] or [])
            host = cloud.create_host(planned["name"], keys)
            default_vpc = str(uuid.uuid5(uuid.NAMESPACE_URL, f"digitalocean/vpc/{region}"))
            record = cloud.insert(
                DROPLETS,
                {
                    "cloud_id": host["id"],
                    "name": planned["name"],
                    "image": planned["image"],
                    "region": region,
                    "size": planned["size"],
                    "tags": sorted(planned["tags"] or []),
                    "ipv6": bool(planned["ipv6"]),
                    "vpc_uuid": planned["vpc_uuid"] if known(planned["vpc_uuid"]) else default_vpc,
                    "monitoring": bool(planned["monitoring"]),
                    "created_at": now_rfc3339(),
                },
            )
        return self._state(record, host, planned)

    def do_read(self, ctx: ReadContext, current: State) -> State | None:
        with request("GET", f"/v2/droplets/{current['id']}", "Error retrieving droplet"):
            self.provider.authorize()
            found = self.provider.cloud.vm(DROPLETS, current["id"])
        if found is None:
            return None
        host, record = found
        return self._state(record or self._adopted(host, current), host, current)

    @staticmethod
    def _adopted(host: dict[str, Any], current: State) -> Record:
        """What the API would report of a VM the lab made without this provider."""
        return {
            "cloud_id": host["id"],
            "name": host["name"],
            "image": current.get("image"),
            "region": current.get("region") or DEFAULT_REGION,
            "size": current.get("size"),
            "tags": [],
            "ipv6": False,
            "vpc_uuid": current.get("vpc_uuid"),
            "monitoring": False,
            "created_at": current.get("created_at") or now_rfc3339(),
        }

    def do_update(self, ctx: UpdateContext, current: State, planned: State) -> State:
        cloud = self.provider.cloud
        droplet_id = current["id"]
        with request("POST", f"/v2/droplets/{droplet_id}/actions", "Error updating droplet"):
            self.provider.authorize()
            host = cloud.get_host(droplet_id)
            if host is None:
                raise CloudError(404, NOT_FOUND)
            self._checkrequest(planned["name"], planned["size"])
            old = cloud.find(DROPLETS, cloud_id=droplet_id) or self._adopted(host, current)
            new = {
                **old,
                "name": planned["name"],  # rename: the VM's hostname stays, as on DigitalOcean
                "size": planned["size"],  # resize: the lab's VMs have no size to change
                "tags": sorted(planned["tags"] or []),
                "ipv6": bool(planned["ipv6"]) or old["ipv6"],
            }
            record = cloud.save(DROPLETS, old, new)
        return self._state(record, host, planned)

    def do_delete(self, ctx: DeleteContext, current: State) -> None:
        cloud = self.provider.cloud
        with request("DELETE", f"/v2/droplets/{current['id']}", "Error deleting droplet"):
            self.provider.authorize()
            cloud.delete_host(current["id"])  # already gone (404) counts as deleted, as for real
            cloud.forget(DROPLETS, cloud_id=current["id"])


if __name__ == "__main__":
    framework.serve(DigitalOceanProvider())
