"""Encryption `calico-wireguard`: mck turns on Calico's own WireGuard once the cluster has formed,
and refuses the mode, before anything changes, as soon as a node would sit behind 1:1 NAT.

One project of two DigitalOcean nodes serves every step, in file order.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.e2e.harness import Project, recap

pytestmark = pytest.mark.lab

NAMES = ["mck-k8s-do-0", "mck-k8s-do-1"]
FLAG = ("--encryption", "calico-wireguard")


@pytest.fixture(scope="module")
def project(make_project: Any) -> Project:
    # linode's count defaults to 1 in the shipped HCL: say 0, so the cluster is exactly NAMES.
    made: Project = make_project(digitalocean=2, linode=0)
    return made


def _felix(project: Project, name: str) -> dict[str, Any]:
    host = project.lab.host(name)
    argv = ["/snap/bin/microk8s", "kubectl", "get", "felixconfiguration", "default", "-o", "json"]
    done = host.run(argv, check=False)
    assert done.returncode == 0, done.stderr
    obj: dict[str, Any] = json.loads(done.stdout)
    return obj


def test_calico_wireguard_is_enabled_cluster_wide(project: Project) -> None:
    run = project.mck(*FLAG)
    assert run.rc == 0, run.explain()
    assert "no node has peers: bootstrapping the cluster on mck-k8s-do-0" in run.stderr
    status = project.lab.host("mck-k8s-do-1").run(
        ["/snap/bin/microk8s", "status", "--format", "yaml"], check=False
    )
    assert len(re.findall(r"- address: \S+:19001", status.stdout)) == 2, status.stdout
    # The leader was patched; the other member reads the same cluster object.
    assert _felix(project, "mck-k8s-do-1")["spec"]["wireguardEnabled"] is True


def test_second_converge_changes_nothing(project: Project) -> None:
    before = _felix(project, "mck-k8s-do-1")["metadata"]["resourceVersion"]
    run = project.mck(*FLAG)
    assert run.rc == 0, run.explain()
    assert "==> provision: no changes" in run.stderr
    counts = recap(run.stderr)
    assert set(counts) == set(NAMES), run.stderr
    assert all(c["changed"] == 0 for c in counts.values()), counts
    assert "will join" not in run.stderr
    # Read at the end of the configure run and found enabled: no ansible run of its own.
    assert "enabling Calico WireGuard encryption" not in run.stderr
    # Not patched again: a patch that changes the object bumps its resourceVersion.
    assert _felix(project, "mck-k8s-do-0")["metadata"]["resourceVersion"] == before


def test_a_nat_node_is_refused_before_anything_changes(project: Project) -> None:
    vms = sorted((h.name, h.id) for h in project.lab.hosts())
    state = project.state()
    inventory = project.inventory()
    project.set_counts(digitalocean=1, linode=0, aws=1)
    run = project.mck(*FLAG)
    assert run.rc == 2, run.explain()
    refusal = [line for line in run.stderr.splitlines() if "calico-wireguard" in line]
    assert len(refusal) == 1, run.stderr
    assert "mck-k8s-aws-0 behind 1:1 NAT" in refusal[0], refusal
    assert sorted((h.name, h.id) for h in project.lab.hosts()) == vms  # no AWS VM, none gone
    assert project.state() == state
    assert project.inventory() == inventory
