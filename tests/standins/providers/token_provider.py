"""What the DigitalOcean and Linode stand-ins share as providers: one API token, and the lab's
hosts of their cloud. Each subclass keeps its own schema and resources."""

from __future__ import annotations

import os
from typing import Any, ClassVar

from tf.iface import Config, Provider
from tf.schema import Attribute, Schema
from tf.types import String
from tf.utils import Diagnostics

from .cloud_api import CloudError, LabCloud
from .framework import known, schema


class TokenProvider(Provider):
    CLOUD: ClassVar[str]  # the lab's cloud, also the resource type prefix
    ADDRESS: ClassVar[str]  # namespace/type in the registry
    TOKEN_VARIABLES: ClassVar[tuple[str, ...]]  # read in this order when `token` is left out
    UNAUTHORIZED: ClassVar[str]  # what the API answers (401) a request without a valid token
    SETTINGS: ClassVar[tuple[Attribute, ...]]  # the provider block's arguments besides `token`

    def __init__(self) -> None:
        self.token = ""
        self.cloud = LabCloud(self.CLOUD)

    def full_name(self) -> str:
        return f"registry.terraform.io/{self.ADDRESS}"

    def get_model_prefix(self) -> str:
        return f"{self.CLOUD}_"

    def get_provider_schema(self, diags: Diagnostics) -> Schema:
        return schema([Attribute("token", String(), optional=True, sensitive=True), *self.SETTINGS])

    def validate_config(self, diags: Diagnostics, config: Config) -> None:
        pass

    def configure_provider(self, diags: Diagnostics, config: Config) -> None:
        # Like the SDK's DefaultFunc: the environment only fills a token left out entirely (null);
        # an empty token stays empty and the API answers 401 on the first call.
        token = config.get("token")
        if token is None:
            token = next((os.environ[v] for v in self.TOKEN_VARIABLES if os.environ.get(v)), "")
        self.token = token if known(token) else ""

    def authorize(self) -> None:
        if not self.token:
            raise CloudError(401, self.UNAUTHORIZED)

    def get_data_sources(self) -> list[Any]:
        return []
