from __future__ import annotations

import pytest

from mck.encryption import check
from mck.errors import UsageError
from mck.nodes import PlannedNode

DO = PlannedNode("mck-k8s-do-0", "digitalocean", False)
DO1 = PlannedNode("mck-k8s-do-1", "digitalocean", False)
LINODE = PlannedNode("mck-k8s-linode-0", "linode", False)
AWS = PlannedNode("mck-k8s-aws-0", "aws", True)


@pytest.mark.parametrize(
    ("mode", "nodes"),
    [
        ("mesh", [DO, LINODE, AWS]),
        ("calico-wireguard", [DO, LINODE]),
        ("none", [DO, DO1]),
        ("none", [AWS]),
        ("none", []),
    ],
)
def test_allowed(mode: str, nodes: list[PlannedNode]) -> None:
    check(mode, nodes)


@pytest.mark.parametrize(
    ("mode", "nodes", "message"),
    [
        ("wireguard", [DO], "encryption 'wireguard' is unknown: choose one of mesh, "),
        ("calico-wireguard", [DO, AWS], "cannot reach mck-k8s-aws-0 behind 1:1 NAT"),
        ("none", [DO, LINODE], "in clear between digitalocean and linode"),
    ],
)
def test_refused_with_the_reason(mode: str, nodes: list[PlannedNode], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        check(mode, nodes)
    assert message in caught.value.message
    assert "\n" not in caught.value.message


def test_switching_a_running_cluster_is_refused() -> None:
    with pytest.raises(UsageError, match="built with encryption 'mesh', not 'none'"):
        check("none", [DO, DO1], previous="mesh")
    check("mesh", [DO], previous="mesh")
    check("none", [], previous="mesh")  # nothing left to break
