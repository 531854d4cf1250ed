"""A scale-down that real kubectl's drain refuses (the lab's `microk8s kubectl` is the real
binary, against the stand-in API server): mck stops before any VM goes and uncordons the node;
the pods without a controller are found by kubectl's client dry run, before anything is
touched; `--force-drain` gets past them but not past a PodDisruptionBudget, which only the real
drain meets (the node cordoned, then uncordoned) and which mck names; with the budget gone
the scale-down proceeds.

One two-node project for the file, steps in order. The leaving node is mck-k8s-do-1 (the
spare: the voter stays).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.e2e.harness import Project
from tests.lab import workloads

pytestmark = pytest.mark.lab

KEPT, LEAVING = "mck-k8s-do-0", "mck-k8s-do-1"
KUBECTL = ["/snap/bin/microk8s", "kubectl"]
SHORT_DRAIN = 10  # seconds: two of kubectl's 5 s eviction retries, then its refusal


@pytest.fixture(scope="module")
def project(make_project: Any) -> Project:
    project: Project = make_project(digitalocean=2, linode=0)
    run = project.mck()
    assert run.rc == 0, run.explain()
    member = project.lab.host(KEPT)
    workloads.add_unmanaged_pod(member, LEAVING, "lonely")
    workloads.add_unmanaged_pod(member, LEAVING, "guarded")  # labelled app=guarded
    workloads.add_pod_disruption_budget(member, "guard", {"app": "guarded"})
    project.set_counts(digitalocean=1, linode=0)
    return project


def _kubectl(project: Project, *args: str) -> str:
    run = project.lab.host(KEPT).run([*KUBECTL, *args], check=False, timeout=60)
    assert run.returncode == 0, f"kubectl {' '.join(args)}: {run.stdout}{run.stderr}"
    return run.stdout


def _vms(project: Project) -> list[str]:
    return sorted(h.name for h in project.lab.hosts() if h.name.startswith("mck-k8s-"))


def _schedulable(project: Project, node: str) -> bool:
    return not json.loads(_kubectl(project, "get", "node", node, "-o", "json"))["spec"].get(
        "unschedulable", False
    )


def _refusal(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if "kubectl drain would not empty" in line]
    assert len(lines) == 1, stderr
    return lines[0]


def test_pods_without_a_controller_stop_the_scale_down_before_any_vm_goes(
    project: Project,
) -> None:
    run = project.mck()
    assert run.rc == 2, run.explain()
    line = _refusal(run.stderr)
    assert f"would not empty {LEAVING}: default/" in line, line
    assert "default/guarded" in line and "default/lonely" in line, line
    assert "no controller" in line and "mck --force-drain" in line, line
    # Found by kubectl's client dry run, before the node is cordoned, drained or left.
    assert f"{LEAVING} was not cordoned" in line, line
    assert f"node/{LEAVING} cordoned\n" not in run.stderr
    assert "==> provision" not in run.stderr  # nothing applied: no VM destroyed
    assert _vms(project) == [KEPT, LEAVING]
    assert _schedulable(project, LEAVING)  # kubectl cordoned it; mck uncordoned it
    assert LEAVING in _kubectl(project, "get", "nodes", "-o", "name")


def test_force_drain_gets_past_them_but_a_budget_that_cannot_be_met_is_named(
    project: Project,
) -> None:
    # kubectl retries the eviction the budget refuses until --timeout (pkg/drain/drain.go
    # evictPods); a short --drain-timeout gets that refusal without waiting the default 120 s.
    run = project.mck("--force-drain", "--drain-timeout", str(SHORT_DRAIN))
    assert run.rc == 2, run.explain()
    line = _refusal(run.stderr)
    assert re.search(
        rf"default/guarded \(the disruption budget default/guard allowed no eviction for "
        rf"{SHORT_DRAIN} s\)",
        line,
    ), line
    # The real kubectl was given that timeout: its own words, in mck's debug log.
    assert f"global timeout reached: {SHORT_DRAIN}s" in project.logs()[-1].read_text()
    assert "--force-drain" not in line  # --force does not get past a budget
    assert "==> provision" not in run.stderr
    assert _vms(project) == [KEPT, LEAVING]
    assert f"{LEAVING} is schedulable again" in line, line  # the drain cordoned it; mck undid it
    assert _schedulable(project, LEAVING)
    # --force let kubectl evict the pod nothing guarded; the guarded one is still there.
    pods = _kubectl(project, "get", "pods", "-n", "default", "-o", "name").split()
    assert pods == ["pod/guarded"], pods


def test_with_the_budget_gone_the_scale_down_proceeds(project: Project) -> None:
    _kubectl(project, "delete", "pdb", "guard", "-n", "default")
    run = project.mck("--force-drain")
    assert run.rc == 0, run.explain()
    assert re.search(rf"^node/{LEAVING} drained$", run.stderr, re.M), run.stderr
    assert _vms(project) == [KEPT]
    assert LEAVING not in _kubectl(project, "get", "nodes", "-o", "name")
