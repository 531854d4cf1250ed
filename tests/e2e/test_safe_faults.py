"""Nothing lost, nothing leaked, on the lab: a second converge refused by the run lock, ^C
during configure, a SIGKILL during configure, a corrupt state, ^C during an apply, a SIGKILL
during a join, and stderr closed during an apply; what each leaves behind: no credential in the
project, in $TMPDIR, on any command line or in ansible's environment, during or after the run;
a re-run completes and removes what the killed run left.

One project, one DigitalOcean node grown to three, scenarios in order (each builds on the last):
lean on purpose.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from typing import Any

import pytest

from tests.e2e.fault_tools import (
    TOKENS,
    files_with_tokens,
    holder_pid,
    processes_with_tokens,
    runner_dirs,
    start,
    tmp,
    vm_processes,
    wait_for,
)
from tests.e2e.harness import Project

pytestmark = pytest.mark.lab

NODES = [f"mck-k8s-do-{i}" for i in range(3)]  # the project's nodes, as it grows


@pytest.fixture(scope="module")
def project(make_project: Any) -> Project:
    project: Project = make_project(digitalocean=1, linode=0)
    # mck's $TMPDIR is this project's own: what is found there is this test's, not another run's.
    tmp = project.path.parent / "tmp"
    tmp.mkdir()
    project.env["TMPDIR"] = str(tmp)
    return project


def test_a_second_converge_is_refused_and_sigint_during_configure_exits_130(
    project: Project,
) -> None:
    first = start(project)
    seen: list[str] = []
    try:
        wait_for(first, "==> configure", seen, timeout=600)
        pid = holder_pid(project)
        second = project.mck()
        assert second.rc == 2, second.explain()
        refusal = second.stderr.strip().splitlines()[-1]
        assert refusal.startswith("error: another mck run is changing this project: ")
        assert f"pid {pid} (converge), started " in refusal
        time.sleep(2)  # ansible is at work now
        assert runner_dirs(project, pid), "ansible-runner's private dir, while it runs"
        assert files_with_tokens(project.path, tmp(project)) == []
        assert processes_with_tokens(project) == []
        os.kill(pid, signal.SIGINT)
        _, rest = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
    output = "".join(seen) + rest
    assert first.returncode == 130, output
    assert "error: interrupted" in output and "Traceback" not in output
    assert "ansible-runner canceled" not in output
    assert runner_dirs(project, pid) == []
    assert not (project.path / ".mck" / "converge.tfplan").exists()
    run = project.mck()
    assert run.rc == 0, run.explain()


def test_after_a_sigkill_during_configure_nothing_leaks_and_a_rerun_cleans_up(
    project: Project,
) -> None:
    project.lab.host(NODES[0])  # the node the first scenario made
    proc = start(project)
    seen: list[str] = []
    try:
        wait_for(proc, "==> configure", seen, timeout=600)
        pid = holder_pid(project)
        time.sleep(2)
        os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    left = runner_dirs(project, pid)
    assert left, "a SIGKILL runs no clean-up: the runner dir is left for the next run"
    assert files_with_tokens(project.path, tmp(project)) == []
    assert (os.stat(project.path / ".mck").st_mode & 0o777) == 0o700
    assert (os.stat(project.path / "terraform.tfstate").st_mode & 0o777) == 0o600
    run = project.mck()
    assert run.rc == 0, run.explain()
    assert [p for p in left if p.exists()] == []  # removed: its pid is dead
    assert files_with_tokens(project.path, tmp(project)) == []
    assert processes_with_tokens(project) == []


def test_a_corrupt_state_is_named_and_nothing_is_destroyed(project: Project) -> None:
    """A state cut short under a running cluster: OpenTofu calls it a lock error; mck says the
    state is corrupt, exit 2, and nothing changes: the VM runs, the state file and the
    inventory are byte for byte what they were."""
    state_file = project.path / "terraform.tfstate"
    good = state_file.read_bytes()
    inventory = project.inventory()
    corrupt = good[: len(good) // 2]
    state_file.write_bytes(corrupt)
    try:
        run = project.mck()
        assert run.rc == 2, run.explain()
        errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, run.stderr
        assert errors[0].startswith("error: the OpenTofu state is corrupt ("), run.stderr
        assert "Traceback" not in run.stderr
        assert state_file.read_bytes() == corrupt
        assert project.inventory() == inventory
        assert project.lab.host(NODES[0]).status == "active"
        assert project.lab.host(NODES[0]).run(["true"]).returncode == 0
    finally:
        state_file.write_bytes(good)
    assert project.mck("status").rc == 0


def test_sigint_during_the_apply_saves_the_state(project: Project) -> None:
    """OpenTofu gets one interrupt, finishes what is in flight and writes its state; mck exits
    130 once it has. The next scenario's runs complete the grow."""
    project.set_counts(digitalocean=2, linode=0)
    proc = start(project)
    seen: list[str] = []
    try:
        wait_for(proc, "==> provision", seen, timeout=600)
        os.kill(holder_pid(project), signal.SIGINT)
        _, rest = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = "".join(seen) + rest
    assert proc.returncode == 130, output
    assert "Two interrupts received" not in output and "Traceback" not in output
    assert "error: interrupted" in output
    assert project.state()["format_version"]  # readable, and no lock left held
    assert list((project.path / ".mck").glob("*.tfplan")) == []


def _joining(project: Project, node: str) -> bool:
    """`microk8s join` runs on `node` now (its process table, as `ps` in the VM shows it)."""
    return any(
        "join" in args and any(a.endswith(("microk8s", "microk8s.py")) for a in args)
        for args in vm_processes(project.lab.host(node).pid)
    )


def _cluster_members(project: Project, node: str) -> list[str]:
    """dqlite's members as `node` sees them (`microk8s status`: one line per member)."""
    status = project.lab.host(node).run(["/snap/bin/microk8s", "status", "--format", "yaml"])
    return re.findall(r"address: ([\d.]+):19001", status.stdout)


def test_a_sigkill_during_a_join_then_a_rerun_joins_every_node_once(project: Project) -> None:
    """mck and everything in its process group killed while `microk8s join` runs on the joiner
    (the grow the last scenario interrupted); the re-run completes: each node a member once,
    and neither the cloud tokens nor the join token left on disk."""
    joiner = NODES[1]
    proc = start(project)
    seen: list[str] = []
    try:
        wait_for(proc, f"orphan node {joiner} will join", seen, timeout=900)
        pid = holder_pid(project)
        deadline = time.monotonic() + 120
        while not _joining(project, joiner):
            assert time.monotonic() < deadline, f"no `microk8s join` on {joiner}:\n{seen}"
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    # The join's private dir (its extra vars hold the join token) outlives a SIGKILL.
    left = [p / "env" / "extravars" for p in runner_dirs(project, pid)]
    extravars = "".join(p.read_text() for p in left if p.exists())
    token = re.search(r'"mck_join_token": "(\w+)"', extravars)
    assert token, f"the killed join's extra vars: {left}"

    run = project.mck()
    assert run.rc == 0, run.explain()
    # The join went on in the VM after its SSH session died: with pipelining (ansible.cfg) the
    # module runs without a pty (ansible's ssh.py adds -tt only when nothing is piped in), so
    # sshd's pipes closing send it no SIGHUP. The re-run found the node a member and joined
    # nobody twice.
    assert "will join" not in run.stderr, run.stderr
    members = {n: _cluster_members(project, n) for n in NODES[:2]}
    assert sorted(members[NODES[0]]) == sorted(members[joiner]), members
    assert len(set(members[joiner])) == len(members[joiner]) == 2, members
    nodes = project.lab.host(NODES[0]).run(
        ["/snap/bin/microk8s", "kubectl", "get", "nodes", "-o", "name"]
    )
    assert sorted(nodes.stdout.split()) == [f"node/{n}" for n in NODES[:2]], nodes.stdout
    assert [p for p in left if p.exists()] == []
    secrets = (*TOKENS, token[1])
    assert files_with_tokens(project.path, tmp(project), tokens=secrets) == []
    assert processes_with_tokens(project) == []


def test_stderr_closed_during_an_apply_lets_the_apply_and_the_run_finish(project: Project) -> None:
    """`mck 2>&1 | head -1`, the reader gone while OpenTofu applies a grow: the apply completes
    and its state is saved (the state's VMs are the lab's), no tofu is killed, the run goes on
    and releases its lock; a re-run has nothing to do."""
    project.set_counts(digitalocean=3, linode=0)
    proc = start(project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen: list[str] = []
    try:
        wait_for(proc, "==> provision", seen, timeout=600)
        wait_for(proc, "Creating...", seen, timeout=300)  # tofu is applying
        assert proc.stdout is not None
        proc.stdout.close()  # the reader exits early
        proc.wait(timeout=900)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, "".join(seen) + "".join(project.logs()[-1].read_text())
    state = project.state()
    in_state = sorted(
        r["values"]["name"]
        for r in state["values"]["root_module"]["resources"]
        if r["type"] == "digitalocean_droplet"
    )
    in_lab = sorted(h.name for h in project.lab.hosts() if h.name.startswith("mck-k8s-"))
    assert in_state == in_lab == NODES, (in_state, in_lab)
    assert not (project.path / ".terraform.tfstate.lock.info").exists()
    log = project.logs()[-1].read_text()
    assert "Apply complete!" in log, log
    again = project.mck()  # not refused by a lock left held
    assert again.rc == 0, again.explain()
    assert "==> provision: no changes" in again.stderr, again.stderr
    assert "will join" not in again.stderr, again.stderr
