"""An AWS node (1:1 NAT: its public IP is not on the VM) in the mix now joins, over the mesh.

Without the mesh microk8s could not cluster it: the leader's agent refuses a join address that
is not bound locally, and a NAT'd joiner would advertise an address nobody can reach. Over
WireGuard both ends use their wg0 address, which is local everywhere. (That the planner still
refuses NAT nodes when the mesh is not in use is a unit test: tests/unit/test_cluster.py.)
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from mck import mesh
from tests.e2e.harness import Project

pytestmark = pytest.mark.lab


def test_nat_node_joins_the_cluster_over_the_mesh(make_project: Any) -> None:
    project: Project = make_project(digitalocean=1, aws=1)
    run = project.mck()
    assert run.rc == 0, run.explain()
    assert "orphan node mck-k8s-do-0 will join mck-k8s-aws-0 at 10.77.0.1" in run.stderr
    # The NAT'd VM really is set up like AWS: reachable, public IP not local.
    aws = project.lab.host("mck-k8s-aws-0")
    assert aws.public_ip not in aws.run(["ip", "-o", "addr"]).stdout
    ips = mesh.previous_from_inventory(project.inventory())
    status = aws.run(["/snap/bin/microk8s", "status", "--format", "yaml"]).stdout
    assert sorted(re.findall(r"address: ([\d.]+):19001", status)) == sorted(ips.values())
    assert project.mck("--destroy", "--yes").rc == 0
