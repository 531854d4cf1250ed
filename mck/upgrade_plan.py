"""Planning `mck upgrade`: whether the cluster may be upgraded to the pinned channel now, and in
which order its nodes go. Pure: no I/O.

Facts this relies on:
- Upstream upgrades one Kubernetes minor at a time: "Make sure that you update by one minor
  version at a time" (MicroK8s, "Upgrading a MicroK8s cluster",
  https://discuss.kubernetes.io/t/upgrading-a-microk8s-cluster/18239), and the Kubernetes
  version skew policy (https://kubernetes.io/releases/version-skew-policy/): in an HA control
  plane the newest and oldest kube-apiserver are at most one minor apart, so every node must
  reach minor N before any goes to N+1. microk8s itself checks no version on join (cluster
  agent pkg/api/v2/join.go, scripts/wrappers/join.py): mck is where the jump is refused.
- A node's snap tracks a channel `<minor>/<risk>`; `snap refresh microk8s --channel=<pinned>`
  moves it there (the refresh hold stays; a specific refresh proceeds, snapd
  cmd/snap/cmd_snap_op.go).
- Order: nodes that hold no vote first (their restart costs the datastore nothing), then the
  voters, the dqlite leader last so leadership moves once, at the end.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from mck import cluster, versions
from mck.nodes import Node, name_key

_VERSION = re.compile(r"^v?(\d+)\.(\d+)")
_TRACK = re.compile(r"^(\d+)\.(\d+)(?:/|$)")


@dataclass(frozen=True)
class UpgradePlan:
    target: str  # the pinned channel
    steps: tuple[Node, ...] = ()  # the nodes to refresh, in order
    current: tuple[str, ...] = ()  # nodes already on the target channel (skipped)
    refusal: str | None = None  # one line: why not now, and what to do


def minor_of_version(version: str) -> tuple[int, int] | None:
    found = _VERSION.match(version)
    return (int(found[1]), int(found[2])) if found else None


def minor_of_channel(channel: str) -> tuple[int, int] | None:
    found = _TRACK.match(channel)
    return (int(found[1]), int(found[2])) if found else None


def _shown(minor: tuple[int, int]) -> str:
    return f"{minor[0]}.{minor[1]}"


def plan_upgrade(
    probes: list[cluster.Probe],
    snaps: Mapping[str, versions.Snap],
    pinned: str,
    *,
    leader_ip: str | None,
    problems: tuple[str, ...] = (),
) -> UpgradePlan:
    """The order to refresh the nodes to `pinned` in, or why the cluster cannot be upgraded
    now. `leader_ip`: the dqlite leader's address (None: not known, voters go by name)."""
    target = minor_of_channel(pinned)
    if target is None:
        return UpgradePlan(pinned, refusal=_unversioned(pinned))
    refusal = _health_refusal(probes, snaps, problems)
    if refusal:
        return UpgradePlan(pinned, refusal=refusal)
    minors = {name: minor_of_version(s.version) for name, s in snaps.items()}
    unknown = sorted((n for n, m in minors.items() if m is None), key=name_key)
    if unknown:
        return UpgradePlan(
            pinned,
            refusal=f"cannot tell which Kubernetes minor {', '.join(unknown)} runs "
            f"(`snap list microk8s` shows {snaps[unknown[0]].version}); fix that node first",
        )
    known = {n: m for n, m in minors.items() if m is not None}
    ahead = sorted((n for n, m in known.items() if m > target), key=name_key)
    if ahead:
        return UpgradePlan(
            pinned,
            refusal=f"refusing to upgrade to {pinned}: {', '.join(ahead)} already "
            f"run{'s' if len(ahead) == 1 else ''} a newer Kubernetes "
            f"({snaps[ahead[0]].version}), and microk8s is not downgraded by a refresh; pin "
            f"{_shown(known[ahead[0]])}/stable (or newer) in roles/microk8s/defaults/main.yml",
        )
    lowest = min(known.values())
    if target[0] != lowest[0] or target[1] > lowest[1] + 1:
        return UpgradePlan(pinned, refusal=_jump_refusal(pinned, target, lowest, known))
    current = tuple(
        sorted(
            (n for n, s in snaps.items() if s.channel == pinned and known[n] == target),
            key=name_key,
        )
    )
    todo = [p for p in probes if p.node.name not in current]
    return UpgradePlan(pinned, tuple(_ordered(probes, todo, leader_ip)), current)


def _unversioned(pinned: str) -> str:
    return (
        f"the pinned channel {pinned} names no Kubernetes minor (e.g. 1.36/stable): mck "
        "upgrades one minor at a time; set microk8s_channel in roles/microk8s/defaults/main.yml"
    )


def _health_refusal(
    probes: list[cluster.Probe], snaps: Mapping[str, versions.Snap], problems: tuple[str, ...]
) -> str | None:
    """Before the first node: every node reachable and ready, one healthy cluster."""
    for p in sorted(probes, key=lambda p: name_key(p.node.name)):
        if not p.reachable:
            return f"refusing to upgrade: {p.node.name} does not answer ({p.error}); fix it first"
        if p.status is None or p.status.state not in ("ready", "worker"):
            state = p.status.state.replace("_", " ") if p.status else "unknown"
            return f"refusing to upgrade: {p.node.name} is {state}; fix it first (see `mck status`)"
        if p.node.name not in snaps:
            return f"refusing to upgrade: {p.node.name} has no microk8s snap; run mck first"
    if problems:
        return f"refusing to upgrade: {problems[0]}"
    clusters = cluster.memberships(probes)
    if len(clusters) != 1 or len(clusters[0].owners) != len(
        [p for p in probes if p.status and p.status.state == "ready"]
    ):
        return "refusing to upgrade: the nodes are not one cluster yet; run mck first"
    roles = clusters[0].roles
    voters = [a for a, role in roles.items() if role == "voter"]
    if len(voters) < min(3, len(roles)):
        return (
            f"refusing to upgrade: the cluster has {len(voters)} voter(s) for {len(roles)} "
            "members; wait until dqlite has promoted its voters (see `mck status`)"
        )
    return None


def _jump_refusal(
    pinned: str,
    target: tuple[int, int],
    lowest: tuple[int, int],
    known: Mapping[str, tuple[int, int]],
) -> str:
    oldest = sorted((n for n, m in known.items() if m == lowest), key=name_key)
    risk = pinned.split("/", 1)[1] if "/" in pinned else "stable"
    if target[0] != lowest[0]:
        sequence = pinned
    else:
        sequence = ", ".join(f"{target[0]}.{m}/{risk}" for m in range(lowest[1] + 1, target[1] + 1))
    return (
        f"refusing to upgrade to {pinned}: {', '.join(oldest)} "
        f"run{'s' if len(oldest) == 1 else ''} {_shown(lowest)}, and microk8s upgrades one "
        f"Kubernetes minor at a time; pin each of {sequence} in turn in "
        "roles/microk8s/defaults/main.yml and run `mck upgrade` after each"
    )


def _ordered(
    probes: list[cluster.Probe], todo: list[cluster.Probe], leader_ip: str | None
) -> list[Node]:
    """Non-voters first, then voters, the dqlite leader last; by name within each."""
    roles: dict[str, str] = {}
    leader_name = None
    for membership in cluster.memberships(probes):
        for address, owner in membership.owners.items():
            roles[owner.name] = membership.roles[address]
            if address == leader_ip:
                leader_name = owner.name
    return [
        p.node
        for p in sorted(
            todo,
            key=lambda p: (
                roles.get(p.node.name) == "voter",
                p.node.name == leader_name,
                name_key(p.node.name),
            ),
        )
    ]
