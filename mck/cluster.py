"""The cluster: each node's probe (its `microk8s status`, read by mck/node_status.py), and the
pure planner that turns those facts into one leader and the joins that converge the nodes into
one cluster.

Join rules checked against canonical/microk8s-cluster-agent `pkg/api/v2/join.go`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mck import voters
from mck.node_status import LOOPBACK, Status, first_line
from mck.nodes import Node, name_key


@dataclass(frozen=True)
class Probe:
    node: Node
    reachable: bool
    status: Status | None
    error: str | None
    # The node's own address in the cluster when it is neither its public nor its private IP
    # (its WireGuard address when the mesh carries the cluster). Maps member addresses to nodes
    # and is the join address of a leader that has not clustered yet.
    cluster_ip: str | None = None


@dataclass(frozen=True)
class Join:
    node: Node
    leader: Node
    address: str  # IP literal for the join URL `<address>:25000/<token>`


@dataclass(frozen=True)
class Problem:
    node: Node | None
    reason: str  # one line, says what to do


@dataclass(frozen=True)
class ClusterPlan:
    leader: Node | None
    joins: tuple[Join, ...] = ()
    clusters: tuple[tuple[Node, ...], ...] = ()
    stale: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()


# ---- the planner ---------------------------------------------------------------------------


@dataclass
class _Cluster:
    """One multi-node cluster: the nodes that report it and every member address it lists."""

    reporters: list[Probe]
    roles: dict[str, str]  # member address -> role
    nodes: list[Node] = field(default_factory=list)


def plan(probes: list[Probe], *, nat_ok: bool) -> ClusterPlan:
    """Decide the leader and the joins from what every node reported. Pure: no I/O.

    A node is an orphan when it is ready and its member list holds only itself. With no
    multi-node cluster the first eligible orphan by name bootstraps one; with exactly one, every
    ready orphan joins its first ready voter; with two or more nothing is joined (merging would
    wipe one cluster's data). NAT nodes are never leader nor joined unless `nat_ok`. Joins come
    in `voters.join_order`, so that the first three members (dqlite's voters) span the clouds.
    """
    probes = sorted(probes, key=lambda p: name_key(p.node.name))
    owners = _address_owners(probes)
    clusters = _clusters(probes, owners)
    in_cluster = {n.name for c in clusters for n in c.nodes}
    # A lone NAT node needs no join address; with company it would need one bound locally.
    nat_blocked = not nat_ok and len(probes) > 1

    problems: list[Problem] = []
    candidates: list[Probe] = []  # ready orphans free to lead or to join
    for p in probes:
        problem = _health_problem(p)
        if problem is None and _is_orphan(p):
            if p.node.name in in_cluster:
                problem = _still_listed(p, clusters, owners)
            elif p.node.nat and nat_blocked:
                problem = _nat_problem(p.node)
            else:
                candidates.append(p)
        if problem is not None:
            problems.append(problem)

    stale: list[str] = []
    for cluster in clusters:
        found, problem = _stale(cluster, owners)
        stale += found
        problems += [problem] if problem else []

    found_clusters = tuple(tuple(c.nodes) for c in clusters)
    if len(clusters) > 1:
        problems.append(Problem(None, _split_reason(clusters)))
        return ClusterPlan(None, (), found_clusters, tuple(stale), tuple(problems))

    if clusters:
        leader = _cluster_leader(clusters[0], owners, nat_ok=nat_ok)
        if leader is None:
            problems.append(_no_leader(clusters[0]))
    else:
        leader = next((p for p in candidates if nat_ok or not p.node.nat), None)

    joins: tuple[Join, ...] = ()
    if leader is not None:
        address = _join_address(leader, owners)
        joiners = [p.node for p in candidates if p is not leader]
        # dqlite's first three members stay its voters: join so that they span the clouds.
        if clusters:
            size = len(clusters[0].roles) - len(stale)  # stale members go before the joins
            order = voters.join_order(clusters[0].nodes, joiners, size=size)
        else:
            order = voters.join_order([leader.node], joiners)
        joins = tuple(Join(node, leader.node, address) for node in order)
    return ClusterPlan(
        leader.node if leader else None, joins, found_clusters, tuple(stale), tuple(problems)
    )


@dataclass(frozen=True)
class Membership:
    """One multi-node cluster as the probes report it, for planners beside `plan`."""

    roles: dict[str, str]  # member address -> voter | standby | spare
    owners: dict[str, Node]  # member address -> its node, for the addresses mck can place
    reporters: tuple[Probe, ...]  # the probes of the nodes that list it themselves


def memberships(probes: list[Probe]) -> list[Membership]:
    """Every multi-node cluster the probes show, grouped the way `plan` groups them. Pure."""
    probes = sorted(probes, key=lambda p: name_key(p.node.name))
    owners = _address_owners(probes)
    return [
        Membership(
            dict(c.roles),
            {a: owners[a] for a in c.roles if a in owners},
            tuple(c.reporters),
        )
        for c in _clusters(probes, owners)
    ]


def _address_owners(probes: list[Probe]) -> dict[str, Node]:
    """Which node each known address belongs to. Public and cluster addresses are unique;
    private ones can repeat across clouds, so a repeated private address maps to no one."""
    owners: dict[str, Node] = {}
    for p in probes:
        for ip in (p.cluster_ip, p.node.public_ip):
            if ip and ip != LOOPBACK:
                owners.setdefault(ip, p.node)
    private: dict[str, list[Node]] = {}
    for p in probes:
        if p.node.private_ip and p.node.private_ip not in owners:
            private.setdefault(p.node.private_ip, []).append(p.node)
    owners.update({ip: nodes[0] for ip, nodes in private.items() if len(nodes) == 1})
    return owners


def _clusters(probes: list[Probe], owners: dict[str, Node]) -> list[_Cluster]:
    """Group the nodes that list two or more members: lists sharing an address are one cluster."""
    clusters: list[_Cluster] = []
    for p in probes:
        if p.status is None or len(p.status.members) < 2:
            continue
        roles = {m.address: m.role for m in p.status.members if m.address != LOOPBACK}
        merged = _Cluster([p], roles)
        for other in [c for c in clusters if c.roles.keys() & roles.keys()]:
            clusters.remove(other)
            merged = _Cluster(other.reporters + merged.reporters, {**other.roles, **merged.roles})
        clusters.append(merged)
    for c in clusters:
        nodes = {p.node.name: p.node for p in c.reporters}
        nodes.update({owners[a].name: owners[a] for a in c.roles if a in owners})
        c.nodes = sorted(nodes.values(), key=lambda n: name_key(n.name))
    return sorted(clusters, key=lambda c: name_key(c.nodes[0].name))


def _stale(cluster: _Cluster, owners: dict[str, Node]) -> tuple[list[str], Problem | None]:
    """Member addresses that belong to no node. Certain only when every node reporting the
    cluster was found in its list: otherwise an unmatched address may be a live node's own."""
    unmatched = sorted(a for a in cluster.roles if a not in owners)
    placed = {owners[a].name for a in cluster.roles if a in owners}
    unplaced = [p for p in cluster.reporters if p.node.name not in placed]
    if not unplaced:
        return unmatched, None
    if len(unmatched) <= len(unplaced):
        return [], None  # every unmatched address can be an unplaced reporter's own
    names = ", ".join(n.name for n in cluster.nodes)
    return [], Problem(
        None,
        f"the cluster of {names} lists addresses mck cannot match to a node "
        f"({', '.join(unmatched)}): some are stale, but mck cannot tell which; remove those "
        "with `microk8s remove-node <ip>` on a member",
    )


def _health_problem(p: Probe) -> Problem | None:
    name = p.node.name
    if not p.reachable or p.status is None:
        return Problem(p.node, f"{name} is unreachable: {first_line(p.error or '') or 'no answer'}")
    state, message = p.status.state, p.status.message
    if state == "not_ready":
        return Problem(
            p.node,
            f"{name}: microk8s is not ready ({message}): check it with "
            f"`microk8s inspect` on {name}",
        )
    if state == "stopped":
        return Problem(p.node, f"{name}: microk8s is stopped: run `microk8s start` on it")
    if state == "not_installed":
        return Problem(p.node, f"{name}: microk8s is not installed: re-run mck to install it")
    if state == "unknown":
        return Problem(p.node, f"{name}: cannot read microk8s status: {message}")
    if state == "ready" and not p.status.members:
        return Problem(
            p.node,
            f"{name}: microk8s lists no datastore members (high availability "
            "off?): run `microk8s enable ha-cluster` on it",
        )
    return None


def _is_orphan(p: Probe) -> bool:
    return (
        p.reachable
        and p.status is not None
        and p.status.state == "ready"
        and (len(p.status.members) == 1)
    )


def _still_listed(p: Probe, clusters: list[_Cluster], owners: dict[str, Node]) -> Problem:
    # The cluster agent refuses a join from an address dqlite already knows (join.go).
    cluster = next(c for c in clusters if p.node in c.nodes)
    address = next(a for a in sorted(cluster.roles) if owners.get(a) == p.node)
    member = cluster.reporters[0].node.name
    return Problem(
        p.node,
        f"{p.node.name} reports no cluster but the cluster of {member} still lists it at "
        f"{address}: run `microk8s remove-node {address} --force` on {member}, then re-run mck",
    )


def _nat_problem(node: Node) -> Problem:
    return Problem(
        node,
        f"{node.name} is behind 1:1 NAT: its public IP {node.public_ip} is not on the VM, "
        "and microk8s needs the join address bound locally",
    )


def _split_reason(clusters: list[_Cluster]) -> str:
    groups = "; ".join(f"({', '.join(n.name for n in c.nodes)})" for c in clusters)
    return (
        f"the nodes form {len(clusters)} separate clusters {groups}; mck will not merge them "
        "automatically: that would wipe one cluster's data. Run `microk8s leave` on the nodes "
        "of the cluster to give up, then re-run mck"
    )


def _no_leader(cluster: _Cluster) -> Problem:
    names = ", ".join(n.name for n in cluster.nodes)
    return Problem(
        None,
        f"the cluster of {names} has no reachable, ready voter to join new nodes through: "
        "fix the nodes reported above, then re-run mck",
    )


def _cluster_leader(cluster: _Cluster, owners: dict[str, Node], *, nat_ok: bool) -> Probe | None:
    """The first ready voter by name among the nodes that report the cluster themselves."""
    for p in sorted(cluster.reporters, key=lambda p: name_key(p.node.name)):
        if p.status is None or p.status.state != "ready" or (p.node.nat and not nat_ok):
            continue
        own = [a for a in cluster.roles if owners.get(a) == p.node]
        if any(cluster.roles[a] == "voter" for a in own):
            return p
    return None


def _join_address(leader: Probe, owners: dict[str, Node]) -> str:
    """The leader's own member address; before it has clustered (127.0.0.1) the address it
    should cluster on, which the cluster agent then moves its datastore to."""
    assert leader.status is not None
    own = [m.address for m in leader.status.members if owners.get(m.address) == leader.node]
    return own[0] if own else (leader.cluster_ip or leader.node.public_ip)
