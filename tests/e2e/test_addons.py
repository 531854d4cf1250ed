"""Addons declared in instances.tf, end to end, on one single-node cluster (addons are cluster
state, read and changed through one member: one node proves it). Steps in order: an unknown
name is refused before anything exists; a cluster with no addons declared, and the remote
commands of its no-op converge (which reads no addon); a converge enables the declared addons;
a second converge changes nothing and spends exactly one remote command more than that (the
read); addons taken off the list are disabled, the one that holds data (hostpath-storage) only
with --yes."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.harness import Project, recap

pytestmark = pytest.mark.lab

NODE = "mck-k8s-do-0"
MICROK8S = "/snap/bin/microk8s"
# The node's remote commands in a no-op converge without addons, measured by the second test.
MEASURED: dict[str, int] = {}


@pytest.fixture(scope="module")
def project(make_project: Any) -> Project:
    project: Project = make_project(digitalocean=1, linode=0, aws=0)
    return project


def _declare(project: Project, *names: str) -> None:
    listed = ", ".join(f'"{n}"' for n in names)
    project.set_counts({"addons": f"[{listed}]"}, digitalocean=1, linode=0, aws=0)


def _enabled(project: Project) -> set[str]:
    out = project.lab.host(NODE).run([MICROK8S, "status", "--format", "yaml"]).stdout
    return set(re.findall(r"- name: (\S+)\n(?:\s+\w+: .*\n)*?\s+status: enabled", out))


def test_unknown_addon_is_refused_before_anything_changes(project: Project) -> None:
    _declare(project, "dns", "ingres")
    run = project.mck()
    assert run.rc == 2, run.explain()
    assert "'ingres' is not a core addon of microk8s 1.36" in run.stderr
    assert "did you mean 'ingress'?" in run.stderr
    assert not (project.path / "terraform.tfstate").exists()
    assert not (project.path / "inventory").exists()


def test_a_project_without_addons_reads_none(project: Project) -> None:
    _declare(project)
    run = project.mck()
    assert run.rc == 0, run.explain()
    before = project.remote_commands()[NODE]
    run = project.mck()
    assert run.rc == 0, run.explain()
    assert "==> addons" not in run.stderr
    MEASURED["noop"] = project.remote_commands()[NODE] - before


def test_declared_addons_are_enabled_on_converge(project: Project) -> None:
    _declare(project, "dns", "ingress", "hostpath-storage")
    run = project.mck()
    assert run.rc == 0, run.explain()
    assert "addon ingress: enable" in run.stderr
    assert f"microk8s enable hostpath-storage through {NODE}" in run.stderr
    assert {"dns", "ingress", "hostpath-storage"} <= _enabled(project)


def test_plan_and_second_converge_change_nothing(project: Project) -> None:
    plan = project.mck("plan")
    assert plan.rc == 0, plan.explain()
    assert "addons: no change" in plan.stderr
    before = project.remote_commands()[NODE]
    run = project.mck()
    assert run.rc == 0, run.explain()
    assert "addons: no change" in run.stderr
    assert "microk8s enable" not in run.stderr and "microk8s disable" not in run.stderr
    assert all(c["changed"] == 0 for c in recap(run.stderr).values()), run.stderr
    spent = project.remote_commands()[NODE] - before
    assert "noop" in MEASURED, "needs test_a_project_without_addons_reads_none first"
    assert spent == MEASURED["noop"] + 1, (spent, MEASURED)


def test_removed_addons_are_disabled_asking_first_for_data(project: Project) -> None:
    _declare(project, "dns")
    plan = project.mck("plan")
    assert "addon ingress: disable" in plan.stderr
    assert "addon hostpath-storage: disable (deletes its data: asks first)" in plan.stderr
    # No terminal and no --yes: ingress goes, hostpath-storage stays, named, exit 3.
    run = project.mck()
    assert run.rc == 3, run.explain()
    assert re.search(r"addon hostpath-storage: not disabled: .*--yes", run.stderr)
    enabled = _enabled(project)
    assert "ingress" not in enabled and "hostpath-storage" in enabled
    run = project.mck("--yes")
    assert run.rc == 0, run.explain()
    assert f"microk8s disable hostpath-storage:destroy-storage through {NODE}" in run.stderr
    assert _enabled(project) & {"ingress", "hostpath-storage"} == set()
