"""Stand-in for registry.terraform.io/hashicorp/aws (5.x, terraform-plugin-sdk v2 resources).

Resources: `aws_key_pair`, `aws_instance` (aws_ec2.py), `aws_default_vpc`, `aws_default_subnet`
(aws_vpc.py), `aws_default_security_group`, `aws_security_group` (aws_sg.py); data source
`aws_ami` (aws_ami.py). Like the real
provider it checks credentials when it is configured: with no access key it fails at once with
"No valid credential sources found", before any resource is touched.
"""

from __future__ import annotations

import os
from typing import Any

from tf.iface import Config, Provider
from tf.schema import Attribute, Block, Schema
from tf.types import Bool, List, Map, Number, String
from tf.utils import Diagnostics

from .aws_ami import Ami
from .aws_common import REGIONS, ec2_error
from .aws_ec2 import Instance
from .aws_keys import KeyPair
from .aws_sg import DefaultSecurityGroup, SecurityGroup
from .aws_vpc import DefaultSubnet, DefaultVpc
from .cloud_api import LabCloud
from .framework import ListNestedBlock, known, schema, serve

NO_CREDENTIALS_DETAIL = (
    "Please see https://registry.terraform.io/providers/hashicorp/aws\n"
    "for more information about providing credentials.\n\n"
    "Error: failed to refresh cached credentials, no EC2 IMDS role found, operation error "
    "ec2imds: GetMetadata, request canceled, context deadline exceeded\n"
)


class AwsProvider(Provider):
    def __init__(self) -> None:
        self.region = ""
        self.default_tags: dict[str, str] = {}
        self.configured = False
        self.cloud = LabCloud("aws")

    def full_name(self) -> str:
        return "registry.terraform.io/hashicorp/aws"

    def get_model_prefix(self) -> str:
        return "aws_"

    def get_provider_schema(self, diags: Diagnostics) -> Schema:
        default_tags = Block(attributes=[Attribute("tags", Map(String()), optional=True)])
        return schema(
            [
                Attribute("region", String(), optional=True),
                Attribute("access_key", String(), optional=True),
                Attribute("secret_key", String(), optional=True),
                Attribute("token", String(), optional=True),
                Attribute("profile", String(), optional=True),
                Attribute("shared_credentials_files", List(String()), optional=True),
                Attribute("shared_config_files", List(String()), optional=True),
                Attribute("max_retries", Number(), optional=True),
                Attribute("skip_credentials_validation", Bool(), optional=True),
                Attribute("skip_region_validation", Bool(), optional=True),
                Attribute("skip_requesting_account_id", Bool(), optional=True),
                Attribute("skip_metadata_api_check", String(), optional=True),
            ],
            [ListNestedBlock("default_tags", default_tags, max_items=1)],
        )

    def validate_config(self, diags: Diagnostics, config: Config) -> None:
        pass

    def configure_provider(self, diags: Diagnostics, config: Config) -> None:
        if not all(known(v) for v in config.values()):
            return  # configured again once the values are known (resources wait for that)
        region = (
            config.get("region")
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
        )
        # Empty arguments fall through to the environment, as in the SDK's credential chain;
        # the lab has no shared credentials files and no instance metadata (IMDS) to try next.
        access = config.get("access_key") or os.environ.get("AWS_ACCESS_KEY_ID")
        secret = config.get("secret_key") or os.environ.get("AWS_SECRET_ACCESS_KEY")
        if not access or not secret:
            diags.add_error("No valid credential sources found", NO_CREDENTIALS_DETAIL)
            return
        if not region:
            diags.add_error(
                "Missing region value",
                'The "region" argument, or the AWS_REGION or AWS_DEFAULT_REGION environment '
                "variable, must be set.",
            )
            return
        if region not in REGIONS and not config.get("skip_region_validation"):
            diags.add_error(f"invalid AWS Region: {region}")
            return
        self.region = region
        blocks = config.get("default_tags") or []
        self.default_tags = dict((blocks[0].get("tags") or {}) if blocks else {})
        self.configured = True

    def authorize(self) -> None:
        """Resource calls need a configured provider (terraform configures it before them)."""
        if not self.configured:
            raise ec2_error("AuthFailure", "the provider is not configured", status=401)

    def get_data_sources(self) -> list[Any]:
        return [Ami]

    def get_resources(self) -> list[Any]:
        return [
            KeyPair, Instance, DefaultVpc, DefaultSubnet, DefaultSecurityGroup, SecurityGroup
        ]  # fmt: skip


if __name__ == "__main__":
    serve(AwsProvider())
