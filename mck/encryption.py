"""How traffic between nodes is encrypted, and which choices a given set of nodes allows.

- `mesh` (default): a WireGuard full mesh under the cluster; works across clouds and through
  1:1 NAT (every node's mesh address is bound locally, so microk8s can cluster on it).
- `calico-wireguard`: Calico's own WireGuard between pods. Calico uses each node's own address as
  the peer endpoint, which behind 1:1 NAT is the unreachable private IP (projectcalico/calico
  #5344), so it is refused when any node is behind NAT.
- `none`: no encryption; only for clusters that stay on one provider's network.

The choice is checked against the plan, before anything is created or changed.
"""

from __future__ import annotations

from collections.abc import Sequence

from mck.errors import UsageError
from mck.nodes import PlannedNode

MODES = ("mesh", "calico-wireguard", "none")
DEFAULT = "mesh"


def check(mode: str, nodes: Sequence[PlannedNode], *, previous: str | None = None) -> None:
    """Raise a one-line UsageError when `mode` cannot work for `nodes`."""
    if mode not in MODES:
        raise UsageError(f"encryption {mode!r} is unknown: choose one of {', '.join(MODES)}")
    if previous and previous != mode and nodes:
        raise UsageError(
            f"this cluster was built with encryption {previous!r}, not {mode!r}: nodes pin their "
            f"cluster addresses when they join, so set encryption back to {previous!r} "
            "(or destroy and recreate the cluster)"
        )
    natted = [n.name for n in nodes if n.nat]
    if mode == "calico-wireguard" and natted:
        raise UsageError(
            f"encryption calico-wireguard cannot reach {', '.join(natted)} behind 1:1 NAT "
            "(Calico's WireGuard peers on the private IP, calico #5344): "
            "use encryption mesh, or remove those nodes"
        )
    clouds = sorted({n.cloud for n in nodes})
    if mode == "none" and len(clouds) > 1:
        raise UsageError(
            f"encryption none would send cluster traffic in clear between {' and '.join(clouds)}: "
            "use encryption mesh, or keep every node on one provider"
        )
