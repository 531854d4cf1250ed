"""Day two on the lab: `mck plan`, graceful scale-down, the quorum refusal, and a dead member
removed with --force.

One project for the whole file, steps in order: five nodes → `mck plan` for three → `mck` takes
two out of the cluster and destroys them → a change to one is refused → a node dies, the user
lowers the count, and mck forces it out → a VM deleted behind OpenTofu's back leaves a
stale member, which mck removes.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from mck import mesh
from tests.e2e.harness import Project

pytestmark = pytest.mark.lab

LEAVING = ["mck-k8s-do-2", "mck-k8s-linode-1"]
KEPT = ["mck-k8s-do-0", "mck-k8s-do-1", "mck-k8s-linode-0"]


@pytest.fixture(scope="module")
def project(make_project: Any) -> Project:
    project: Project = make_project(digitalocean=3, linode=2)
    return project


def _members(project: Project, node: str) -> list[tuple[str, str]]:
    status = project.lab.host(node).run(["/snap/bin/microk8s", "status", "--format", "yaml"]).stdout
    return re.findall(r"address: ([\d.]+):19001\s+role: (\w+)", status)


def _kubectl_nodes(project: Project, node: str) -> dict[str, str]:
    out = project.lab.host(node).run(["/snap/bin/microk8s", "kubectl", "get", "nodes"]).stdout
    return {line.split()[0]: line.split()[1] for line in out.splitlines()[1:]}


def _vms(project: Project) -> list[str]:
    return sorted(h.name for h in project.lab.hosts() if h.name.startswith("mck-k8s-"))


def _files(project: Project) -> tuple[bytes, bytes]:
    return (project.path / "terraform.tfstate").read_bytes(), (
        project.path / "inventory"
    ).read_bytes()


def _status(project: Project) -> dict[str, Any]:
    run = project.mck("status", "--json")
    report: dict[str, Any] = json.loads(run.stdout)
    assert (run.rc == 0) is report["healthy"], run.explain()
    return report


def test_plan_lists_the_two_removals_and_changes_nothing(project: Project) -> None:
    run = project.mck()
    assert run.rc == 0, run.explain()
    assert len(_members(project, "mck-k8s-do-0")) == 5

    project.set_counts(digitalocean=2, linode=1)
    before = _files(project)
    run = project.mck("plan")
    assert run.rc == 0, run.explain()
    for name in LEAVING:
        assert re.search(rf"^  destroy {name}$", run.stderr, re.M), run.stderr
        assert re.search(
            rf"^  remove {name} \(10\.77\.\S+\): drain it through mck-k8s-do-0, "
            rf"`microk8s leave` on it, `microk8s remove-node 10\.77\.\S+` on mck-k8s-do-0$",
            run.stderr,
            re.M,
        ), run.stderr
    assert "Plan: 0 to add, 0 to change, 2 to destroy." in run.stderr
    # Nothing changed: not the state, not the inventory, not the VMs, not the cluster.
    assert _files(project) == before
    assert _vms(project) == sorted([*KEPT, *LEAVING])
    assert len(_members(project, "mck-k8s-do-0")) == 5
    assert list((project.path / ".mck").glob("*.tfplan")) == []  # its plan-<pid>.tfplan too


def test_converge_drains_leaves_and_removes_them_then_destroys_the_vms(project: Project) -> None:
    run = project.mck()
    assert run.rc == 0, run.explain()
    for name in LEAVING:
        assert re.search(rf"^node/{name} drained$", run.stderr, re.M), run.stderr
        assert f"removing {name} (" in run.stderr
    # The removals come before OpenTofu destroys anything.
    assert run.stderr.index("==> scale-down") < run.stderr.index("==> provision")
    assert _vms(project) == KEPT
    members = _members(project, "mck-k8s-do-0")
    assert sorted(role for _, role in members) == ["voter", "voter", "voter"], members
    assert sorted(_kubectl_nodes(project, "mck-k8s-do-0")) == KEPT
    report = _status(project)
    assert report["healthy"] is True, report
    assert {n["name"]: (n["role"], n["ready"]) for n in report["nodes"]} == {
        name: ("voter", True) for name in KEPT
    }


def test_a_change_to_one_node_is_refused_before_anything_is_destroyed(project: Project) -> None:
    project.set_counts(digitalocean=1, linode=0)
    before = _files(project)

    planned = project.mck("plan")
    assert planned.rc == 2, planned.explain()
    assert planned.stderr.count("error: refusing to remove") == 1, planned.stderr
    run = project.mck()
    assert run.rc == 2, run.explain()
    assert re.search(
        r"^error: refusing to remove mck-k8s-do-1, mck-k8s-linode-0: 1 of the cluster's 3 members "
        r"would remain, .* quorum; scale down in steps, running mck after each: 3 → 2 → 1 nodes$",
        run.stderr,
        re.M,
    ), run.stderr
    assert "==> provision" not in run.stderr
    assert _vms(project) == KEPT
    assert _files(project) == before
    assert len(_members(project, "mck-k8s-do-0")) == 3


def test_a_dead_member_is_reported_then_forced_out_when_its_count_goes(project: Project) -> None:
    dead = project.lab.host("mck-k8s-linode-0")
    address = mesh.previous_from_inventory(project.inventory())["mck-k8s-linode-0"]
    project.lab.kill_host(dead.id)
    report = _status(project)
    assert report["healthy"] is False
    assert any("mck-k8s-linode-0 is unreachable" in p for p in report["problems"]), report

    project.set_counts(digitalocean=2, linode=0)
    run = project.mck()
    assert run.rc == 0, run.explain()
    assert "remove-node --force (it cannot leave)" in run.stderr, run.stderr
    assert _vms(project) == KEPT[:2]
    assert sorted(_kubectl_nodes(project, "mck-k8s-do-0")) == KEPT[:2]
    members = _members(project, "mck-k8s-do-0")
    assert len(members) == 2 and address not in dict(members), members
    assert _status(project)["healthy"] is True


def test_a_member_whose_vm_went_behind_opentofus_back_is_removed_as_stale(
    project: Project,
) -> None:
    # The VM is deleted in the cloud, not through OpenTofu, and its count goes with it: the
    # refresh drops it from the state (drift, no change to apply), so no scale-down sees it, and
    # its member is left in the cluster for the leader to remove as stale.
    gone = project.lab.host("mck-k8s-do-1")
    address = mesh.previous_from_inventory(project.inventory())["mck-k8s-do-1"]
    assert address in dict(_members(project, "mck-k8s-do-0"))
    project.lab.delete_host(gone.id)
    project.set_counts(digitalocean=1, linode=0)

    run = project.mck()
    assert run.rc == 0, run.explain()
    assert "digitalocean_droplet.node[1]: Drift detected (delete)" in run.stderr, run.stderr
    assert (
        "==> provision: no changes; saving the state refresh found changed: "
        "digitalocean_droplet.node[1]"
    ) in run.stderr, run.stderr
    assert (
        f"stale member {address} belongs to no node: removing it through mck-k8s-do-0"
    ) in run.stderr, run.stderr
    assert _vms(project) == ["mck-k8s-do-0"]
    assert [a for a, _role in _members(project, "mck-k8s-do-0")] != []
    assert address not in dict(_members(project, "mck-k8s-do-0"))
    state = json.loads((project.path / "terraform.tfstate").read_text())
    droplets = [r for r in state["resources"] if r["type"] == "digitalocean_droplet"]
    assert [len(r["instances"]) for r in droplets] == [1]  # the refresh was saved
    assert _status(project)["healthy"] is True
