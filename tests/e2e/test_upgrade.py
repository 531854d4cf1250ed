"""`mck upgrade`: a rolling upgrade of a 3-voter + 1-standby cluster built on an older channel.
One project for the file, steps in order (each builds on the last):

- a jump of two minors (1.34 → 1.36) is refused before anything changes, naming the channels
  to follow;
- 1.34 → 1.35: every node upgraded one at a time, quorum sampled on the voters throughout (a
  read through the API answered by at least one voter in every sample), a value written before
  is read after, `mck status` shows v1.35 everywhere;
- 1.35 → 1.36 with the second node's refresh made to fail (the lab's unreachable store): exit
  1 naming that node, mixed versions, the cluster healthy; the next `mck upgrade` finishes.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from tests.e2e.harness import Project
from tests.lab import workloads

pytestmark = pytest.mark.lab

NODES = ("mck-k8s-do-0", "mck-k8s-do-1", "mck-k8s-linode-0", "mck-k8s-linode-1")
KUBECTL = ["/snap/bin/microk8s", "kubectl"]
DEFAULTS = "roles/microk8s/defaults/main.yml"
FAILS = "/var/lib/snapd/standin-refresh-fails"


def _pin(project: Project, channel: str) -> None:
    path = project.path / DEFAULTS
    text = path.read_text()
    current = next(line for line in text.splitlines() if line.startswith("microk8s_channel:"))
    path.write_text(text.replace(current, f'microk8s_channel: "{channel}"'))


def _status(project: Project) -> dict[str, Any]:
    run = project.mck("status", "--json")
    assert run.rc == 0, run.explain()
    doc: dict[str, Any] = json.loads(run.stdout)
    return doc


def _versions(project: Project) -> dict[str, str]:
    return {n["name"]: n["version"] for n in _status(project)["nodes"]}


@pytest.fixture(scope="module")
def project(make_project: Any) -> Project:
    project: Project = make_project(digitalocean=2, linode=2)
    _pin(project, "1.34/stable")
    run = project.mck()
    assert run.rc == 0, run.explain()
    member = project.lab.host(NODES[0])
    value = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"kept": "yes"}}
    workloads.create(member, {**value, "metadata": {"name": "before-upgrade"}})
    return project


def test_a_jump_of_two_minors_is_refused_before_anything_changes(project: Project) -> None:
    before = _versions(project)
    assert set(before.values()) == {"v1.34.1"}, before
    _pin(project, "1.36/stable")
    run = project.mck("upgrade")
    assert run.rc == 2, run.explain()
    assert "refusing to upgrade to 1.36/stable" in run.output, run.output
    assert "pin each of 1.35/stable, 1.36/stable in turn" in run.output, run.output
    assert _versions(project) == before


def test_every_node_is_upgraded_one_at_a_time_keeping_quorum(project: Project) -> None:
    _pin(project, "1.35/stable")
    voters = [v["name"] for v in _status(project)["voters"]]
    assert len(voters) == 3, voters
    plan = project.mck("plan")
    assert plan.rc == 0, plan.explain()
    steps = plan.output.split("upgrade steps (`mck upgrade`", 1)[1].splitlines()[1:5]
    assert [s.split()[0] for s in steps] == ["1.", "2.", "3.", "4."], plan.output
    assert all("snap refresh microk8s --channel=1.35/stable" in s for s in steps), steps
    assert steps[0].split()[1] not in voters, steps  # the standby first
    samples: list[bool] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            answered = False
            for name in voters:
                read = project.lab.host(name).run(
                    [*KUBECTL, "get", "configmap", "before-upgrade", "-o", "name"],
                    check=False,
                    timeout=30,
                )
                if read.returncode == 0:
                    answered = True
                    break
            samples.append(answered)
            time.sleep(2)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        run = project.mck("upgrade")
    finally:
        done.set()
        sampler.join()
    assert run.rc == 0, run.explain()
    assert samples and all(samples), samples
    # The datastore was backed up before the first node was touched (issue 15).
    backups = sorted((project.path / "backups").glob("*.tar"))
    assert len(backups) == 1, run.output
    assert f"backup before the upgrade: {backups[0].resolve()}" in run.output, run.output
    assert run.output.index("backup before the upgrade") < run.output.index("upgrading ")
    order = [line.split()[1] for line in run.output.splitlines() if line.startswith("upgrading ")]
    assert sorted(order) == sorted(NODES), run.output
    assert order == [s.split()[1] for s in steps], (order, steps)  # as `mck plan` said
    assert set(_versions(project).values()) == {"v1.35.0"}
    value = project.lab.host(voters[0]).run(
        [*KUBECTL, "get", "configmap", "before-upgrade", "-o", "jsonpath={.data.kept}"]
    )
    assert value.stdout == "yes"
    kubelets = project.lab.host(voters[0]).run(
        [*KUBECTL, "get", "nodes", "-o", "jsonpath={.items[*].status.nodeInfo.kubeletVersion}"]
    )
    assert set(kubelets.stdout.split()) == {"v1.35.0"}, kubelets.stdout
    again = project.mck("upgrade")
    assert again.rc == 0, again.explain()
    assert "nothing to upgrade" in again.output, again.output


def test_an_interrupted_upgrade_stops_at_its_node_and_resumes(project: Project) -> None:
    _pin(project, "1.36/stable")
    report = _status(project)
    standby = [n["name"] for n in report["nodes"] if n["role"] != "voter"]
    assert len(standby) == 1, report["nodes"]
    voters = [name for name in NODES if name not in standby]
    # Every voter's store is unreachable: the standby (first) goes, the second node stops.
    for name in voters:
        project.lab.host(name).run(["sh", "-c", f"echo 'persistent network error' > {FAILS}"])
    run = project.mck("upgrade")
    assert run.rc == 1, run.explain()
    stopped = [line for line in run.output.splitlines() if "stopped at " in line]
    assert stopped, run.output
    second = stopped[0].split("stopped at ", 1)[1].split(":", 1)[0]
    assert second in voters, stopped
    versions = _versions(project)
    assert versions[standby[0]] == "v1.36.0"
    assert {versions[v] for v in voters} == {"v1.35.0"}, versions
    report = _status(project)
    assert report["healthy"], report
    for name in voters:
        project.lab.host(name).run(["rm", "-f", FAILS])
    taken = set((project.path / "backups").glob("*.tar"))
    run = project.mck("upgrade", "--no-backup")
    assert run.rc == 0, run.explain()
    assert set((project.path / "backups").glob("*.tar")) == taken, "--no-backup took a backup"
    assert f"already on 1.36/stable: {standby[0]}" in run.output, run.output
    assert set(_versions(project).values()) == {"v1.36.0"}
