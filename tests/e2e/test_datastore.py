"""The datastore on the strict lab (issue 11): where the voters land, and a dead leader.

Real go-dqlite decides the roles: the first three members stay the voters for good, so mck's
join order is what puts them on three clouds. Two lean projects: five nodes whose first three
by name are on one cloud (AWS), and three nodes, one per cloud, whose dqlite leader dies.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from mck import mesh
from tests.e2e.harness import Project

pytestmark = pytest.mark.lab

MICROK8S = "/snap/bin/microk8s"
BACKEND = "/var/snap/microk8s/current/var/kubernetes/backend"
ROLES = {0: "voter", 1: "standby", 2: "spare"}
TRIO_NAME = {"cluster_name": '"trio"'}


def _dqlite(project: Project, node: str, command: str) -> str:
    """The real dqlite shell on the VM, as microk8s' own wrappers call it."""
    argv = [
        "dqlite", "-s", f"file://{BACKEND}/cluster.yaml", "-c", f"{BACKEND}/cluster.crt",
        "-k", f"{BACKEND}/cluster.key", "-f", "json", "k8s", command,
    ]  # fmt: skip
    return project.lab.host(node).run(argv, timeout=60).stdout.strip()


def _roles(project: Project, node: str) -> dict[str, str]:
    """Mesh address -> role, read from the node's real dqlite."""
    members = json.loads(_dqlite(project, node, ".cluster"))
    return {m["Address"].removesuffix(":19001"): ROLES[m["Role"]] for m in members}


def _status(project: Project) -> tuple[int, dict[str, Any]]:
    run = project.mck("status", "--json")
    report: dict[str, Any] = json.loads(run.stdout)
    return run.rc, report


@pytest.fixture(scope="module")
def spread(make_project: Any) -> Project:
    project: Project = make_project(aws=3, digitalocean=1, linode=1)
    run = project.mck()
    assert run.rc == 0, run.explain()
    return project


def test_the_voters_span_three_clouds_though_the_first_three_names_share_one(
    spread: Project,
) -> None:
    addresses = mesh.previous_from_inventory(spread.inventory())
    owner = {ip: name for name, ip in addresses.items()}
    for node in ("mck-k8s-aws-0", "mck-k8s-do-0"):  # two members read the same dqlite
        roles = _roles(spread, node)
        voters = sorted(owner[a] for a, role in roles.items() if role == "voter")
        assert voters == ["mck-k8s-aws-0", "mck-k8s-do-0", "mck-k8s-linode-0"], roles
    rc, report = _status(spread)
    assert rc == 0, report
    assert sorted(v["cloud"] for v in report["voters"]) == ["aws", "digitalocean", "linode"]
    assert report["warnings"] == [], report


@pytest.fixture(scope="module")
def trio(make_project: Any) -> Project:
    project: Project = make_project(aws=1, digitalocean=1, linode=1)
    # A second cluster in the same lab accounts needs its own name, as in a real account: AWS
    # refuses a second security group or key pair named "mck-k8s".
    project.set_counts(TRIO_NAME, aws=1, digitalocean=1, linode=1)
    run = project.mck()
    assert run.rc == 0, run.explain()
    return project


def test_a_dead_leader_leaves_quorum_with_the_others_and_goes_with_its_count(
    trio: Project,
) -> None:
    addresses = mesh.previous_from_inventory(trio.inventory())
    owner = {ip: name for name, ip in addresses.items()}
    leader = owner[_leader(trio, "trio-do-0")]
    cloud = {"trio-aws-0": "aws", "trio-do-0": "digitalocean", "trio-linode-0": "linode"}
    trio.lab.kill_host(trio.lab.host(leader).id)

    rc, report = _status(trio)
    assert rc == 3, report
    assert any(f"{leader} is unreachable" in p for p in report["problems"]), report
    survivors = sorted(set(cloud) - {leader})

    def elected() -> bool:  # quorum held: both survivors name one of them as the new leader
        leaders = {owner.get(_leader(trio, node)) for node in survivors}
        return len(leaders) == 1 and leaders <= set(survivors)

    assert _eventually(elected, 120), {n: _leader(trio, n) for n in survivors}

    counts = {c: 1 for c in cloud.values()}
    counts[cloud[leader]] = 0
    trio.set_counts(TRIO_NAME, **counts)
    run = trio.mck()
    assert run.rc == 0, run.explain()
    rc, report = _status(trio)
    assert rc == 0 and report["healthy"], report
    assert sorted(n["name"] for n in report["nodes"]) == survivors


def _eventually(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(2)
    return check()


def _leader(project: Project, node: str) -> str:
    """The dqlite leader's mesh address, as the node's real dqlite reports it."""
    return _dqlite(project, node, ".leader").removesuffix(":19001")
