"""Split brain on the lab: two multi-node clusters formed by hand in one state are reported with
both member lists and what to do, and mck changes nothing (merging would wipe one cluster).

Lean: four nodes on two clouds, one converge to install microk8s and form one cluster, then the
two Linode nodes are split off by hand into a cluster of their own, as a user might.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

import pytest

from mck import mesh
from tests.e2e.harness import Project, recap

pytestmark = pytest.mark.lab

DO = ["mck-k8s-do-0", "mck-k8s-do-1"]
LINODE = ["mck-k8s-linode-0", "mck-k8s-linode-1"]
MK8S = "/snap/bin/microk8s"


@pytest.fixture(scope="module")
def project(make_project: Any) -> Project:
    project: Project = make_project(digitalocean=2, linode=2)
    return project


def _members(project: Project, node: str) -> list[tuple[str, str]]:
    """(address, role) pairs the microk8s stand-in on `node` reports."""
    # check=False: a node that just left or joined restarts, and says so with exit 1 meanwhile.
    status = project.lab.host(node).run([MK8S, "status", "--format", "yaml"], check=False).stdout
    return re.findall(r"address: ([\d.]+):19001\s+role: (\w+)", status)


def _membership(project: Project) -> dict[str, list[tuple[str, str]]]:
    return {name: _members(project, name) for name in DO + LINODE}


def _sh(project: Project, node: str, *argv: str) -> str:
    done = project.lab.host(node).run(list(argv), check=False, timeout=60)
    assert done.returncode == 0, f"{node}: {argv} exited {done.returncode}: {done.stdout}"
    return done.stdout


def _eventually(check: Any, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(1)
    return bool(check())


def _split_by_hand(project: Project) -> None:
    """The Linode nodes leave the cluster, are removed from it, and form their own."""
    mesh_ips = mesh.previous_from_inventory(project.inventory())
    for node in LINODE:
        _sh(project, node, MK8S, "leave")
    leader = project.lab.host(DO[0])
    for node in LINODE:
        # The old cluster forgets a departed node once it shows NotReady there.
        removed = lambda node=node: leader.run([MK8S, "remove-node", node], check=False)  # noqa: E731
        assert _eventually(lambda removed=removed: removed().returncode == 0), removed().stdout
    token = secrets.token_hex(16)
    _sh(project, LINODE[0], MK8S, "add-node", "--token", token, "--token-ttl", "120")
    _sh(project, LINODE[1], MK8S, "join", f"{mesh_ips[LINODE[0]]}:25000/{token}")
    assert _eventually(lambda: all(len(_members(project, n)) == 2 for n in DO + LINODE)), (
        _membership(project)
    )


def test_converge_forms_one_cluster_of_four(project: Project) -> None:
    run = project.mck()
    assert run.rc == 0, run.explain()
    members = _members(project, LINODE[1])
    assert len(members) == 4, members


def test_two_clusters_by_hand_are_reported_and_left_alone(project: Project) -> None:
    _split_by_hand(project)
    before, state = _membership(project), project.state()

    run = project.mck()
    assert run.rc == 3, run.explain()
    # Both member lists, and what to do about it, on stderr.
    assert "the nodes form 2 separate clusters" in run.stderr, run.stderr
    assert f"({', '.join(DO)})" in run.stderr and f"({', '.join(LINODE)})" in run.stderr
    assert "microk8s leave" in run.stderr
    assert re.search(r"^details: \S*\.mck/logs/\S+-converge\.log$", run.stderr, re.M), run.stderr
    # Nothing changed: no join, no leave, no VM, no configuration change.
    assert "will join" not in run.stderr
    assert "==> provision: no changes" in run.stderr
    counts = recap(run.stderr)
    assert set(counts) == set(DO + LINODE), run.stderr
    assert all(c["changed"] == 0 for c in counts.values()), counts
    assert _membership(project) == before
    assert project.state()["values"] == state["values"]


def test_status_names_the_split_and_fails(project: Project) -> None:
    before = _membership(project)
    run = project.mck("status")
    assert run.rc == 3, run.explain()
    assert "the nodes form 2 separate clusters" in run.stderr, run.stderr
    assert f"({', '.join(LINODE)})" in run.stderr
    assert _membership(project) == before
