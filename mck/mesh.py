"""WireGuard mesh addresses: one per node, allocated by mck, stable for the node's whole life.

A node's mesh address is its identity inside the cluster (kubelet node-ip, dqlite member
address, join URL), so it must never change while the node lives. mck keeps no database: the
previous allocation is read back from the inventory it wrote last time, which persists in the
project between runs. Pure functions only; the caller does the file reading.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping

from mck.errors import MckError
from mck.nodes import name_key

# A private /16 that none of the clouds' default VPCs use (10.0/16, 10.1xx/16, 172.31/16) and
# microk8s does not claim (pods 10.1.0.0/16, services 10.152.183.0/24).
NETWORK = ipaddress.IPv4Network("10.77.0.0/16")

_MESH_IP = re.compile(r"(?:^|\s)mck_mesh_ip=(\S+)")


def allocate(names: Iterable[str], previous: Mapping[str, str]) -> dict[str, str]:
    """Every node's mesh address: a node that had one keeps it, new nodes take the lowest
    free addresses in name order (so the same inputs always give the same answer).

    `previous` maps node names to the addresses they had; entries of nodes that are gone are
    ignored (their addresses become free), as are addresses outside `NETWORK` or claimed twice.
    """
    wanted = sorted(set(names), key=name_key)
    kept: dict[str, str] = {}
    taken: set[ipaddress.IPv4Address] = set()
    for name in wanted:
        address = _usable(previous.get(name))
        if address is not None and address not in taken:
            kept[name] = str(address)
            taken.add(address)
    free = (a for a in NETWORK.hosts() if a not in taken)
    result = {}
    for name in wanted:
        if name not in kept:
            address = next(free, None)
            if address is None:
                raise MckError(f"the mesh network {NETWORK} has no free address for {name}")
            kept[name] = str(address)
        result[name] = kept[name]
    return result


def previous_from_inventory(text: str) -> dict[str, str]:
    """Node name -> `mck_mesh_ip` from an inventory mck wrote (host lines only)."""
    found = {}
    for line in text.splitlines():
        if not line or line[0] in "#[;" or line[0].isspace():
            continue
        match = _MESH_IP.search(line)
        if match:
            found[line.split()[0]] = match[1]
    return found


def _usable(text: str | None) -> ipaddress.IPv4Address | None:
    if text is None:
        return None
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        return None
    usable = address in NETWORK and address not in (
        NETWORK.network_address,
        NETWORK.broadcast_address,
    )
    return address if usable else None
