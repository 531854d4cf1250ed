"""Cloud-style identifiers and timestamps for the objects the stand-ins create."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime


def numeric_id() -> str:
    """A DigitalOcean / Linode style id: the decimal string of a positive integer."""
    return str(10_000_000 + secrets.randbelow(890_000_000))


def hex_id(prefix: str) -> str:
    """An AWS style id: `<prefix>-` and 17 hex digits (vpc-..., key-...)."""
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


def stable_hex_id(prefix: str, *parts: str) -> str:
    """An AWS style id that is the same in every run for the same parts.

    For objects every account already has (the default VPC of a region and its subnets and
    security group): any provider process finds them without having to create them first.
    """
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest()
    return f"{prefix}-{digest[:17]}"


def request_id() -> str:
    return str(uuid.uuid4())


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
