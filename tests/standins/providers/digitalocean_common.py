"""What the stand-in DigitalOcean's resources share: the API's address, record kinds in labd's
store, and errors worded like godo's (`Error creating droplet: POST
https://api.digitalocean.com/v2/droplets: 422 (request "...") ...`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tf.iface import Config
from tf.utils import Diagnostics

from .cloud_api import CloudError
from .framework import ApiError
from .ids import request_id

API = "https://api.digitalocean.com"
KEYS = "digitalocean_ssh_key"  # record kinds in labd's store
DROPLETS = "digitalocean_droplet"
NOT_FOUND = "The resource you were accessing could not be found."  # the API's 404 message


@contextmanager
def request(method: str, path: str, what: str) -> Iterator[None]:
    """Reword a refused call the way godo and the provider print it."""
    try:
        yield
    except CloudError as err:
        rid = request_id()
        line = f'{method} {API}{path}: {err.status} (request "{rid}") {err.message}'
        raise ApiError(f"{what}: {line}") from err


def not_empty(diags: Diagnostics, config: Config, *names: str) -> None:
    """validation.NoZeroValues of the real schema."""
    for name in names:
        if config.get(name) == "":
            diags.add_error(f"{name} value must not be empty.", path=[name])
