"""An AWS node (1:1 NAT: its public IP is not on the VM) in the mix.

Until the WireGuard mesh exists, microk8s cannot cluster such a node: the leader's agent refuses
a join address that is not bound locally, and a NAT'd joiner would advertise an address nobody
can reach. mck must say so, naming the node and the cause, and never hang or claim success.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.harness import Project

pytestmark = pytest.mark.lab


def test_nat_node_fails_with_one_clear_message(make_project: Any) -> None:
    project: Project = make_project(digitalocean=1, aws=1)
    run = project.mck()
    assert run.rc == 3, run.explain()
    assert "mck-k8s-aws-0 is behind 1:1 NAT" in run.stderr, run.stderr
    assert "error: the cluster is not converged" in run.stderr
    # The NAT'd VM really is set up like AWS: reachable, public IP not local.
    aws = project.lab.host("mck-k8s-aws-0")
    assert aws.public_ip not in aws.run(["ip", "-o", "addr"]).stdout
    assert project.mck("--destroy", "--yes").rc == 0
