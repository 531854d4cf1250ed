"""Filters the microk8s role uses to compare a running node's settings with the inventory.

The role reads every setting it reconciles in one remote command (`grep -H` over the args
files, csr.conf.template and dqlite's info.yaml); these filters turn that output into values
and into the list of changes, on the controller, so a converged node costs one round trip.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

# csr.conf.template entries every microk8s node has (shipped template, GenerateCSRConf).
DEFAULT_SANS_ORDER = (
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster",
    "kubernetes.default.svc.cluster.local",
    "127.0.0.1",
    "10.152.183.1",
)
DEFAULT_SANS = frozenset(DEFAULT_SANS_ORDER)
_SAN = re.compile(r"^(?:IP|DNS)\.\d+\s*=\s*(\S+)\s*$")


def _key_value(line: str) -> tuple[str, str]:
    """One args/env line: `--key=value`, `--key value` or `KEY=value` (quotes dropped)."""
    match = re.match(r"^([^=\s]+)[=\s]\s*(.*)$", line.strip())
    if match is None:
        return line.strip(), ""
    return match[1], match[2].strip().strip("\"'")


def microk8s_current(grep_output: str) -> dict[str, Any]:
    """{"args": {file: {key: value}}, "sans": [...], "dqlite_address": "ip:port" or ""}."""
    args: dict[str, dict[str, str]] = {}
    sans: list[str] = []
    dqlite = ""
    for raw in grep_output.splitlines():
        path, sep, line = raw.partition(":")
        if not sep:
            continue
        name = path.rsplit("/", 1)[-1]
        if name == "csr.conf.template":
            match = _SAN.match(line)
            if match and match[1] not in DEFAULT_SANS and match[1] not in sans:
                sans.append(match[1])
        elif name == "info.yaml":
            if line.startswith("Address:"):
                dqlite = line.split(":", 1)[1].strip()
        else:
            key, value = _key_value(line)
            args.setdefault(name, {}).setdefault(key, value)  # the first one wins, like microk8s
    return {"args": args, "sans": sans, "dqlite_address": dqlite}


def microk8s_arg_changes(
    current: dict[str, dict[str, str]], wanted: dict[str, Any]
) -> list[dict[str, str]]:
    """The {file, key, value} items whose current value differs from `wanted` {file: {key: v}}."""
    changes = []
    for name, mapping in sorted(wanted.items()):
        for key, value in sorted((mapping or {}).items()):
            if current.get(name, {}).get(key) != str(value):
                changes.append({"file": name, "key": key, "value": str(value)})
    return changes


def microk8s_sans_differ(current: list[str], wanted: list[str]) -> bool:
    """Whether csr.conf.template lists other names than wanted (order does not matter)."""
    return set(current) != {s for s in wanted if s} - DEFAULT_SANS


def microk8s_split_sans(wanted: list[str]) -> dict[str, list[str]]:
    """GenerateCSRConf's entries: microk8s' own names and addresses first, then the wanted
    ones, each an IP entry if it parses as an address, else a DNS entry."""
    dns = [s for s in DEFAULT_SANS_ORDER if not _is_ip(s)]
    ips = [s for s in DEFAULT_SANS_ORDER if _is_ip(s)]
    for san in wanted:
        if san and san not in DEFAULT_SANS:
            (ips if _is_ip(san) else dns).append(san)
    return {"dns": list(dict.fromkeys(dns)), "ips": list(dict.fromkeys(ips))}


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def microk8s_dqlite_host(address: str) -> str:
    """The host of a dqlite address (`ip:port`, `[v6]:port`); "" when there is none."""
    host = address.rsplit(":", 1)[0].strip("[]") if address else ""
    return str(ipaddress.ip_address(host)) if _is_ip(host) else ""


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "microk8s_current": microk8s_current,
            "microk8s_arg_changes": microk8s_arg_changes,
            "microk8s_sans_differ": microk8s_sans_differ,
            "microk8s_dqlite_host": microk8s_dqlite_host,
            "microk8s_split_sans": microk8s_split_sans,
        }
