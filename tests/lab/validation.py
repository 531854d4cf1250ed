"""What the real clouds refuse at create time, refused the same way by the lab (bad_request),
so a provider or HCL bug shows up here rather than against a real account."""

from __future__ import annotations

import base64
import binascii
import re
import struct

from .api_client import LabApiError

CLOUDS = ("digitalocean", "linode", "aws")

# DigitalOcean: droplet names are hostnames ("Only valid hostname characters are allowed").
_DO_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,61}[A-Za-z0-9])?$")
# Linode labels: 3-64 chars, alphanumeric at both ends, [-_.] inside but never doubled.
_LINODE_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,62}[A-Za-z0-9]$")
_KEY_TYPES = (
    "ssh-ed25519", "ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
)  # fmt: skip


def check_host_request(cloud: str, name: str, ssh_keys: list[str]) -> None:
    if cloud not in CLOUDS:
        raise LabApiError("bad_request", f"unknown cloud {cloud!r}; clouds: {', '.join(CLOUDS)}")
    if cloud == "digitalocean" and not _DO_NAME.match(name):
        raise LabApiError(
            "bad_request", f"droplet name {name!r}: only valid hostname characters are allowed"
        )
    if cloud == "linode" and (
        not _LINODE_LABEL.match(name) or any(d in name for d in ("--", "__", ".."))
    ):
        raise LabApiError(
            "bad_request",
            f"linode label {name!r}: 3-64 characters, alphanumeric at both ends, "
            "'-', '_' or '.' inside and never two in a row",
        )
    if cloud == "aws" and not (0 < len(name) <= 256 and name.isprintable()):
        raise LabApiError("bad_request", f"aws Name tag {name!r}: 1-256 printable characters")
    for key in ssh_keys:
        check_public_key(key)


def check_public_key(key: str) -> None:
    """An OpenSSH public key line: `<type> <base64 blob whose first string is type> [comment]`."""
    parts = key.strip().split(None, 2)
    if "\n" in key.strip() or len(parts) < 2 or parts[0] not in _KEY_TYPES:
        raise LabApiError("bad_request", f"not an OpenSSH public key: {key[:60]!r}")
    try:
        blob = base64.b64decode(parts[1], validate=True)
        (length,) = struct.unpack(">I", blob[:4])
        embedded = blob[4 : 4 + length].decode()
    except (binascii.Error, struct.error, UnicodeDecodeError):
        raise LabApiError("bad_request", f"public key data is corrupt: {key[:60]!r}") from None
    if embedded != parts[0]:
        raise LabApiError("bad_request", f"public key type mismatch: {key[:60]!r}")
