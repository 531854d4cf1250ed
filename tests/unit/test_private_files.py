"""Secrets on disk: private modes, and what killed runs left removed only when it is provably
theirs (mck's own name, this user's, a dead pid)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mck import private_files
from mck.tofu import Tofu

TERRAFORM = shutil.which("terraform") or "/usr/local/bin/terraform"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_state_dir_made_private_even_when_an_older_run_made_it_0755(tmp_path: Path) -> None:
    state_dir = tmp_path / ".mck"
    state_dir.mkdir(mode=0o755)
    os.chmod(state_dir, 0o755)
    private_files.private_dir(state_dir)
    assert _mode(state_dir) == 0o700


def test_readable_state_files_become_0600(tmp_path: Path) -> None:
    for name in private_files.STATE_FILES:
        (tmp_path / name).write_text("{}")
        os.chmod(tmp_path / name, 0o644)
    private_files.secure_state(tmp_path)
    assert [_mode(tmp_path / n) for n in private_files.STATE_FILES] == [0o600, 0o600]


def test_dead_runs_plans_go_live_ones_and_foreign_files_stay(tmp_path: Path) -> None:
    dead, live = _dead_pid(), os.getpid()
    names = [
        f"plan-{dead}.tfplan",  # a killed `mck plan`
        f"plan-{live}.tfplan",  # a running one (this process)
        private_files.CONVERGE_PLAN,
        f"plan-{dead}.tfplan.bak",  # not mck's exact name
        "plan.tfplan",
    ]
    for name in names:
        (tmp_path / name).write_text("plan")
    removed = private_files.remove_dead_plans(tmp_path, converge_lock_held=False)
    assert [p.name for p in removed] == [f"plan-{dead}.tfplan"]
    removed = private_files.remove_dead_plans(tmp_path, converge_lock_held=True)
    assert [p.name for p in removed] == [private_files.CONVERGE_PLAN]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[1:2] + names[3:])


def test_dead_runs_temp_dirs_go_live_ones_and_lookalikes_stay(tmp_path: Path) -> None:
    dead, live = _dead_pid(), os.getpid()
    gone = [f"mck-runner-{dead}-abc_1234", f"mck-kubeconfig-{dead}-zz9zz9zz"]
    kept = [
        f"mck-runner-{live}-abc_1234",  # live pid
        f"mck-runner-{dead}-abc",  # not mkdtemp's 8 characters
        f"mck-runner-{dead}-ABCDEFGH",  # not mkdtemp's alphabet
        f"xmck-runner-{dead}-abc_1234",
        "mck-runner-abc_1234",  # an older mck's name: no pid to prove it dead
    ]
    for name in gone + kept:
        (tmp_path / name / "artifacts").mkdir(parents=True)
    (tmp_path / f"mck-runner-{dead}-file0000").write_text("")  # a file, not a dir: stays
    removed = private_files.remove_dead_temp_dirs(tmp_path)
    assert sorted(p.name for p in removed) == sorted(gone)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*kept, f"mck-runner-{dead}-file0000"]
    )


def test_pid_alive() -> None:
    assert private_files.pid_alive(os.getpid())
    assert not private_files.pid_alive(_dead_pid())
    assert private_files.pid_alive(0)  # never "dead": no run of ours had it


@pytest.mark.skipif(not Path(TERRAFORM).exists(), reason="needs terraform")
def test_real_terraform_writes_plan_and_state_0600_under_a_loose_umask(tmp_path: Path) -> None:
    """OpenTofu/Terraform create the plan and the state 0666 less the umask: mck runs them
    under 077, whatever the user's umask is."""
    (tmp_path / "main.tf").write_text(
        'variable "token" {\n  sensitive = true\n}\n'
        'resource "terraform_data" "x" {\n  input = var.token\n}\n'
    )
    env = {**os.environ, "TF_VAR_token": "s3cr3t-token-value", "CHECKPOINT_DISABLE": "1"}
    tofu = Tofu(TERRAFORM, tmp_path, env, echo=lambda _line: None)
    old = os.umask(0o022)
    try:
        tofu.init()
        planfile = tmp_path / "converge.tfplan"
        assert tofu.plan(planfile).changes
        assert _mode(planfile) == 0o600
        tofu.apply(planfile)
    finally:
        os.umask(old)
    assert b"s3cr3t-token-value" in (tmp_path / "terraform.tfstate").read_bytes()
    assert _mode(tmp_path / "terraform.tfstate") == 0o600
