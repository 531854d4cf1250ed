"""The lab's networks, all inside namespaces named `mck<id>-*` (nothing in the root namespace).

    mck<id>-net   bridge br0, the "internet" 198.51.100.0/24
    mck<id>-ctl   198.51.100.1, where mck/terraform/ansible run
    mck<id>-aws   198.51.100.2, the AWS edge: VPC bridge vpc0 192.0.2.1/24 and 1:1 NAT of
                  203.0.113.N <-> 192.0.2.N per instance, like an internet gateway
    mck<id>-h<k>  one per VM, eth0 = a veth whose peer is on br0 (DO, Linode) or vpc0 (AWS)

MTU as on the real paths: the internet carries 1500; an AWS VPC runs 9001 (instances' eth0,
vpc0), while the edge's internet side carries 1500 and drops IP fragments, as some real paths
do. A packet from an instance that does not fit 1500 gets ICMP "fragmentation needed" (DF set)
or is lost (fragmented by the instance).

Every namespace and link is recorded the moment it exists, so close() removes exactly what was
made, even after a half-finished start.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .commands import ip_batch, run

PUBLIC_PREFIX = "198.51.100"  # the lab internet
AWS_PUBLIC_PREFIX = "203.0.113"  # AWS public (elastic) addresses, never bound on an instance
AWS_VPC_PREFIX = "192.0.2"  # the AWS VPC subnet
CTL_IP = f"{PUBLIC_PREFIX}.1"
AWS_EDGE_IP = f"{PUBLIC_PREFIX}.2"
AWS_GATEWAY_IP = f"{AWS_VPC_PREFIX}.1"
# No default route anywhere: only AWS public addresses are routed, through the AWS edge.
AWS_PUBLIC_ROUTE = f"route add {AWS_PUBLIC_PREFIX}.0/24 via {AWS_EDGE_IP}"
AWS_VPC_MTU = 9001  # EC2's jumbo frames inside a VPC; its internet gateway carries 1500
# The edge forwards no IP fragment: matched before conntrack reassembles them (priority -400).
DROP_FRAGMENTS = """\
table ip lab-edge {
\tchain prerouting {
\t\ttype filter hook prerouting priority -450; policy accept;
\t\tip frag-off & 0x3fff != 0 counter drop
\t}
}
"""


@dataclass(frozen=True)
class Port:
    """A VM's attachment: `link` is the veth end in `bridge_ns`; its peer is eth0 in `host_ns`."""

    host_ns: str
    bridge_ns: str
    link: str
    nat: tuple[str, str] | None = None  # (public, private) for an AWS instance


class LabNetwork:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.net_ns = f"{prefix}-net"
        self.ctl_ns = f"{prefix}-ctl"
        self.aws_ns = f"{prefix}-aws"
        self._namespaces: list[str] = []
        self._ports: list[Port] = []
        self._lock = threading.Lock()  # VMs are created and deleted from API threads

    def start(self) -> None:
        self.add_netns(self.net_ns)
        ip_batch(self.net_ns, ["link add br0 type bridge", "link set br0 up"])
        # Bridged frames must not traverse iptables: the NAT rules are for routed traffic only.
        self._sysctl(self.net_ns, {"net/bridge/bridge-nf-call-iptables": "0"})

        self.add_netns(self.ctl_ns)
        self._plug(self.ctl_ns, self.net_ns, "br0", "ctl")
        ip_batch(self.ctl_ns, _eth0_setup(f"{CTL_IP}/24", [AWS_PUBLIC_ROUTE]))

        self.add_netns(self.aws_ns)
        self._plug(self.aws_ns, self.net_ns, "br0", "aws")
        ip_batch(
            self.aws_ns,
            [
                *_eth0_setup(f"{AWS_EDGE_IP}/24", []),
                f"link add vpc0 mtu {AWS_VPC_MTU} type bridge",
                f"addr add {AWS_GATEWAY_IP}/24 dev vpc0",
                "link set vpc0 up",
            ],
        )
        run(["ip", "netns", "exec", self.aws_ns, "nft", "-f", "-"], input=DROP_FRAGMENTS)
        self._sysctl(
            self.aws_ns,
            {"net/ipv4/ip_forward": "1", "net/bridge/bridge-nf-call-iptables": "0"},
        )

    def add_netns(self, name: str) -> None:
        # `ip netns add` fails on an existing name: a collision with another run is never adopted.
        with self._lock:
            self._namespaces.append(name)  # first: `ip netns add` may fail after creating it
        run(["ip", "netns", "add", name])

    def attach_public(self, host_ns: str, link: str, public_ip: str, private_ip: str) -> Port:
        """A DigitalOcean/Linode VM: public and VPC addresses both on eth0, on the internet."""
        port = self._plug(host_ns, self.net_ns, "br0", link)
        ip_batch(host_ns, _eth0_setup(f"{public_ip}/24", [AWS_PUBLIC_ROUTE], f"{private_ip}/24"))
        return port

    def attach_vpc(self, host_ns: str, link: str, public_ip: str, private_ip: str) -> Port:
        """An AWS instance: only its VPC address; the edge maps the public one 1:1 onto it."""
        plain = self._plug(host_ns, self.aws_ns, "vpc0", link, mtu=AWS_VPC_MTU)
        # Recorded with its NAT before the NAT exists, so a failure below is still cleaned up.
        port = Port(host_ns, self.aws_ns, link, (public_ip, private_ip))
        with self._lock:
            self._ports[self._ports.index(plain)] = port
        default_route = f"route add default via {AWS_GATEWAY_IP}"
        ip_batch(host_ns, _eth0_setup(f"{private_ip}/24", [default_route]))
        # Bound on the edge's internet side so it answers ARP for the address like a gateway.
        ip_batch(self.aws_ns, [f"addr add {public_ip}/32 dev eth0"])
        self._iptables_nat("-A", public_ip, private_ip)
        return port

    def detach_host(self, host_ns: str) -> None:
        """Remove a VM's link and NAT; the caller deletes its netns after its processes died."""
        with self._lock:
            ports = [p for p in self._ports if p.host_ns == host_ns]
            self._ports = [p for p in self._ports if p.host_ns != host_ns]
        for port in ports:
            self._unplug(port)

    def delete_netns(self, name: str) -> None:
        with self._lock:
            if name not in self._namespaces:
                return
            self._namespaces.remove(name)
        run(["ip", "netns", "del", name], check=False)

    def close(self) -> None:
        """Remove every link and namespace still recorded (VMs' processes must be dead)."""
        with self._lock:
            ports, self._ports = self._ports, []
            namespaces, self._namespaces = self._namespaces, []
        for port in ports:
            self._unplug(port)
        # One `ip` process for all: a lab of 24 VMs would otherwise spend ~0.2 s here.
        ip_batch(None, [f"netns del {name}" for name in reversed(namespaces)], force=True)

    def _unplug(self, port: Port) -> None:
        # Explicitly: a VM's netns can outlive `ip netns del` while anything still holds it.
        commands = [f"link del {port.link}"]
        if port.nat:
            public_ip, private_ip = port.nat
            commands.append(f"addr del {public_ip}/32 dev eth0")
            self._iptables_nat("-D", public_ip, private_ip, check=False)
        ip_batch(port.bridge_ns, commands, force=True)

    def _plug(
        self, host_ns: str, bridge_ns: str, bridge: str, link: str, *, mtu: int = 1500
    ) -> Port:
        """A veth pair: `link` on `bridge` in bridge_ns, its peer as eth0 in host_ns."""
        port = Port(host_ns, bridge_ns, link)
        try:
            ip_batch(
                bridge_ns,
                [
                    f"link add {link} mtu {mtu} type veth peer name eth0 mtu {mtu} netns {host_ns}",
                    f"link set {link} master {bridge}",
                    f"link set {link} up",
                ],
            )
        finally:
            # Recorded even on failure: the batch may have stopped after creating the pair.
            with self._lock:
                self._ports.append(port)
        return port

    def _iptables_nat(
        self, action: str, public_ip: str, private_ip: str, *, check: bool = True
    ) -> None:
        """1:1 NAT for one instance. Outbound and hairpin (instance -> another instance's public
        address) traffic leaves with the public source, as behind an AWS internet gateway."""
        rules = [
            f"{action} PREROUTING -d {public_ip}/32 -j DNAT --to-destination {private_ip}",
            f"{action} POSTROUTING -s {private_ip}/32 -o eth0 -j SNAT --to-source {public_ip}",
            f"{action} POSTROUTING -s {private_ip}/32 -o vpc0 -m conntrack --ctstate DNAT"
            f" -j SNAT --to-source {public_ip}",
        ]
        script = "*nat\n" + "".join(f"{r}\n" for r in rules) + "COMMIT\n"
        argv = ["ip", "netns", "exec", self.aws_ns, "iptables-restore", "--noflush", "-w"]
        run(argv, input=script, check=check)

    def _sysctl(self, netns: str, values: dict[str, str]) -> None:
        # /proc/sys/net is per network namespace; writing it through `ip netns exec` needs no
        # sysctl binary.
        script = "".join(f"echo {v} > /proc/sys/{k}\n" for k, v in values.items())
        run(["ip", "netns", "exec", netns, "sh", "-ec", script])


def _eth0_setup(address: str, routes: list[str], extra_address: str | None = None) -> list[str]:
    commands = ["link set lo up", f"addr add {address} dev eth0"]
    if extra_address:
        commands.append(f"addr add {extra_address} dev eth0")
    return [*commands, "link set eth0 up", *routes]
