"""Two operators on one real PostgreSQL `pg` state backend (tests/lab/postgres.py): one run at a
time, decided by OpenTofu's own state lock held for the whole run (mck/state_lock.py).

Operator A's project and operator B's are two directories with the same .tf files, the same
`backend "pg" {}` file (README, Team and CI) and PG_CONN_STR; B has no inventory and no .mck/.
B never gets past the lock here: what a second checkout converges to is not this module's
concern (mesh addresses are still read from the local inventory). One DigitalOcean node.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mck import state_lock
from mck.tofu import Tofu, find_binary
from tests.e2e.harness import Project, Run
from tests.lab import postgres

pytestmark = pytest.mark.lab

BACKEND = 'terraform {\n  backend "pg" {}\n}\n'
REFUSED = "the state is locked by another run (Workspace is already locked: default)"
ADVISORY = "select count(*) from pg_locks where locktype = 'advisory' and granted"


@pytest.fixture(scope="module")
def pg(lab: Any) -> Iterator[tuple[postgres.Postgres, Path]]:
    """After the lab (which skips, saying so, only with MCK_SKIP_LAB=1): never a silent skip."""
    bindir = postgres.server_bin()
    if bindir is None:
        pytest.fail("PostgreSQL 15's server is not installed: run scripts/install (postgresql-15)")
    server = postgres.start(bindir)
    try:
        yield server, bindir
    finally:
        server.stop()


@pytest.fixture(scope="module")
def operators(make_project: Any, pg: tuple[postgres.Postgres, Path]) -> Iterator[list[Project]]:
    server, _ = pg
    made: list[Project] = [make_project(digitalocean=1, linode=0) for _ in range(2)]
    for project in made:
        (project.path / "backend.tf").write_text(BACKEND)
        project.env["PG_CONN_STR"] = server.conn_str
    yield made
    made[0].mck("--destroy", "--yes")  # the shared state's VMs (no local terraform.tfstate)


def _start(project: Project, *args: str, out: Path) -> subprocess.Popen[bytes]:
    """`mck` in the controller namespace, in the background, its output to `out`."""
    with open(out, "wb") as sink:
        return subprocess.Popen(
            project.lab.ctl_argv([sys.executable, "-m", "mck", "-C", str(project.path), *args]),
            cwd=project.path,
            env=project.env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def _until(check: Any, what: str, within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"not within {within:.0f}s: {what}"
        time.sleep(0.2)


def _locked(pg: tuple[postgres.Postgres, Path]) -> bool:
    return postgres.psql(*pg, ADVISORY).strip() != "0"


def test_a_converges_with_its_state_in_postgres(
    operators: list[Project], pg: tuple[postgres.Postgres, Path]
) -> None:
    a = operators[0]
    run: Run = a.mck("--yes")
    assert run.rc == 0, run.explain()
    assert not (a.path / "terraform.tfstate").exists()
    stored = postgres.psql(*pg, "select name from terraform_remote_state.states")
    assert stored.split() == ["default"]
    assert not _locked(pg), "the lock outlived the run"


def test_b_is_refused_while_a_converges(
    operators: list[Project], pg: tuple[postgres.Postgres, Path], tmp_path: Path
) -> None:
    a, b = operators
    running = _start(a, "--yes", out=tmp_path / "a.out")
    try:
        _until(lambda: _locked(pg) or running.poll() is not None, "A holds the state lock")
        assert running.poll() is None, (tmp_path / "a.out").read_text()
        run = b.mck("--yes")
        assert run.rc == 2, run.explain()
        assert f"error: {REFUSED}; wait for it to finish" in run.stderr, run.explain()
        assert not (b.path / "inventory").exists()
    finally:
        rc = running.wait(600)
    assert rc == 0, (tmp_path / "a.out").read_text()
    assert not _locked(pg)


def test_a_waits_with_lock_timeout_while_b_holds_it_then_runs(
    operators: list[Project], pg: tuple[postgres.Postgres, Path], tmp_path: Path
) -> None:
    a, b = operators
    # B holds the lock as its own run would (B's project was initialised by its refused run).
    held = state_lock.hold(Tofu(find_binary(b.env), b.path, dict(b.env)), 0)
    try:
        plan = a.mck("plan")  # takes no lock of its own; OpenTofu's plan meets B's
        assert plan.rc == 2, plan.explain()
        assert f"error: {REFUSED}; run again once it has finished" in plan.stderr, plan.explain()
        # An upgrade changes the cluster: it holds the state lock too, so it is refused first.
        upgrade = a.mck("upgrade")
        assert upgrade.rc == 2, upgrade.explain()
        assert f"error: {REFUSED}; wait for it to finish" in upgrade.stderr, upgrade.explain()
        assert "backup" not in upgrade.stderr, upgrade.explain()
        running = _start(a, "--yes", "--lock-timeout", "120", out=tmp_path / "a.out")
        _until(lambda: "waiting for it" in (tmp_path / "a.out").read_text(), "A waits")
        assert running.poll() is None
    finally:
        held.release()
    rc = running.wait(600)
    output = (tmp_path / "a.out").read_text()
    assert rc == 0, output
    assert f"{REFUSED}; waiting for it" in output
    status = a.mck("status")
    assert status.rc == 0, status.explain()
    assert not _locked(pg)
