"""`digitalocean_ssh_key` and the `digitalocean_ssh_keys` data source of the stand-in DigitalOcean.

As the real account (digitalocean/sshkey/resource_ssh_key.go, datasource_ssh_keys.go, ssh_keys.go):
a key is refused when the account already has it under any name (422 "SSH Key is already in use
on your account"); the data source lists every key of the account (godo's Keys.List) and an
empty list is no error. `account_key` puts a key in the lab's account the way a user uploads one
by hand, for tests of an account that already holds the user's key.
"""

from __future__ import annotations

from typing import Any

from tf.iface import (
    Config,
    CreateContext,
    DeleteContext,
    ReadContext,
    ReadDataContext,
    UpdateContext,
)
from tf.schema import Attribute
from tf.types import List, Number, String
from tf.utils import Diagnostics

from . import sshkeys
from .cloud_api import CloudError, Record
from .digitalocean_common import KEYS, NOT_FOUND, not_empty, request
from .framework import LabDataSource, LabResource, Object, State, schema
from .ids import numeric_id
from .token_provider import TokenProvider


def account_key(name: str, public_key: str) -> Record:
    """The record of a key uploaded to the account (by hand, or by another cluster)."""
    return {
        "cloud_id": numeric_id(),
        "name": name,
        "public_key": public_key,
        "fingerprint": sshkeys.md5_fingerprint(public_key),
    }


class SshKey(LabResource):
    NAME = "ssh_key"
    provider: TokenProvider

    SCHEMA = schema(
        [
            Attribute("id", String(), computed=True),
            Attribute("name", String(), required=True),
            Attribute("public_key", String(), required=True, requires_replace=True),
            Attribute("fingerprint", String(), computed=True),
        ]
    )

    def validate(self, diags: Diagnostics, type_name: str, config: Config) -> None:
        super().validate(diags, type_name, config)
        not_empty(diags, config, "name", "public_key")

    @staticmethod
    def _state(record: Record) -> State:
        return {
            "id": record["cloud_id"],
            "name": record["name"],
            "public_key": record["public_key"],
            "fingerprint": record["fingerprint"],
        }

    def do_create(self, ctx: CreateContext, planned: State) -> State:
        cloud = self.provider.cloud
        with request("POST", "/v2/account/keys", "Error creating SSH Key"):
            self.provider.authorize()
            try:
                fingerprint = sshkeys.md5_fingerprint(planned["public_key"])
            except sshkeys.InvalidKey as err:
                raise CloudError(422, f"Key invalid, {err}") from err
            if cloud.find(KEYS, fingerprint=fingerprint) is not None:
                raise CloudError(422, "SSH Key is already in use on your account")
            record = account_key(planned["name"], planned["public_key"])
            return self._state(cloud.insert(KEYS, record))

    def do_read(self, ctx: ReadContext, current: State) -> State | None:
        with request("GET", f"/v2/account/keys/{current['id']}", "Error retrieving SSH key"):
            self.provider.authorize()
            record = self.provider.cloud.find(KEYS, cloud_id=current["id"])
        return None if record is None else self._state(record)

    def do_update(self, ctx: UpdateContext, current: State, planned: State) -> State:
        cloud = self.provider.cloud
        with request("PUT", f"/v2/account/keys/{current['id']}", "Failed to update SSH key"):
            self.provider.authorize()
            record = cloud.change(KEYS, {"name": planned["name"]}, cloud_id=current["id"])
            if record is None:
                raise CloudError(404, NOT_FOUND)
            return self._state(record)

    def do_delete(self, ctx: DeleteContext, current: State) -> None:
        cloud = self.provider.cloud
        with request("DELETE", f"/v2/account/keys/{current['id']}", "Error deleting SSH key"):
            self.provider.authorize()
            record = cloud.find(KEYS, cloud_id=current["id"])
            if record is None:
                raise CloudError(404, NOT_FOUND)
            cloud.remove(KEYS, record)


class SshKeys(LabDataSource):
    """Every key of the account. The real data source also takes `filter` and `sort` blocks
    (internal/datalist); the shipped HCL filters in HCL instead, so they are left out here."""

    NAME = "ssh_keys"
    provider: TokenProvider

    SCHEMA = schema(
        [
            Attribute("id", String(), computed=True),
            Attribute(
                "ssh_keys",
                List(Object(id=Number(), name=String(), public_key=String(), fingerprint=String())),
                computed=True,
            ),
        ]
    )

    def do_read(self, ctx: ReadDataContext, config: State) -> State:
        what = "Unable to load records: Error retrieving ssh keys"  # datalist + ssh_keys.go
        with request("GET", "/v2/account/keys", what):
            self.provider.authorize()
            records = self.provider.cloud.records(KEYS)
        keys: list[dict[str, Any]] = [
            {
                "id": int(r["cloud_id"]),
                "name": r["name"],
                "public_key": r["public_key"],
                "fingerprint": r["fingerprint"],
            }
            for r in sorted(records, key=lambda r: int(r["cloud_id"]))
        ]
        return {"id": numeric_id(), "ssh_keys": keys}
