"""Two operators on one cluster, its state on a real PostgreSQL `pg` backend
(tests/lab/postgres.py): everything mck needs across runs lives with the cluster, and one run at
a time is decided by OpenTofu's own state lock, held for the whole run (mck/state_lock.py).

Operator A's project and operator B's are two directories with the same .tf files, the same
`backend "pg" {}` file (README, Team and CI) and PG_CONN_STR; B starts with no inventory and no
.mck/, as a CI runner's fresh checkout does. The story, on one cluster (one DigitalOcean node
and one Linode node, then a third):
1. A converges the two nodes.
2. B's first contact with a VM whose SSH host key changed since A configured it is refused.
3. B sees the cluster exactly as A does: its plan changes nothing, its status lists A's mesh
   addresses.
4. B is refused while A converges; both configurations then grow by one node and B and A
   converge at the same time: B creates the node, A waits for the lock, then changes nothing.
5. A waits while B holds the lock, then converges: nothing changes, A's inventory lists B's
   node at the mesh address B gave it.
6. A scale-down's `mck plan --json` (nothing applied).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from mck import state_lock
from mck.tofu import Tofu, find_binary
from tests.e2e.harness import Project, Run
from tests.lab import postgres
from tests.lab.hostkeys import replaced_host_keys

pytestmark = pytest.mark.lab

BACKEND = 'terraform {\n  backend "pg" {}\n}\n'
REFUSED = "the state is locked by another run (Workspace is already locked: default)"
ADVISORY = "select count(*) from pg_locks where locktype = 'advisory' and granted"
STATE = "select md5(data) from terraform_remote_state.states"
D0, D1, L0 = "mck-k8s-do-0", "mck-k8s-do-1", "mck-k8s-linode-0"
CREATED = "digitalocean_droplet.node[1]: Creation complete"  # OpenTofu's apply line for D1
PLAN = json.loads(files("mck").joinpath("plan.schema.json").read_text(encoding="utf-8"))
STATUS = json.loads(files("mck").joinpath("status.schema.json").read_text(encoding="utf-8"))
MESH_IP = re.compile(r"\bmck_mesh_ip=(\S+)")
# The lock's wait, both ways, is bounded as the README tells a team to bound it.
LOCK_TIMEOUT = "600"


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
    made: list[Project] = [make_project(digitalocean=1, linode=1) for _ in range(2)]
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


def _mesh_ips(inventory: str) -> dict[str, str]:
    """Node -> mck_mesh_ip of an inventory's host lines, asserting no node is listed twice."""
    found: list[tuple[str, str]] = []
    for line in inventory.splitlines():
        match = MESH_IP.search(line)
        if match and line[:1] not in "#[; \t":
            found.append((line.split()[0], match[1]))
    assert len({name for name, _ in found}) == len(found), inventory
    return dict(found)


def _status(project: Project) -> dict[str, Any]:
    """`mck status --json`, validated; its exit code checked against `healthy`."""
    run = project.mck("status", "--json")
    assert run.rc in (0, 3), run.explain()
    doc: dict[str, Any] = json.loads(run.stdout)
    errors = [e.message for e in _validator(STATUS).iter_errors(doc)]
    assert errors == [], errors
    assert run.rc == (0 if doc["healthy"] else 3), run.explain()
    return doc


def _plan(project: Project, rc: int) -> dict[str, Any]:
    """The README pipeline's plan, validated against mck/plan.schema.json."""
    run = project.mck("plan", "--json", "--detailed-exitcode")
    assert run.rc == rc, run.explain()
    doc: dict[str, Any] = json.loads(run.stdout)  # the whole of stdout is one document
    errors = [e.message for e in _validator(PLAN).iter_errors(doc)]
    assert errors == [], errors
    return doc


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=FormatChecker())


def _as_fresh_checkout(project: Project) -> None:
    """What a runner's fresh checkout lacks: mck's own files of earlier runs."""
    assert not (project.path / "inventory").exists()
    shutil.rmtree(project.path / ".mck", ignore_errors=True)


def test_a_converges_two_clouds_with_its_state_in_postgres(
    operators: list[Project], pg: tuple[postgres.Postgres, Path]
) -> None:
    a = operators[0]
    run: Run = a.mck("--yes")
    assert run.rc == 0, run.explain()
    assert not (a.path / "terraform.tfstate").exists()
    stored = postgres.psql(*pg, "select name from terraform_remote_state.states")
    assert stored.split() == ["default"]
    assert not _locked(pg), "the lock outlived the run"
    assert sorted(_mesh_ips(a.inventory())) == [D0, L0]


def test_b_first_contact_with_a_vm_whose_host_key_changed_is_refused(
    operators: list[Project],
) -> None:
    a, b = operators
    _as_fresh_checkout(b)
    with replaced_host_keys(a.lab, a.lab.host(L0)) as (recorded, served):
        doc = _status(b)
        pinned = (b.path / ".mck" / "known_hosts").read_text()
    assert doc["healthy"] is False
    lines = [p for p in doc["problems"] if L0 in p]
    assert any("host key" in p and "not the one recorded" in p for p in lines), doc["problems"]
    assert not [p for p in doc["problems"] if D0 in p], doc["problems"]
    nodes = {node["name"]: node for node in doc["nodes"]}
    assert nodes[D0]["reachable"] and nodes[D0]["ready"], nodes[D0]
    assert not nodes[L0]["reachable"], nodes[L0]
    # Checked against the key A's converge recorded, never trusted on first use.
    for key in recorded:
        assert key.split()[1] in pinned, pinned
    for key in served:
        assert key.split()[1] not in pinned, pinned
    assert not (b.path / "inventory").exists()


def test_b_sees_the_running_cluster_exactly_as_a_does(operators: list[Project]) -> None:
    a, b = operators
    _as_fresh_checkout(b)
    doc = _plan(b, 0)
    assert doc["outcome"] == "no-changes", doc
    assert doc["node_changes"] == [] and doc["cluster_actions"] == [] and doc["refusals"] == []
    status = _status(b)
    assert status["healthy"] is True, status["problems"]
    by_b = {node["name"]: node["mesh_ip"] for node in status["nodes"]}
    assert by_b == _mesh_ips(a.inventory())
    assert not (b.path / "inventory").exists()  # a plan and a status write none


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


def test_both_grow_at_once_b_creates_the_node_a_waits_then_changes_nothing(
    operators: list[Project], pg: tuple[postgres.Postgres, Path], tmp_path: Path
) -> None:
    a, b = operators
    for project in operators:  # as if both pulled the same commit
        project.set_counts(digitalocean=2, linode=1)
    first = _start(b, "--yes", "--lock-timeout", LOCK_TIMEOUT, out=tmp_path / "b.out")
    try:
        # B's run holds the lock from its start: A, started now, overlaps it and must wait.
        _until(lambda: _locked(pg) or first.poll() is not None, "B holds the state lock")
        second = _start(a, "--yes", "--lock-timeout", LOCK_TIMEOUT, out=tmp_path / "a.out")
        try:
            _until(
                lambda: (
                    "waiting for it" in (tmp_path / "a.out").read_text()
                    or second.poll() is not None
                ),
                "A waits",
            )
            assert first.poll() is None, "B's converge ended before A asked for the lock"
        finally:
            rc_a = second.wait(900)
    finally:
        rc_b = first.wait(900)
    by_b, by_a = (tmp_path / "b.out").read_text(), (tmp_path / "a.out").read_text()
    assert rc_b == 0, by_b
    assert rc_a == 0, by_a
    assert CREATED in by_b, by_b
    assert "waiting for it" not in by_b, by_b
    assert f"{REFUSED}; waiting for it" in by_a, by_a
    assert "==> provision: no changes" in by_a, by_a  # B's node was there when A got the lock
    assert CREATED not in by_a, by_a
    assert sorted(h.name for h in a.lab.hosts() if h.name.startswith("mck-k8s-")) == [
        D0,
        D1,
        L0,
    ]
    assert not _locked(pg)


def test_a_waits_while_b_holds_the_lock_then_its_converge_changes_nothing(
    operators: list[Project], pg: tuple[postgres.Postgres, Path], tmp_path: Path
) -> None:
    a, b = operators
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
    assert "==> provision: no changes" in output, output
    assert not _locked(pg)
    # A lists B's node at the address B gave it; both agree, and no address is used twice.
    mesh_a, mesh_b = _mesh_ips(a.inventory()), _mesh_ips(b.inventory())
    assert sorted(mesh_a) == [D0, D1, L0], mesh_a
    assert mesh_a == mesh_b
    assert len(set(mesh_a.values())) == 3, mesh_a
    for project in operators:
        status = _status(project)
        assert status["healthy"] is True, status["problems"]
        assert {node["name"]: node["mesh_ip"] for node in status["nodes"]} == mesh_a


def test_a_scale_down_plan_is_a_valid_document_and_applies_nothing(
    operators: list[Project], pg: tuple[postgres.Postgres, Path]
) -> None:
    a = operators[0]
    before, vms = postgres.psql(*pg, STATE), sorted(h.name for h in a.lab.hosts())
    a.set_counts(digitalocean=1, linode=1)
    try:
        doc = _plan(a, 4)
    finally:
        a.set_counts(digitalocean=2, linode=1)
    assert doc["outcome"] == "changes" and doc["refusals"] == [], doc
    assert {"node": D1, "change": "destroy"} in doc["node_changes"], doc["node_changes"]
    assert [c for c in doc["node_changes"] if c["node"] != D1] == [], doc["node_changes"]
    removes = [c for c in doc["cluster_actions"] if c["action"] == "remove"]
    assert [c["node"] for c in removes] == [D1], doc["cluster_actions"]
    assert postgres.psql(*pg, STATE) == before
    assert sorted(h.name for h in a.lab.hosts()) == vms
    assert not _locked(pg)
