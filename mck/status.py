"""The per-node view of a cluster, built from one probe: the converge summary table and
`mck status` (as a table, or as JSON on stdout). Pure: no I/O here.

The JSON form is documented by its JSON Schema, mck/status.schema.json (shipped with the
package; tests/unit/test_status_schema.py keeps the two in step). Bump SCHEMA on any change
to the document's shape; a new version keeps every older field with its meaning, so a reader
of an older version that ignores unknown fields keeps working.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from mck import cluster, versions, voters
from mck.nodes import Node
from mck.report import table

# 2: adds `voters` (each voter's name and cloud) and `warnings`; every field of 1 is unchanged.
SCHEMA = 2


@dataclass(frozen=True)
class NodeStatus:
    name: str
    cloud: str
    public_ip: str
    private_ip: str | None
    mesh_ip: str | None
    nat: bool
    reachable: bool
    role: str | None  # voter | standby | spare | worker | single | unknown; None if not known
    ready: bool
    state: str  # the probe's: ready, not_ready, stopped, worker, not_installed, unreachable…
    message: str | None
    version: str | None = None  # the microk8s snap's version (Kubernetes'), when read
    channel: str | None = None  # the snap channel it tracks, when read


@dataclass(frozen=True)
class Report:
    cluster: str
    encryption: str
    nodes: tuple[NodeStatus, ...]
    problems: tuple[str, ...]
    # Risks a converge cannot fix (voters sharing one cloud): shown, but the cluster is healthy.
    warnings: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()  # not problems: e.g. a node on an older channel than pinned

    @property
    def healthy(self) -> bool:
        return not self.problems and all(n.ready for n in self.nodes)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "cluster": self.cluster,
            "encryption": self.encryption,
            "healthy": self.healthy,
            "problems": list(self.problems),
            "warnings": list(self.warnings),
            "voters": [{"name": n.name, "cloud": n.cloud} for n in voters_of(self.nodes)],
            "notices": list(self.notices),
            "nodes": [asdict(n) for n in self.nodes],
        }


def node_statuses(
    nodes: list[Node],
    probes: list[cluster.Probe],
    mesh_ips: Mapping[str, str],
    snaps: Mapping[str, versions.Snap] | None = None,
) -> tuple[NodeStatus, ...]:
    by_name = {p.node.name: p for p in probes}
    snaps = snaps or {}
    return tuple(
        _status(n, by_name.get(n.name), mesh_ips.get(n.name), snaps.get(n.name)) for n in nodes
    )


def problems(plan: cluster.ClusterPlan) -> tuple[str, ...]:
    """What keeps the cluster from being converged: the planner's problems, orphans that a
    converge would join and stale members it would remove (a status that finds them is not
    healthy yet)."""
    waiting = tuple(
        f"{j.node.name} is not in the cluster yet: run mck to join it to {j.leader.name}"
        for j in plan.joins
    )
    stale = tuple(
        f"the cluster lists {address}, which belongs to no node in the state (stale): run mck "
        "to remove it"
        for address in plan.stale
    )
    return tuple(p.reason for p in plan.problems) + waiting + stale


def voters_of(statuses: tuple[NodeStatus, ...]) -> tuple[NodeStatus, ...]:
    """The nodes that hold a datastore vote, as their own probe reports it."""
    return tuple(s for s in statuses if s.role == "voter")


def warnings_for(statuses: tuple[NodeStatus, ...]) -> tuple[str, ...]:
    """What is worth knowing but not a problem: every voter on one cloud while the nodes span
    several (a converge cannot change that: dqlite keeps its voters, see mck/voters.py)."""
    warning = voters.same_cloud_voters(voters_of(statuses), statuses)
    return (warning,) if warning else ()


def voters_line(statuses: tuple[NodeStatus, ...]) -> str:
    """`voters: a (digitalocean), b (linode), c (aws)`: which clouds hold the control plane."""
    found = voters_of(statuses)
    listed = ", ".join(f"{s.name} ({s.cloud})" for s in found) or "none found"
    return f"voters: {listed}"


def render_table(statuses: tuple[NodeStatus, ...]) -> str:
    rows = [
        [
            s.name,
            s.cloud,
            s.public_ip + (" (NAT)" if s.nat else ""),
            s.mesh_ip or "-",
            s.role or "-",
            "yes" if s.ready else ("unreachable" if not s.reachable else s.state.replace("_", " ")),
            s.version or "-",
        ]
        for s in statuses
    ]
    return table(["NODE", "CLOUD", "ADDRESS", "MESH", "ROLE", "READY", "VERSION"], rows)


def _status(
    node: Node, p: cluster.Probe | None, mesh_ip: str | None, snap: versions.Snap | None
) -> NodeStatus:
    reachable = p is not None and p.reachable and p.status is not None
    state = p.status.state if reachable and p and p.status else "unreachable"
    message = (p.status.message if p and p.status else None) or (p.error if p else None)
    return NodeStatus(
        name=node.name,
        cloud=node.cloud,
        public_ip=node.public_ip,
        private_ip=node.private_ip,
        mesh_ip=mesh_ip,
        nat=node.nat,
        reachable=reachable,
        role=_role(node, p),
        ready=state in ("ready", "worker"),
        state=state,
        message=message,
        version=snap.version if snap else None,
        channel=snap.channel if snap else None,
    )


def _role(node: Node, p: cluster.Probe | None) -> str | None:
    if p is None or p.status is None:
        return None
    if p.status.state == "worker":
        return "worker"
    addresses = {node.public_ip, node.private_ip, p.cluster_ip}
    for member in p.status.members:
        if member.address in addresses:
            return member.role
    if len(p.status.members) <= 1:
        return "single" if p.status.state == "ready" else None
    return "unknown"
