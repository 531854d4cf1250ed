"""One bad node is not everyone's failure (issue 14), on the lab, lean: one project of up to three
DigitalOcean nodes, its scenarios in order, each starting from the cluster the last one left:

- a node whose microk8s stays not ready: the others join, mck exits 3 naming it, after the
  bounded readiness wait (`--ready-timeout`), not microk8s' 600 s; once it runs again, the
  next run joins it;
- a hand-edited inventory with a wrong address: `mck status`, `mck plan` and a scale-down
  reach the nodes at the state's addresses, and `microk8s leave` runs on the leaving node, not
  on the node whose address the edit gave it;
- a VM dies during configure: the others are configured and stay in the cluster, mck exits 3
  naming it; once its count goes, the next run completes.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from mck import mesh
from tests.e2e.harness import MCK_TIMEOUT, Project, Run

pytestmark = pytest.mark.lab


NAME = "fa"
D0, D1, D2 = (f"{NAME}-do-{i}" for i in range(3))


@pytest.fixture(scope="module")
def project(make_project: Any) -> Project:
    """The scenarios' project, in a cluster of its own name: other modules' projects share the
    lab's cloud account, where two clusters' VMs may not share names."""
    project: Project = make_project()
    _scale(project, 1)
    return project


def _scale(project: Project, nodes: int) -> None:
    project.set_counts({"cluster_name": f'"{NAME}"'}, digitalocean=nodes, linode=0)


def _members(project: Project, node: str) -> list[str]:
    status = project.lab.host(node).run(["/snap/bin/microk8s", "status", "--format", "yaml"]).stdout
    return re.findall(r"address: ([\d.]+):19001", status)


def _mck_killing(project: Project, victim: str, when: str) -> Run:
    """Run mck; kill the VM `victim` once a line of mck's output starts with `when`."""
    argv = [sys.executable, "-m", "mck", "-C", str(project.path)]
    proc = subprocess.Popen(
        project.lab.ctl_argv(argv),
        cwd=project.path,
        env=project.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdout: list[str] = []
    out = proc.stdout
    reader = threading.Thread(target=lambda: stdout.append(out.read() if out else ""))
    reader.start()
    stderr, killed = [], False
    assert proc.stderr is not None
    for line in proc.stderr:
        stderr.append(line)
        if not killed and line.startswith(when):
            project.lab.kill_host(project.lab.host(victim).id)
            killed = True
    proc.wait(timeout=MCK_TIMEOUT)
    reader.join()
    assert killed, f"no line started with {when!r}:\n{''.join(stderr)}"
    return Run(argv, proc.returncode, "".join(stdout), "".join(stderr))


def test_a_node_that_stays_not_ready_is_named_after_the_bounded_wait(project: Project) -> None:
    assert (first := project.mck()).rc == 0, first.explain()
    # Its services stop (as `snap stop microk8s` does): `status --wait-ready` never sees it ready.
    assert project.lab.host(D0).run(["snap", "stop", "microk8s"]).stdout == "Stopped.\n"

    _scale(project, 3)
    started = time.monotonic()
    run = project.mck("--ready-timeout", "20")
    elapsed = time.monotonic() - started
    assert run.rc == 3, run.explain()
    said = r"not ready within 20 s \(microk8s is not running"
    assert re.search(rf"^error: {D0}: microk8s not ready: {said}", run.stderr, re.M), run.stderr
    # The other two formed the cluster without it.
    assert f"no node has peers: bootstrapping the cluster on {D1}" in run.stderr, run.stderr
    assert sorted(_members(project, D1)) == sorted(_members(project, D2))
    assert len(_members(project, D1)) == 2
    # microk8s' role default (600 s) was not waited out: the setting bounded it.
    assert elapsed < 600, elapsed

    # It runs again: the next run joins it, a standalone node like any other.
    project.lab.host(D0).run(["snap", "start", "microk8s"])
    again = project.mck()
    assert again.rc == 0, again.explain()
    assert f"orphan node {D0} will join " in again.stderr, again.stderr
    assert len(_members(project, D1)) == 3


def test_a_hand_edited_inventory_does_not_pick_the_node_acted_on(project: Project) -> None:
    ips = {h.name: h.public_ip for h in project.lab.hosts() if h.name in (D0, D1, D2)}
    d1_mesh = mesh.previous_from_inventory(project.inventory())[D1]
    # The user "fixes" D2's address by hand, to D1's.
    inventory = project.path / "inventory"
    edited = inventory.read_text().replace(
        f"{D2} ansible_host={ips[D2]} ", f"{D2} ansible_host={ips[D1]} "
    )
    assert edited != inventory.read_text()
    inventory.write_text(edited)

    before = project.remote_commands()
    assert (status := project.mck("status")).rc == 0, status.explain()
    assert (plan := project.mck("plan")).rc == 0, plan.explain()
    after = project.remote_commands()
    # D2 answered its own probes (two runs), and D1 only its own.
    assert after[D2] - before[D2] == after[D0] - before[D0] > 0, (before, after)
    assert after[D1] - before[D1] == after[D0] - before[D0], (before, after)

    # Scale down to two: D2 leaves, D1 stays in the cluster.
    _scale(project, 2)
    run = project.mck()
    assert run.rc == 0, run.explain()
    assert f"removing {D2} " in run.stderr, run.stderr
    members = _members(project, D0)
    assert len(members) == 2 and d1_mesh in members, members
    assert f"ansible_host={ips[D2]}" not in project.inventory()
    assert project.mck("status").rc == 0


def test_a_vm_killed_during_configure_is_named_and_the_others_converge(project: Project) -> None:
    # Grow to three: the first task line of configure, the new VM dies with the site playbook
    # under way on every node.
    _scale(project, 3)
    run = _mck_killing(project, D2, "  [configure] ")
    assert run.rc == 3, run.explain()
    assert re.search(rf"^error: {D2}: unreachable: ", run.stderr, re.M), run.stderr
    table = run.stderr[run.stderr.index("==> report") :]
    for node in (D0, D1):
        assert re.search(rf"^{node} +digitalocean .* (voter|spare) +yes ", table, re.M), table
    assert len(_members(project, D0)) == 2, run.stderr
    assert re.search(r"^error: the cluster is not converged: 1 problem\(s\)", run.stderr, re.M)

    # The dead VM's count goes: the next run removes it and completes.
    _scale(project, 2)
    again = project.mck()
    assert again.rc == 0, again.explain()
    assert project.mck("status").rc == 0
