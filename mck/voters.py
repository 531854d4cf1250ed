"""Where the datastore's voters land, and the join order that puts them on different clouds.
Pure: no I/O.

go-dqlite decides roles, not mck (Debian's go-dqlite 1.11.5, app/app.go and app/roles.go; the
same `Assume`/`Startup` rule upstream in canonical/go-dqlite app/roles.go):
- a node joins as a spare; while the cluster has fewer than 3 nodes the leader keeps itself the
  only voter (`Adjust`), so a cluster of two is one voter and one spare;
- a node starting in a cluster of 3 or more becomes a voter itself while fewer than 3 voters are
  online (`Assume`), and when it was the second voter it promotes one more node too
  (`maybePromoteOurselves`): the third join turns the first three nodes into the three voters;
- once 3 voters are online, later joiners become stand-bys or spares, and `Adjust` moves a voter
  only when one goes offline (then it prefers a candidate of a failure domain the remaining
  voters lack). It never moves voters just to spread failure domains (microk8s issue #4024).

So the voters are the first three members in join order, for good: mck picks that order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from mck.nodes import name_key

TARGET_VOTERS = 3  # go-dqlite's default voter count; microk8s keeps it


class Placed(Protocol):
    """Anything with a name and a cloud: a Node, or a PlannedNode before apply."""

    @property
    def name(self) -> str: ...

    @property
    def cloud(self) -> str: ...


N = TypeVar("N", bound=Placed)


def join_order(
    members: Sequence[Placed], joiners: Sequence[N], *, size: int | None = None
) -> list[N]:
    """The order in which `joiners` join a cluster of `members` (just the bootstrap node on a
    fresh cluster) so that the voters span as many clouds as they can. `size` is the cluster's
    member count when it lists members mck cannot place on a node (default: len(members)).

    While the cluster has fewer than TARGET_VOTERS members, every join fills a voter seat: each
    seat goes to the first joiner by name of a cloud no voter-to-be has yet, or, when every
    cloud is taken, to the first joiner by name. The rest follow by name.
    """
    rest = sorted(joiners, key=lambda n: name_key(n.name))
    seats = TARGET_VOTERS - (len(members) if size is None else size)
    clouds = {m.cloud for m in members}
    first: list[N] = []
    while seats > 0 and rest:
        pick = next((n for n in rest if n.cloud not in clouds), rest[0])
        rest.remove(pick)
        first.append(pick)
        clouds.add(pick.cloud)
        seats -= 1
    return first + rest


def seats_pending(roles: Sequence[str]) -> bool:
    """Whether dqlite is still filling its voter seats: a cluster with at least TARGET_VOTERS
    members (`roles`, one per member) and fewer voters. go-dqlite promotes the missing ones by
    itself (a starting member's `maybePromoteOurselves`, the leader's `Adjust`)."""
    return len(roles) >= TARGET_VOTERS and roles.count("voter") < TARGET_VOTERS


def same_cloud_voters(voters: Sequence[Placed], nodes: Sequence[Placed]) -> str | None:
    """A warning when every voter sits on one cloud while the nodes span several: losing that
    one provider then loses the control plane, and dqlite will not move the voters by itself.
    None when the voters are spread as far as the nodes allow (or there are fewer than 2)."""
    clouds = {v.cloud for v in voters}
    spanned = {n.cloud for n in nodes}
    if len(voters) < 2 or len(clouds) != 1 or len(spanned) < 2:
        return None
    (cloud,) = clouds
    names = ", ".join(sorted((v.name for v in voters), key=name_key))
    return (
        f"every datastore voter ({names}) is on {cloud} while the nodes span "
        f"{len(spanned)} clouds: losing {cloud} loses the control plane, and dqlite moves "
        "voters only when one goes offline. To spread them, take all but one of them out, "
        "one at a time (`microk8s leave` on it, `microk8s remove-node <its address>` on "
        "another member, then mck to join it again): each time dqlite promotes a node of a "
        "cloud the remaining voters lack"
    )
