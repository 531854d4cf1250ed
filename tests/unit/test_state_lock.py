"""The state lock held for a run (mck/state_lock.py): a `console` on a terminal, ready at its
prompt, released by closing the terminal, refused with the backend's words."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mck import state_lock, tofu_diagnostics
from mck.errors import ToolError, UsageError
from mck.tofu import Tofu

# Terraform 1.11's own words for a local state held by another console (captured on this
# machine: `terraform console` while another one held terraform.tfstate).
LOCAL_REFUSAL = """
Error: Error acquiring the state lock

Error message: resource temporarily unavailable
Lock Info:
  ID:        b21487a3-e4e8-7fff-154c-e37533cee927
  Path:      terraform.tfstate
  Operation: OperationTypeInvalid
  Who:       alice@laptop
  Version:   1.11.4
  Created:   2026-12-07 19:40:16.254701649 +0000 UTC
  Info:


Terraform acquires a state lock to protect the state from being written
"""
# The pg backend fills the LockError with the requester's own info (Path still empty):
# internal/backend/remote-state/pg/client.go, Lock.
PG_REFUSAL = """
Error: Error acquiring the state lock

Error message: Workspace is already locked: default
Lock Info:
  ID:        0a1b2c3d-0000-0000-0000-000000000000
  Path:
  Operation: OperationTypeInvalid
  Who:       bob@ci
  Version:   1.11.4
  Created:   2026-12-07 19:41:00 +0000 UTC
  Info:
"""

# A stand-in `tofu console`: prints the refusal while the file `locked` exists (counting its
# attempts), else its prompt, then reads stdin to EOF and records that it exited.
FAKE = """#!{python}
import os, sys
here = os.path.dirname(os.path.abspath(__file__))
if sys.argv[1:] != ["console", "-no-color"]:
    sys.exit(9)
with open(os.path.join(here, "attempts"), "a") as f:
    f.write("x")
locked = os.path.join(here, "locked")
if os.path.exists(locked):
    left = int(open(locked).read() or 0)
    if left != 1:
        print(open(os.path.join(here, "refusal")).read())
        if left > 1:
            open(locked, "w").write(str(left - 1))
        sys.exit(1)
if os.path.exists(os.path.join(here, "broken")):
    print("Error: Backend initialization required, please run init")
    sys.exit(1)
open(os.path.join(here, "pid"), "w").write(str(os.getpid()))
sys.stdout.write("> ")
sys.stdout.flush()
try:
    sys.stdin.read()
except OSError:
    pass
open(os.path.join(here, "released"), "w").write("yes")
"""


def _fake(tmp_path: Path, *, refusal: str = LOCAL_REFUSAL, locked_for: int | None = None) -> Tofu:
    binary = tmp_path / "tofu"
    binary.write_text(FAKE.replace("{python}", sys.executable))
    binary.chmod(0o755)
    (tmp_path / "refusal").write_text(refusal)
    if locked_for is not None:  # 0: always locked; n: the n-th attempt gets the lock
        (tmp_path / "locked").write_text(str(locked_for))
    return Tofu(str(binary), tmp_path, dict(os.environ))


def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_inner_commands_skip_the_lock_only_while_it_is_held() -> None:
    tofu = Tofu("tofu", Path("."), {})
    assert tofu.argv("console") == ["tofu", "console", "-no-color"]
    assert "-lock=false" not in tofu.argv("plan", "-out=p")
    tofu.lock_held = True
    assert tofu.argv("plan", "-out=p") == [
        "tofu",
        "plan",
        "-input=false",
        "-lock=false",
        "-no-color",
        "-out=p",
    ]
    assert "-lock=false" in tofu.argv("apply", "p") and "-lock=false" in tofu.argv("destroy")
    assert "-lock=false" not in tofu.argv("show", "-json")  # show never locks


def test_held_at_the_prompt_until_released(tmp_path: Path) -> None:
    tofu = _fake(tmp_path)
    lock = state_lock.hold(tofu, 0)
    assert tofu.lock_held
    pid = int((tmp_path / "pid").read_text())
    time.sleep(0.2)
    assert not (tmp_path / "released").exists()  # still holding: the terminal is open
    lock.release()
    assert (tmp_path / "released").read_text() == "yes" and _gone(pid)
    lock.release()  # twice is harmless


def test_a_held_lock_is_refused_at_once_naming_the_holder(tmp_path: Path) -> None:
    tofu = _fake(tmp_path, locked_for=0)
    with pytest.raises(UsageError) as caught:
        state_lock.hold(tofu, 0)
    assert caught.value.message == (
        "the state is locked by another run (resource temporarily unavailable; held by "
        "alice@laptop, since 2026-12-07 19:40:16.254701649 +0000 UTC, lock ID "
        "b21487a3-e4e8-7fff-154c-e37533cee927); wait for it to finish, or pass "
        "--lock-timeout=SECONDS to wait for it"
    )
    assert (tmp_path / "attempts").read_text() == "x" and not tofu.lock_held


def test_pg_refusal_passes_on_only_what_pg_knows() -> None:
    # The Lock Info pg prints is the requester's own (bob@ci is this run): never shown.
    assert tofu_diagnostics.holder_line(PG_REFUSAL) == "Workspace is already locked: default"


def test_with_a_timeout_it_waits_then_holds(tmp_path: Path) -> None:
    tofu = _fake(tmp_path, locked_for=3)  # the third attempt finds it free
    said: list[str] = []
    tofu.echo = said.append
    lock = state_lock.hold(tofu, 10, sleep=0.1)
    try:
        assert (tmp_path / "attempts").read_text() == "xxx"
        assert said == [
            "the state is locked by another run (resource temporarily unavailable; held by "
            "alice@laptop, since 2026-12-07 19:40:16.254701649 +0000 UTC, lock ID "
            "b21487a3-e4e8-7fff-154c-e37533cee927); waiting for it"
        ]
    finally:
        lock.release()


def test_a_timeout_that_runs_out_refuses(tmp_path: Path) -> None:
    tofu = _fake(tmp_path, locked_for=0)
    started = time.monotonic()
    with pytest.raises(UsageError, match="locked by another run"):
        state_lock.hold(tofu, 1, sleep=0.2)
    assert 0.8 <= time.monotonic() - started < 5
    assert len((tmp_path / "attempts").read_text()) >= 2  # tried again before giving up


def test_another_failure_is_a_tool_error_not_a_lock_refusal(tmp_path: Path) -> None:
    tofu = _fake(tmp_path)
    (tmp_path / "broken").write_text("")
    with pytest.raises(ToolError, match=r"console .* failed: .*Backend initialization required"):
        state_lock.hold(tofu, 5, sleep=0.1)
    assert (tmp_path / "attempts").read_text() == "x"  # not retried: waiting would not help


def test_a_killed_mck_leaves_no_console_holding_the_lock(tmp_path: Path) -> None:
    """SIGKILL runs no `finally`: the kernel closes the terminal, and the console goes."""
    _fake(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, sys, time; from pathlib import Path; from mck import state_lock;"
            "from mck.tofu import Tofu;"
            f"state_lock.hold(Tofu({str(tmp_path / 'tofu')!r}, Path({str(tmp_path)!r}),"
            " dict(os.environ)), 0); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    pid = int((tmp_path / "pid").read_text())
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert _gone(pid), "the console outlived mck"


@pytest.mark.skipif(shutil.which("terraform") is None, reason="needs a real terraform binary")
def test_real_terraform_console_holds_the_local_state(tmp_path: Path) -> None:
    """Real Terraform, offline (no provider): a second console is refused with the holder."""
    (tmp_path / "main.tf").write_text('output "x" {\n  value = 1\n}\n')
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": "/dev/null"}
    binary = shutil.which("terraform")
    assert binary is not None
    for args in (["init"], ["apply", "-auto-approve"]):
        subprocess.run(
            [binary, *args, "-no-color"], cwd=tmp_path, env=env, check=True, capture_output=True
        )
    first = Tofu(binary, tmp_path, env)
    lock = state_lock.hold(first, 0)
    try:
        with pytest.raises(UsageError, match=r"resource temporarily unavailable; held by \S+@"):
            state_lock.hold(Tofu(binary, tmp_path, env), 0)
        plan = subprocess.run(
            first.argv("plan"), cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert plan.returncode == 0, plan.stdout + plan.stderr  # -lock=false: not refused
    finally:
        lock.release()
    state_lock.hold(Tofu(binary, tmp_path, env), 0).release()  # free again
    state = tmp_path / "terraform.tfstate"
    state.write_bytes(state.read_bytes()[:100])  # cut short: a lock error, says Terraform
    with pytest.raises(UsageError, match=r"^the OpenTofu state is corrupt \(The state file"):
        state_lock.hold(Tofu(binary, tmp_path, env), 0)


def test_a_corrupt_state_is_named_as_such_not_as_a_lock(tmp_path: Path) -> None:
    """The local backend reads the state while locking: a corrupt one comes as a lock error."""
    corrupt = (
        "Error: Error acquiring the state lock\n\nError message: 2 errors occurred:\n"
        "\t* Unsupported state file format: The state file could not be parsed as JSON: "
        "syntax error at byte offset 120.\n"
    )
    tofu = _fake(tmp_path, refusal=corrupt, locked_for=0)
    with pytest.raises(UsageError, match=r"^the OpenTofu state is corrupt \(The state file"):
        state_lock.hold(tofu, 5, sleep=0.1)
    assert (tmp_path / "attempts").read_text() == "x"


def test_a_plan_refused_for_the_lock_is_one_line_naming_the_holder() -> None:
    """`mck plan` takes no lock of its own: its OpenTofu plan meets another run's (text as
    mck renders plan -json's diagnostic: its detail indented)."""
    rendered = "Error: Error acquiring the state lock\n" + "\n".join(
        f"  {line}" for line in PG_REFUSAL.splitlines()[3:]
    )
    refused = tofu_diagnostics.refusal((), rendered)
    assert refused is not None and refused.message == (
        "the state is locked by another run (Workspace is already locked: default); run again "
        "once it has finished"
    )
