"""dqlite role management, as go-dqlite's app does it (app/roles.go, RolesChanges).

Targets: 3 voters and 3 stand-bys, the rest spares. A node joins as spare; once the cluster
has at least 3 nodes it assumes voter (if fewer than 3 voters are online) or stand-by
(`Assume`). The leader then repeatedly applies `Adjust`: below 3 nodes every voter but the
leader is demoted to spare (a 2-node cluster is 1 voter + 1 spare); otherwise online stand-bys
or spares are promoted while fewer than 3 voters are online, offline voters and stand-bys are
demoted to spare, surplus voters and stand-bys demoted. All nodes share one failure domain and
weight here, so candidates are taken in membership order. go-dqlite adjusts every 30 s; the
stand-in settles at once.
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


def adjust(members: list[Member], leader: str, online: set[str]) -> tuple[Member, int] | None:
    """One role change the leader would make now (RolesChanges.Adjust), or None."""
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
    if (
        not off_voters
        and len(on_voters) == TARGET_VOTERS
        and not off_standbys
        and len(on_standbys) == TARGET_STANDBYS
    ):
        return None
    if len(on_voters) < TARGET_VOTERS:
        candidates = on_standbys + _pick(members, SPARE, online, True)
        return (candidates[0], VOTER) if candidates else None
    if len(on_voters) > TARGET_VOTERS:
        surplus = [m for m in on_voters if m["address"] != leader]
        return (surplus[-1], SPARE) if surplus else None
    if off_voters:
        return off_voters[0], SPARE
    if len(on_standbys) < TARGET_STANDBYS:
        spares = _pick(members, SPARE, online, True)
        return (spares[0], STANDBY) if spares else None
    if len(on_standbys) > TARGET_STANDBYS:
        surplus = [m for m in on_standbys if m["address"] != leader]
        return (surplus[-1], SPARE) if surplus else None
    if off_standbys:
        return off_standbys[0], SPARE
    return None


def settle(members: list[Member], leader: str, online: set[str]) -> bool:
    """Apply adjust() until nothing changes; True when any role changed."""
    changed = False
    for _ in range(4 * len(members) + 4):
        step = adjust(members, leader, online)
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
