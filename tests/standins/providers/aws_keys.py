"""`aws_key_pair` of the stand-in AWS provider (internal/service/ec2/ec2_key_pair.go): key_name
and public_key force a new key pair; EC2 refuses a second key pair of the same name."""

from __future__ import annotations

from typing import Any

from tf.iface import Config, CreateContext, DeleteContext, ReadContext, UpdateContext
from tf.schema import Attribute
from tf.types import String
from tf.utils import Diagnostics

from . import sshkeys
from .aws_common import (
    all_tags,
    arn,
    ec2_call,
    ec2_error,
    own_tags,
    plan_tags,
    tag_attributes,
)
from .cloud_api import Record
from .framework import LabResource, State, known, schema
from .ids import hex_id

KEY_PAIRS = "aws_key_pair"  # record kind in labd's store


class KeyPair(LabResource):
    NAME = "key_pair"

    SCHEMA = schema(
        [
            Attribute("id", String(), computed=True),
            Attribute("arn", String(), computed=True),
            Attribute("fingerprint", String(), computed=True),
            Attribute("key_name", String(), optional=True, computed=True, requires_replace=True),
            Attribute("key_pair_id", String(), computed=True),
            Attribute("key_type", String(), computed=True),
            Attribute("public_key", String(), required=True, requires_replace=True),
            *tag_attributes(),
        ],
    )

    def validate(self, diags: Diagnostics, type_name: str, config: Config) -> None:
        super().validate(diags, type_name, config)
        name = config.get("key_name")
        if isinstance(name, str) and len(name) > 255:
            diags.add_error(
                f'expected length of key_name to be in the range (0 - 255), got "{name}"',
                path=["key_name"],
            )

    def plan(self, ctx: Any, current: State | None, planned: State) -> State:
        return plan_tags(self.provider.default_tags, planned)

    def _state(self, record: Record, current: State) -> State:
        region = self.provider.region
        return {
            "id": record["cloud_id"],
            "arn": arn(region, f"key-pair/{record['cloud_id']}"),
            "fingerprint": record["fingerprint"],
            "key_name": record["cloud_id"],
            "key_pair_id": record["key_pair_id"],
            "key_type": record["key_type"],
            "public_key": current.get("public_key") or record["public_key"],
            "tags": own_tags(self.provider.default_tags, record["tags"], current.get("tags")),
            "tags_all": record["tags"],
        }

    def _find(self, name: str) -> Record | None:
        return self.provider.cloud.find(KEY_PAIRS, cloud_id=name, region=self.provider.region)

    def do_create(self, ctx: CreateContext, planned: State) -> State:
        name = planned["key_name"]
        if not known(name):  # create.Name(): a unique name when none is given
            name = "terraform-" + hex_id("x")[2:]
        with ec2_call("ImportKeyPair", f"importing EC2 Key Pair ({name})"):
            self.provider.authorize()
            try:
                key_type, _ = sshkeys.key_blob(planned["public_key"])
            except sshkeys.InvalidKey as err:
                message = "Key is not in valid OpenSSH public key format"
                raise ec2_error("InvalidKey.Format", message) from err
            if self._find(name) is not None:
                raise ec2_error("InvalidKeyPair.Duplicate", f"The keypair '{name}' already exists.")
            ed25519 = key_type == "ssh-ed25519"
            record = {
                "cloud_id": name,
                "region": self.provider.region,
                "key_pair_id": hex_id("key"),
                "key_type": "ed25519" if ed25519 else "rsa",
                "fingerprint": (sshkeys.sha256_fingerprint if ed25519 else sshkeys.md5_fingerprint)(
                    planned["public_key"]
                ),
                "public_key": planned["public_key"],
                "tags": all_tags(self.provider.default_tags, planned["tags"]),
            }
            stored = self.provider.cloud.insert(KEY_PAIRS, record)
        return self._state(stored, planned)

    def do_read(self, ctx: ReadContext, current: State) -> State | None:
        with ec2_call("DescribeKeyPairs", f"reading EC2 Key Pair ({current['id']})"):
            self.provider.authorize()
            record = self._find(current["id"])
        return None if record is None else self._state(record, current)

    def do_update(self, ctx: UpdateContext, current: State, planned: State) -> State:
        with ec2_call("CreateTags", f"updating tags for EC2 Key Pair ({current['id']})"):
            self.provider.authorize()
            tags = all_tags(self.provider.default_tags, planned["tags"])
            stored = self.provider.cloud.change(
                KEY_PAIRS, {"tags": tags}, cloud_id=current["id"], region=self.provider.region
            )
            if stored is None:
                message = f"The key pair '{current['id']}' does not exist"
                raise ec2_error("InvalidKeyPair.NotFound", message)
        return self._state(stored, planned)

    def do_delete(self, ctx: DeleteContext, current: State) -> None:
        with ec2_call("DeleteKeyPair", f"deleting EC2 Key Pair ({current['id']})"):
            self.provider.authorize()
            # EC2 answers success for a key pair that is not there
            self.provider.cloud.forget(
                KEY_PAIRS, cloud_id=current["id"], region=self.provider.region
            )
