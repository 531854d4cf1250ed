"""OpenSSH public keys as the clouds check and fingerprint them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct

KEY_TYPES = (
    "ssh-rsa",
    "ssh-dss",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)


class InvalidKey(ValueError):
    """Not an OpenSSH public key line (`type base64 [comment]`)."""


def key_blob(public_key: str) -> tuple[str, bytes]:
    """(type, wire-format blob) of an authorized_keys line; InvalidKey when it is not one."""
    fields = public_key.strip().split()
    if len(fields) < 2 or fields[0] not in KEY_TYPES:
        raise InvalidKey("key should be of the format `type key [comment]`")
    try:
        blob = base64.b64decode(fields[1], validate=True)
    except binascii.Error as err:
        raise InvalidKey("the key data is not valid base64") from err
    # The blob starts with its own type name, length-prefixed: a cut or mixed-up key fails here.
    if len(blob) < 4:
        raise InvalidKey("the key data is truncated")
    (length,) = struct.unpack(">I", blob[:4])
    if blob[4 : 4 + length].decode("ascii", "replace") != fields[0]:
        raise InvalidKey(f"the key data is not a {fields[0]} key")
    return fields[0], blob


def md5_fingerprint(public_key: str) -> str:
    """`ssh-keygen -E md5 -l` style, colon hex (DigitalOcean's and AWS's RSA fingerprint)."""
    _, blob = key_blob(public_key)
    digest = hashlib.md5(blob).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def sha256_fingerprint(public_key: str) -> str:
    """Base64 SHA-256 of the key, padded (AWS's fingerprint of an imported ED25519 key)."""
    _, blob = key_blob(public_key)
    return base64.b64encode(hashlib.sha256(blob).digest()).decode()
