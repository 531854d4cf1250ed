"""What a run shows and what it logs: plain lines without a terminal, the live line and colour
with one, the debug log (redacted, timed, pruned, absent after bad input), and the ansible
events turned into per-task progress."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from mck import debuglog
from mck.cli import main
from mck.debuglog import DebugLog, credential_values, for_run
from mck.progress import PlayProgress
from mck.report import Ui


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _project(path: Path, tf: str = 'variable "x" {\n  default = 1\n}\n') -> Path:
    (path / "templates").mkdir(parents=True)
    (path / "templates" / "inventory.j2").write_text("")
    (path / "main.yml").write_text("---\n")
    (path / "a.tf").write_text(tf)
    return path


def test_credentials_are_the_provider_variables_and_anything_named_like_one() -> None:
    env = {
        "TF_VAR_do_token": "d0-secret",
        "TF_VAR_aws_access": "AKIAEXAMPLE",
        "TF_VAR_weird": "provider-var-value",
        "TF_VAR_encryption": "mesh",
        "TF_VAR_empty_token": "",
        "HOME": "/root",
    }
    assert sorted(credential_values(env, {"weird"})) == [
        "AKIAEXAMPLE",
        "d0-secret",
        "provider-var-value",
    ]


def test_the_log_is_redacted_buffered_until_persisted_and_private(tmp_path: Path) -> None:
    log = DebugLog(tmp_path / "logs", "converge", ["s3cr3t-token"])
    log.add_secrets(["join-token-0123", ""])
    log.write("token s3cr3t-token and join-token-0123 here")
    assert not (tmp_path / "logs").exists()  # nothing on disk before the run gets going
    log.persist()
    log.write("after")
    log.close()
    assert re.fullmatch(r"\d{8}T\d{6}Z-converge\.log", log.path.name)
    assert log.path.read_text() == "token ******** and ******** here\nafter\n"
    assert log.path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "logs").stat().st_mode & 0o077 == 0


def test_a_dropped_log_leaves_nothing(tmp_path: Path) -> None:
    log = DebugLog(tmp_path / "logs", "status")
    log.write("error: bad input")
    log.close(keep=False)
    assert not (tmp_path / "logs").exists() and not log.on_disk


def test_old_logs_are_pruned_to_the_newest(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    for i in range(debuglog.KEEP + 5):
        (logs / f"20260101T0000{i:02d}Z-converge.log").write_text("old\n")
    log = DebugLog(logs, "converge")
    log.close()
    kept = sorted(p.name for p in logs.iterdir())
    assert len(kept) == debuglog.KEEP and log.path.name in kept
    assert kept[0] == "20260101T000006Z-converge.log"  # the six oldest went


def test_two_runs_in_the_same_second_get_two_logs(tmp_path: Path) -> None:
    first, second = DebugLog(tmp_path, "status"), DebugLog(tmp_path, "status")
    first.close()
    second.close()
    assert first.path != second.path and first.path.exists() and second.path.exists()


def test_no_log_outside_a_project(tmp_path: Path) -> None:
    assert for_run(tmp_path, "converge", {}) is None
    assert list(tmp_path.iterdir()) == []


def test_plain_output_has_no_escape_codes_and_the_log_has_phase_timings(tmp_path: Path) -> None:
    stream = io.StringIO()
    log = DebugLog(tmp_path, "converge")
    ui = Ui(stream, log=log)
    ui.phase("preflight", "/p")
    ui.status("working on node-1")  # the live line: nothing without a terminal
    ui.debug("$ tofu plan")
    ui.phase("plan")
    ui.warn("careful")
    path = ui.close(1)
    assert stream.getvalue() == "==> preflight: /p\n==> plan\nwarning: careful\n"
    text = Path(str(path)).read_text()
    assert re.search(r"^phase preflight start\n==> preflight: /p\n\$ tofu plan\n", text, re.M)
    assert re.search(r"^phase preflight done \d+\.\d\ds\n", text, re.M)
    assert re.search(r"^phase plan done \d+\.\d\ds\nexit 1\n\Z", text, re.M)


def test_bad_input_in_preflight_keeps_no_log_but_a_later_failure_does(tmp_path: Path) -> None:
    ui = Ui(io.StringIO(), log=DebugLog(tmp_path / "a", "converge"))
    ui.phase("preflight")
    assert ui.close(2) is None and not (tmp_path / "a").exists()
    ui = Ui(io.StringIO(), log=DebugLog(tmp_path / "b", "converge"))
    ui.phase("preflight")
    ui.phase("plan")  # past preflight: the log is on disk from here on
    assert (tmp_path / "b").is_dir()
    assert ui.close(2) is not None


def test_a_terminal_gets_colour_and_one_live_line() -> None:
    stream = Tty()
    ui = Ui(stream)
    ui.phase("configure")
    ui.status("[configure] common : Set hostname · node-1")
    ui.status("[configure] common : Set hostname · node-2")
    ui.say("done")
    out = stream.getvalue()
    assert out.startswith("\033[1m==> configure\033[0m\n")
    assert "\r\033[K[configure] common : Set hostname · node-2" in out
    assert out.endswith("\r\033[Kdone\n")  # the live line is cleared before a line is written


def _events(*specs: tuple[str, str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"event": kind, "event_data": {"host": host, **data}} for kind, host, data in specs]


TASK = ("playbook_on_task_start", "", {"task": "Set hostname", "role": "common"})
RUN = [
    TASK,
    ("runner_on_start", "n1", {"task": "Set hostname"}),
    ("runner_on_start", "n2", {"task": "Set hostname"}),
    ("runner_on_ok", "n1", {"res": {"changed": True}}),
    ("runner_on_failed", "n2", {"res": {"msg": "boom"}}),
    ("playbook_on_task_start", "", {"task": "Check"}),
    ("runner_on_ok", "n1", {"res": {"changed": False}}),
    ("runner_on_failed", "n2", {"res": {}, "ignore_errors": True}),
    ("playbook_on_task_start", "", {"task": "Optional"}),
    ("runner_on_skipped", "n1", {}),
    ("playbook_on_stats", "", {}),
]


def test_progress_without_a_terminal_is_one_line_per_task() -> None:
    stream = io.StringIO()
    ui = Ui(stream)
    ui.phase("configure")
    progress = PlayProgress(ui)
    for event in _events(*RUN):
        progress(event)
    assert stream.getvalue().splitlines()[1:] == [
        "  [configure] common : Set hostname: failed on n2; changed on n1",
        "  [configure] Check: ok",
        "  [configure] Optional: skipped",
    ]


def test_progress_on_a_terminal_names_the_nodes_at_work_and_keeps_only_changes() -> None:
    stream = Tty()
    ui = Ui(stream)
    ui.phase("configure")
    progress = PlayProgress(ui)
    for event in _events(*RUN[:3]):
        progress(event)
    assert stream.getvalue().endswith("\r\033[K[configure] common : Set hostname · n1, n2")
    for event in _events(*RUN[3:]):
        progress(event)
    lines = [line.split("\r\033[K")[-1] for line in stream.getvalue().split("\n")]
    assert "  [configure] common : Set hostname: failed on n2; changed on n1" in lines
    assert not [line for line in lines if line.startswith("  [configure] Check")]


def test_a_failed_run_names_its_log_and_the_log_has_the_command(tmp_path: Path) -> None:
    """Real tofu, offline: no provider to fetch, a variable value it rejects at plan."""
    project = _project(tmp_path / "p", 'variable "n" {\n  type = number\n}\n')
    env = {**os.environ, "TF_VAR_n": "not-a-number"}
    env.pop("MCK_TOFU", None)
    result = CliRunner().invoke(main, ["-C", str(project)], env=env)
    assert result.exit_code == 1, result.output
    last = result.output.strip().splitlines()[-1]
    match = re.fullmatch(r"details: (\S+/\.mck/logs/\d{8}T\d{6}Z-converge\.log)", last)
    assert match, result.output
    text = (project / ".mck" / "logs" / Path(match.group(1)).name).read_text()
    assert re.search(r"^\$ \S+ plan -input=false -lock=false -no-color ", text, re.M), text
    assert "error: " in text and text.rstrip().endswith("exit 1")


def test_status_progress_is_only_the_live_line() -> None:
    stream = io.StringIO()
    progress = PlayProgress(Ui(stream), task_lines=False)
    for event in _events(*RUN):
        progress(event)
    assert stream.getvalue() == ""


def test_a_long_wait_names_each_node_as_it_finishes_and_those_still_waited_on() -> None:
    stream = io.StringIO()
    ui = Ui(stream)
    ui.phase("configure")
    now = [0.0]
    progress = PlayProgress(ui, clock=lambda: now[0])
    wait = "microk8s : Wait until microk8s is ready"
    events = _events(
        ("playbook_on_task_start", "", {"task": wait.split(" : ")[1], "role": "microk8s"}),
        ("runner_on_start", "n1", {}),
        ("runner_on_start", "n2", {}),
        ("runner_on_start", "n3", {}),
    )
    for event in events:
        progress(event)
    now[0] = 5.0  # a quick node is no news
    progress(_events(("runner_on_ok", "n1", {"res": {}}))[0])
    now[0] = 41.0
    progress(_events(("runner_on_ok", "n2", {"res": {}}))[0])
    now[0] = 90.0
    progress(_events(("runner_on_failed", "n3", {"res": {}}))[0])
    assert stream.getvalue().splitlines()[1:] == [
        f"  [configure] {wait}: n2 ok after 41 s; still waiting on n3",
        f"  [configure] {wait}: n3 failed after 90 s",
    ]
