"""dqlite role management, as go-dqlite's app does it (app/roles.go, RolesChanges).

Targets: 3 voters and 3 stand-bys, the rest spares. A node joins as spare; once the cluster
has at least 3 nodes it assumes voter (if fewer than 3 voters are online) or stand-by
(`Assume`). The leader then repeatedly applies `Adjust`: below 3 nodes every voter but the
leader is demoted to spare (a 2-node cluster is 1 voter + 1 spare); otherwise online stand-bys
or spares are promoted while fewer than 3 voters are online, offline voters and stand-bys are
demoted to spare, surplus voters and stand-bys demoted. Failure domains (each online node's
metadata, from args/ha-conf) steer it: while some online node's domain has no voter and a
domain has several, a node of a voterless domain is promoted and a surplus voter is demoted
from the domain with the most voters; promotions prefer domains that lack the role. All
weights are equal, so go-dqlite's order among equals is its map order (random, so it may take
several rounds); the stand-in takes membership order and, when demoting among domains with
equally many candidates, the domain with the most voters counting the leader, so it settles
in one pass. go-dqlite adjusts every 30 s; the stand-in settles at once.
"""

from __future__ import annotations

from typing import Any

VOTER, STANDBY, SPARE = 0, 1, 2
NAMES = {VOTER: "voter", STANDBY: "standby", SPARE: "spare"}
TARGET_VOTERS = 3
TARGET_STANDBYS = 3
MIN_VOTERS = 3

Member = dict[str, Any]  # {"address": "ip:19001", "id": int, "role": 0|1|2}


def _pick(members: list[Member], role: int, online: set[str], want_online: bool) -> list[Member]:
    return [m for m in members if m["role"] == role and (m["address"] in online) == want_online]


def assume(members: list[Member], address: str, online: set[str]) -> None:
    """The role a freshly joined spare takes for itself (RolesChanges.Assume), in place."""
    if len(members) < MIN_VOTERS:
        return
    node = next((m for m in members if m["address"] == address), None)
    if node is None or node["role"] in (VOTER, STANDBY):
        return
    voters = _pick(members, VOTER, online, True)
    standbys = _pick(members, STANDBY, online, True)
    if len(voters) >= TARGET_VOTERS and len(standbys) >= TARGET_STANDBYS:
        return
    node["role"] = VOTER if len(voters) < TARGET_VOTERS else STANDBY


def _prefer_other_domains(
    candidates: list[Member], taken: set[int], domains: dict[str, int]
) -> list[Member]:
    """sortCandidates: nodes outside the `taken` domains first (a stable sort)."""
    return sorted(candidates, key=lambda m: domains.get(m["address"], 0) in taken)


def _demotion_order(voters: list[Member], leader: str, domains: dict[str, int]) -> list[Member]:
    """sortVoterCandidatesToDemote: from the domain with the most candidates first."""
    groups: dict[int, list[Member]] = {}
    for m in voters:
        if m["address"] != leader:
            groups.setdefault(domains.get(m["address"], 0), []).append(m)
    with_leader = {d: sum(domains.get(m["address"], 0) == d for m in voters) for d in groups}
    order = sorted(groups, key=lambda d: (-len(groups[d]), -with_leader[d]))
    return [m for d in order for m in reversed(groups[d])]


def adjust(
    members: list[Member],
    leader: str,
    online: set[str],
    domains: dict[str, int] | None = None,
) -> tuple[Member, int] | None:
    """One role change the leader would make now (RolesChanges.Adjust), or None.

    `domains`: failure domain per online member address (missing: 0, go-dqlite's default)."""
    domains = domains or {}
    if len(members) == 1:
        return None
    if len(members) < MIN_VOTERS:
        for m in members:
            if m["address"] != leader and m["role"] == VOTER:
                return m, SPARE
        return None
    on_voters = _pick(members, VOTER, online, True)
    on_standbys = _pick(members, STANDBY, online, True)
    off_voters = _pick(members, VOTER, online, False)
    off_standbys = _pick(members, STANDBY, online, False)
    voter_domains = {domains.get(m["address"], 0) for m in on_voters}
    all_domains = {domains.get(m["address"], 0) for m in members if m["address"] in online}
    if len(voter_domains) < len(all_domains) and len(voter_domains) < len(on_voters):
        missing = all_domains - voter_domains
        candidates = [
            m
            for m in on_standbys + _pick(members, SPARE, online, True)
            if domains.get(m["address"], 0) in missing
        ]
        if candidates:
            return candidates[0], VOTER
    if (
        not off_voters
        and len(on_voters) == TARGET_VOTERS
        and not off_standbys
        and len(on_standbys) == TARGET_STANDBYS
    ):
        return None
    if len(on_voters) < TARGET_VOTERS:
        candidates = on_standbys + _pick(members, SPARE, online, True)
        candidates = _prefer_other_domains(candidates, voter_domains, domains)
        return (candidates[0], VOTER) if candidates else None
    if len(on_voters) > TARGET_VOTERS:
        surplus = _demotion_order(on_voters, leader, domains)
        return (surplus[0], SPARE) if surplus else None
    if off_voters:
        return off_voters[0], SPARE
    if len(on_standbys) < TARGET_STANDBYS:
        spares = _pick(members, SPARE, online, True)
        standby_domains = {domains.get(m["address"], 0) for m in on_standbys}
        spares = _prefer_other_domains(spares, standby_domains, domains)
        return (spares[0], STANDBY) if spares else None
    if len(on_standbys) > TARGET_STANDBYS:
        surplus = [m for m in on_standbys if m["address"] != leader]
        return (surplus[-1], SPARE) if surplus else None
    if off_standbys:
        return off_standbys[0], SPARE
    return None


def settle(
    members: list[Member],
    leader: str,
    online: set[str],
    domains: dict[str, int] | None = None,
) -> bool:
    """Apply adjust() until nothing changes; True when any role changed."""
    changed = False
    for _ in range(4 * len(members) + 4):
        step = adjust(members, leader, online, domains)
        if step is None:
            break
        node, role = step
        node["role"] = role
        changed = True
    return changed


def has_quorum(members: list[Member], online: set[str]) -> bool:
    """Raft needs a majority of voters to commit anything, membership changes included."""
    voters = [m for m in members if m["role"] == VOTER]
    return bool(voters) and 2 * sum(m["address"] in online for m in voters) > len(voters)
