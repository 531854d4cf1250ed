"""The node name policy: a VM's name (DigitalOcean `name`, Linode `label`, AWS `tags.Name`,
Hetzner `name`) is used unchanged as the node's inventory name, hostname, `/etc/hosts` entry
and Kubernetes node name, so it must be a hostname as it is. mck never rewrites a name (two
spellings of one node would drift apart); it refuses one that is not, in the plan phase, from
the planned values, before any VM is created, naming every bad resource at once. Pure.

Real providers accept what a hostname does not: Linode labels and AWS tags take uppercase
letters and underscores. A name OpenTofu only knows after apply cannot be checked before the
VM exists, so it is refused too, with the ways around it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Lowercase DNS labels joined by dots (RFC 1123), which is also what Kubernetes requires of a
# node name: 253 characters at most.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_NODE_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
MAX_LENGTH = 253


def is_node_name(name: str) -> bool:
    return len(name) <= MAX_LENGTH and bool(_NODE_NAME.fullmatch(name))


def problem(address: str, attribute: str, name: str | None) -> str | None:
    """Why the VM at `address` cannot be a node under `name`, or None when it can."""
    if not name:
        return f"{address} has no {attribute}: give the VM a name in its HCL"
    if is_node_name(name):
        return None
    hint = suggestion(name)
    example = f" (e.g. {hint!r})" if hint else ""
    return (
        f"{address} is named {name!r}, which cannot be a hostname: mck uses the name as the "
        f"node's hostname and Kubernetes node name, so set its {attribute} to lowercase "
        f"letters, digits, '-' and '.'{example} in its HCL"
    )


def unknown(address: str, attribute: str) -> str:
    return (
        f"{address}: its {attribute} is known only after apply (it depends on a value OpenTofu "
        "computes), and mck checks node names before it creates a VM: build the name from "
        "variables, count.index or each.key, or create what it depends on first "
        "(`tofu apply -target=…`)"
    )


def suggestion(name: str) -> str | None:
    """A valid spelling close to `name`, to show in the refusal (never applied by mck)."""
    text = re.sub(r"[^a-z0-9.-]+", "-", name.lower())
    text = re.sub(r"-*\.-*", ".", text).strip(".-")
    text = re.sub(r"\.{2,}", ".", text)
    return text if text and is_node_name(text) else None


def is_unknown(after_unknown: object, path: str) -> bool:
    """Whether a plan's `after_unknown` marks the dotted `path` (or a part of it) unknown."""
    value = after_unknown
    for step in path.split("."):
        if value is True:
            return True
        if not isinstance(value, Mapping):
            return False
        value = value.get(step)
    return value is True
