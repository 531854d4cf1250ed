"""Output never kills work: a closed stderr or stdout, or a log that cannot be written, cost the
output or the log, never the run; tofu's output is read to the end whatever the screen does."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mck.debuglog import DebugLog
from mck.report import Ui
from mck.safe_output import SafeStream
from mck.tofu import Tofu

TERRAFORM = shutil.which("terraform") or "/usr/local/bin/terraform"


class ClosedPipe(io.StringIO):
    """A stream whose reader went away after `room` writes."""

    def __init__(self, room: int = 0) -> None:
        super().__init__()
        self.room = room

    def write(self, text: str) -> int:
        if self.room <= 0:
            raise BrokenPipeError(32, "Broken pipe")
        self.room -= 1
        return super().write(text)


def test_a_closed_stream_stops_the_output_not_the_run_and_the_log_keeps_it(
    tmp_path: Path,
) -> None:
    stream = ClosedPipe(room=1)
    ui = Ui(SafeStream(stream), log=DebugLog(tmp_path, "converge"))  # type: ignore[arg-type]
    ui.phase("preflight")
    ui.phase("plan")
    ui.say("a line nobody reads")
    ui.error("still no exception")
    path = ui.close(1)
    assert stream.getvalue() == "==> preflight\n"
    text = Path(str(path)).read_text()
    assert "a line nobody reads" in text and "error: still no exception" in text


def test_an_unwritable_log_is_one_warning_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / ".mck").mkdir()
    (tmp_path / ".mck" / "logs").write_text("not a directory")  # fails even for root
    stream = io.StringIO()
    ui = Ui(stream, log=DebugLog(tmp_path / ".mck" / "logs", "converge"))
    ui.phase("preflight")
    ui.phase("plan")
    ui.say("going on")
    assert ui.close(1) is None  # no log to name in `details:`
    lines = stream.getvalue().splitlines()
    assert lines[0] == "==> preflight"
    # Past preflight the log goes to disk: the warning comes as it fails.
    assert lines[1].startswith("warning: no debug log for this run: cannot make ")
    assert lines[2:] == ["==> plan", "going on"]


def test_a_log_never_names_an_earlier_runs_file(tmp_path: Path) -> None:
    first = DebugLog(tmp_path, "converge")
    first.close(keep=True)
    second = DebugLog(tmp_path, "converge")
    second.path = first.path  # the same second: the same name
    second.close(keep=False)  # stopped on bad input: it wrote nothing
    assert not second.on_disk


@pytest.mark.skipif(not Path(TERRAFORM).exists(), reason="needs terraform")
def test_tofu_is_drained_when_the_screen_fails_and_its_apply_completes(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "terraform_data" "a" {\n  input = 1\n}\n'
        'resource "terraform_data" "b" {\n  input = terraform_data.a.output\n}\n'
    )
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    Tofu(TERRAFORM, tmp_path, env, echo=lambda _l: None).init()
    shown: list[str] = []

    def echo(line: str) -> None:
        if shown:
            raise BrokenPipeError(32, "Broken pipe")
        shown.append(line)

    logged: list[str] = []
    tofu = Tofu(TERRAFORM, tmp_path, env, echo=echo, log=logged.append)
    assert tofu.plan(tmp_path / "p.tfplan").changes
    tofu.apply(tmp_path / "p.tfplan")
    names = [
        r["name"] for r in json.loads((tmp_path / "terraform.tfstate").read_text())["resources"]
    ]
    assert names == ["a", "b"]
    assert any("Apply complete!" in line for line in logged)  # read to the end, into the log


@pytest.mark.skipif(not Path(TERRAFORM).exists(), reason="needs terraform")
def test_mck_with_stderr_closed_during_a_destroy_completes_it(tmp_path: Path) -> None:
    """`mck --destroy --yes 2>&1 | head -1`: the reader leaves after the first line; OpenTofu
    still runs to the end (its slow destroy-time provisioner prints as it goes) and saves its
    state, and mck exits 0 rather than 1 with a traceback and tofu killed by SIGPIPE."""
    project = tmp_path / "project"
    (project / "templates").mkdir(parents=True)
    (project / "templates" / "inventory.j2").write_text("")
    (project / "main.yml").write_text("---\n")
    (project / "main.tf").write_text(
        'resource "terraform_data" "slow" {\n'
        '  provisioner "local-exec" {\n'
        "    when    = destroy\n"
        '    command = "for i in 1 2 3; do echo tick; sleep 1; done"\n'
        "  }\n}\n"
    )
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "MCK_TOFU": TERRAFORM}
    for argv in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        subprocess.run([TERRAFORM, *argv], cwd=project, env=env, check=True, capture_output=True)
    mck = subprocess.Popen(
        [sys.executable, "-m", "mck", "-C", str(project), "--destroy", "--yes"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    assert mck.stdout is not None
    first = mck.stdout.readline()
    mck.stdout.close()  # as `head -1` does
    rc = mck.wait(timeout=120)
    assert first.startswith(b"==> preflight")
    state = json.loads((project / "terraform.tfstate").read_text())
    assert state["resources"] == []  # the destroy ran to its end and saved the state
    assert rc == 0
    log = "".join(p.read_text() for p in (project / ".mck" / "logs").glob("*.log"))
    assert "tick" in log and "Destroy complete!" in log and "Traceback" not in log
