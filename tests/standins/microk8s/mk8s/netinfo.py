"""The host's addresses, read with `ip` like microk8s does.

- default_ip: utils.sh `get_default_ip` (IP of the default route's device, else the `src` of
  `ip route get 255.255.255.255`, else the word "none"; lab hosts have no default route).
- all_ips: utils.sh `get_ips` (`hostname -I` minus 169.254.x and CNI interface addresses).
- matching_bind_address: microk8s-cluster-agent pkg/api/v2/api_util.go findMatchingBindAddress,
  the check that refuses to move dqlite to an address no local interface has.
"""

from __future__ import annotations

import ipaddress
import subprocess
from dataclasses import dataclass

CNI_INTERFACES = ("vxlan.calico", "flannel.1", "cni0", "ovn0")


@dataclass(frozen=True)
class Address:
    device: str
    ip: str
    prefixlen: int
    scope: str


def _ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    return done.stdout if done.returncode == 0 else ""


def addresses() -> list[Address]:
    """Every address on every interface, IPv4 first (getifaddrs' order, as `hostname -I`)."""
    found: list[Address] = []
    for line in _ip("-o", "addr", "show").splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[2] not in ("inet", "inet6"):
            continue
        ip, _, prefix = fields[3].partition("/")
        scope = fields[fields.index("scope") + 1] if "scope" in fields else "global"
        found.append(Address(fields[1].split("@")[0], ip, int(prefix or 32), scope))
    return sorted(found, key=lambda a: ":" in a.ip)


def local_ips() -> list[str]:
    return [a.ip for a in addresses()]


def is_local(ip: str) -> bool:
    return ip in local_ips()


def all_ips() -> list[str]:
    ips = []
    for addr in addresses():
        if addr.device == "lo" or addr.ip.startswith("169.254.") or addr.scope == "link":
            continue
        if addr.device in CNI_INTERFACES:
            continue
        ips.append(addr.ip)
    return ips


def default_ip() -> str:
    device = ""
    fields = _ip("route", "show", "default").split()
    if "dev" in fields:
        device = fields[fields.index("dev") + 1]
    if device:
        for line in _ip("-o", "-4", "addr", "list", device).splitlines():
            return line.split()[3].split("/")[0]
    fields = _ip("route", "get", "255.255.255.255").split()
    if "src" in fields:
        return fields[fields.index("src") + 1]
    return "none"


class BindAddressError(Exception):
    pass


def matching_bind_address(host_port: str, addrs: list[Address] | None = None) -> str:
    """Which local IP dqlite should bind to, given the host:port a join request was sent to."""
    host = host_port.rsplit(":", 1)[0].strip("[]")
    try:
        wanted = ipaddress.ip_address(host)
    except ValueError:
        return host  # upstream: not an IP, keep it "for backwards-compatibility"
    virtual = False
    matching: str | None = None
    for addr in addresses() if addrs is None else addrs:
        net = ipaddress.ip_interface(f"{addr.ip}/{addr.prefixlen}").network
        host_bits = net.max_prefixlen - net.prefixlen
        if ipaddress.ip_address(addr.ip) == wanted:
            virtual = host_bits == 0
            if not virtual:
                return host
        elif wanted in net and host_bits > 0:
            matching = addr.ip
    if virtual:
        return matching or host
    raise BindAddressError(
        f"address {host} was not found in any host interface. refuse to update dqlite bind"
        f" address to {host} as it would break the cluster"
    )
