"""Stand-in for registry.terraform.io/linode/linode (2.31, the v2.31.0 tag's schemas).

Resources: `linode_sshkey` (a plugin-framework resource there) and `linode_instance` (SDKv2).
As in v2.31: label, type and tags change in place; image, authorized_keys and ipv4 force a new
instance; a region change is planned as an update the provider does not carry out (the next plan
shows it again); private networking can be turned on but not off. Errors read like linodego's:
`Error creating a Linode Instance: [400] [region] region is not valid`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tf.iface import Config, CreateContext, DeleteContext, ReadContext, UpdateContext
from tf.schema import Attribute
from tf.types import Bool, List, Number, Set, String, Unknown
from tf.utils import Diagnostics

from . import framework, sshkeys
from .cloud_api import CloudError, Record
from .framework import ApiError, LabResource, State, attributes, items, known, null_if_unset, schema
from .ids import now_rfc3339, numeric_id
from .token_provider import TokenProvider

KEYS = "linode_sshkey"  # record kinds in labd's store
INSTANCES = "linode_instance"

REGIONS = {
    "us-east", "us-central", "us-west", "us-southeast", "us-ord", "us-iad", "us-lax", "us-mia",
    "us-sea", "ca-central", "eu-west", "eu-central", "ap-south", "ap-northeast", "ap-west",
    "ap-southeast", "fr-par", "nl-ams", "se-sto", "it-mil", "jp-osa", "in-maa", "id-cgk",
    "br-gru", "es-mad", "gb-lon", "au-mel",
}  # fmt: skip
IMAGE = re.compile(r"^(linode|private)/[a-z0-9._-]+$")
TYPE = re.compile(r"^g\d+-[a-z]+(-[a-z0-9]+)+$")
LABEL = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9]|[-_.](?![-_.]))*[a-zA-Z0-9]$")
DEFAULT_TYPE = "g6-standard-1"


@contextmanager
def _request(what: str, *, framework: bool = False) -> Iterator[None]:
    """Reword a refused call the way linodego (`[status] message`) and the provider print it.

    SDKv2 resources put everything in the summary (diag.Errorf); plugin-framework ones
    (`framework`) give the summary and linodego's message as the detail.
    """
    try:
        yield
    except CloudError as err:
        message = f"[{err.status:03d}] {err.message}"
        if framework:
            raise ApiError(what, message) from err
        raise ApiError(f"{what}: {message}") from err


class LinodeProvider(TokenProvider):
    CLOUD = "linode"
    ADDRESS = "linode/linode"
    TOKEN_VARIABLES = ("LINODE_TOKEN",)
    UNAUTHORIZED = "Invalid Token"  # api.linode.com's answer

    SETTINGS = (
        *attributes(
            String,
            "config_path",
            "config_profile",
            "url",
            "ua_prefix",
            "api_version",
            optional=True,
        ),
        *attributes(Bool, "skip_instance_ready_poll", "skip_instance_delete_poll", optional=True),
        Attribute("event_poll_ms", Number(), optional=True),
    )

    def get_resources(self) -> list[Any]:
        return [SshKey, Instance]


class SshKey(LabResource):
    NAME = "sshkey"
    provider: LinodeProvider

    SCHEMA = schema(
        [
            Attribute("label", String(), required=True),
            Attribute("ssh_key", String(), required=True, requires_replace=True),
            Attribute("created", String(), computed=True),
            Attribute("id", String(), computed=True),
        ]
    )

    def validate(self, diags: Diagnostics, type_name: str, config: Config) -> None:
        super().validate(diags, type_name, config)
        label = config.get("label")
        if known(label) and label is not None and len(label) > 64:
            diags.add_error(
                "Invalid Attribute Value Length",
                f"Attribute label string length must be between 0 and 64, got: {len(label)}",
                path=["label"],
            )

    @staticmethod
    def _state(record: Record) -> State:
        return {
            "label": record["label"],
            "ssh_key": record["ssh_key"],
            "created": record["created"],
            "id": record["cloud_id"],
        }

    def do_create(self, ctx: CreateContext, planned: State) -> State:
        cloud = self.provider.cloud
        with _request("Failed to create SSH Key", framework=True):
            self.provider.authorize()
            try:
                sshkeys.key_blob(planned["ssh_key"])
            except sshkeys.InvalidKey as err:
                raise CloudError(400, f"[ssh_key] SSH Key is invalid: {err}") from err
            record = {
                "cloud_id": numeric_id(),
                "label": planned["label"],
                "ssh_key": planned["ssh_key"],
                "created": now_rfc3339(),
            }
            return self._state(cloud.insert(KEYS, record))

    def do_read(self, ctx: ReadContext, current: State) -> State | None:
        with _request("Unable to refresh the SSH Key", framework=True):
            self.provider.authorize()
            record = self.provider.cloud.find(KEYS, cloud_id=current["id"])
        if record is None:
            ctx.diagnostics.add_warning(
                "SSH Key",
                f"Removing SSH Key with ID {current['id']} from state because it no longer exists",
            )
            return None
        return self._state(record)

    def do_update(self, ctx: UpdateContext, current: State, planned: State) -> State:
        cloud = self.provider.cloud
        with _request(f"Failed to update SSH Key ({current['id']})", framework=True):
            self.provider.authorize()
            record = cloud.change(KEYS, {"label": planned["label"]}, cloud_id=current["id"])
            if record is None:
                raise CloudError(404, "Not found")
            return self._state(record)

    def do_delete(self, ctx: DeleteContext, current: State) -> None:
        cloud = self.provider.cloud
        with _request(f"Failed to delete the SSH Key ({current['id']})", framework=True):
            self.provider.authorize()
            cloud.forget(KEYS, cloud_id=current["id"])  # a 404 on delete is success here


class Instance(LabResource):
    NAME = "instance"
    provider: LinodeProvider

    SCHEMA = schema(
        [
            Attribute("id", String(), computed=True),
            Attribute("label", String(), optional=True, computed=True),
            Attribute("image", String(), optional=True, requires_replace=True),
            Attribute("region", String(), required=True),
            Attribute("type", String(), optional=True, computed=True, default=DEFAULT_TYPE),
            Attribute("authorized_keys", List(String()), optional=True, requires_replace=True),
            Attribute("root_pass", String(), optional=True, sensitive=True, requires_replace=True),
            Attribute("private_ip", Bool(), optional=True),
            Attribute("private_ip_address", String(), computed=True),
            Attribute("ip_address", String(), computed=True),
            Attribute("ipv4", Set(String()), optional=True, computed=True, requires_replace=True),
            Attribute("ipv6", String(), computed=True),
            Attribute("tags", Set(String()), optional=True, computed=True, default=[]),
            Attribute("status", String(), computed=True),
        ]
    )

    def validate(self, diags: Diagnostics, type_name: str, config: Config) -> None:
        super().validate(diags, type_name, config)
        label = config.get("label")
        if isinstance(label, str) and not 3 <= len(label) <= 50:
            diags.add_error(
                f'expected length of label to be in the range (3 - 50), got "{label}"',
                path=["label"],
            )
        if config.get("image") is None and config.get("authorized_keys") is not None:
            diags.add_error(
                "all of `authorized_keys,image` must be specified", path=["authorized_keys"]
            )

    def plan(self, ctx: Any, current: State | None, planned: State) -> State:
        # Turning private networking on gives the instance a new address, known after apply.
        if current and not current.get("private_ip") and planned.get("private_ip"):
            planned["private_ip_address"] = Unknown
            planned["ipv4"] = Unknown
        return planned

    @staticmethod
    def _state(record: Record, host: dict[str, Any], current: State) -> State:
        """Instance state: what the API reports, plus the arguments it never returns."""
        private = host["private_ip"] if record["private"] else None
        return {
            "id": host["id"],
            "label": record["label"],
            "image": current.get("image"),
            "region": record["region"],
            "type": record["type"],
            "authorized_keys": current.get("authorized_keys"),
            "root_pass": current.get("root_pass"),
            "private_ip": null_if_unset(current.get("private_ip"), record["private"]),
            "private_ip_address": private,
            "ip_address": host["public_ip"],
            "ipv4": sorted(ip for ip in (host["public_ip"], private) if ip),
            "ipv6": None,  # the lab has no IPv6
            "tags": sorted(record["tags"]),
            "status": "running" if host.get("status") == "active" else "offline",
        }

    @staticmethod
    def _check_request(planned: State) -> None:
        """The API's own validation of a create or update request."""
        errors = []
        if planned["region"] not in REGIONS:
            errors.append("[region] region is not valid")
        if not TYPE.match(planned["type"] or ""):
            errors.append("[type] A valid plan type by that ID was not found")
        if planned.get("image") is not None and not IMAGE.match(planned["image"]):
            errors.append("[image] image is not valid")
        if not LABEL.match(planned["label"]):
            errors.append(
                "[label] Label must begin and end with a letter or number, and may only "
                "contain letters, numbers, hyphens, underscores and periods"
            )
        if errors:
            raise CloudError(400, "; ".join(errors))

    def do_create(self, ctx: CreateContext, planned: State) -> State:
        cloud = self.provider.cloud
        keys = planned["authorized_keys"] or []
        if any(not key for key in keys):
            raise ApiError("invalid input for authorized_keys: keys cannot be empty or null")
        if known(planned["ipv4"]) and planned["ipv4"]:
            raise ApiError(
                "Stand-in limitation: the lab cannot assign reserved IPv4 addresses (ipv4)"
            )
        with _request("failed to initialize event poller"):
            self.provider.authorize()
        with _request("Error creating a Linode Instance"):
            label = planned["label"] if known(planned["label"]) else f"linode{numeric_id()}"
            request = {**planned, "label": label}
            self._check_request(request)
            host = cloud.create_host(label, list(keys))
            record = cloud.insert(
                INSTANCES,
                {
                    "cloud_id": host["id"],
                    "label": label,
                    "region": planned["region"],
                    "type": planned["type"],
                    "tags": sorted(items(planned["tags"])),
                    "private": bool(planned["private_ip"]),
                    "created": now_rfc3339(),
                },
            )
        return self._state(record, host, planned)

    def do_read(self, ctx: ReadContext, current: State) -> State | None:
        with _request("failed to get instance"):
            self.provider.authorize()
            found = self.provider.cloud.vm(INSTANCES, current["id"])
        if found is None:
            return None
        host, record = found
        return self._state(record or self._adopted(host, current), host, current)

    @staticmethod
    def _adopted(host: dict[str, Any], current: State) -> Record:
        """What the API would report of a VM the lab made without this provider."""
        return {
            "cloud_id": host["id"],
            "label": host["name"],
            "region": current.get("region"),
            "type": current.get("type") or DEFAULT_TYPE,
            "tags": [],
            "private": True,
            "created": now_rfc3339(),
        }

    def do_update(self, ctx: UpdateContext, current: State, planned: State) -> State:
        cloud = self.provider.cloud
        instance_id = current["id"]
        with _request("Error fetching data about the current linode"):
            self.provider.authorize()
            host = cloud.get_host(instance_id)
            if host is None:
                raise CloudError(404, "Not found")
        if current.get("private_ip") and not planned.get("private_ip"):
            raise ApiError(
                f"Error removing private IP address for Instance {instance_id}: Removing a "
                "Private IP address must be handled through a support ticket"
            )
        with _request(f"Error updating Instance {instance_id}"):
            # v2.31 has no migration: the region stays where it is (see the module docstring)
            self._check_request({**planned, "region": current["region"]})
            old = cloud.find(INSTANCES, cloud_id=instance_id) or self._adopted(host, current)
            new = {
                **old,
                "label": planned["label"],
                "type": planned["type"],
                "tags": sorted(items(planned["tags"])),
                "private": bool(planned["private_ip"]) or old["private"],
            }
            record = cloud.save(INSTANCES, old, new)
        state = self._state(record, host, planned)
        # Like the SDKv2 provider, apply reports the planned region; the next refresh does not.
        return {**state, "region": planned["region"]}

    def do_delete(self, ctx: DeleteContext, current: State) -> None:
        cloud = self.provider.cloud
        with _request("failed to initialize event poller"):
            self.provider.authorize()
        with _request(f"Error deleting Linode instance {current['id']}"):
            if not cloud.delete_host(current["id"]):
                raise CloudError(404, "Not found")
            cloud.forget(INSTANCES, cloud_id=current["id"])


if __name__ == "__main__":
    framework.serve(LinodeProvider())
