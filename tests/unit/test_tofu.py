from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mck.errors import ToolError, UsageError
from mck.tofu import Plan, Tofu, find_binary
from mck.tofu_output import event_lines
from mck.tofu_output import first_error as _first_error

FIXTURES = Path(__file__).parent / "fixtures"


def _exe(path: Path) -> Path:
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_prefers_tofu_over_terraform(tmp_path: Path) -> None:
    _exe(tmp_path / "terraform")
    _exe(tmp_path / "tofu")
    assert find_binary({"PATH": str(tmp_path)}) == str(tmp_path / "tofu")


def test_falls_back_to_terraform(tmp_path: Path) -> None:
    _exe(tmp_path / "terraform")
    assert find_binary({"PATH": str(tmp_path)}) == str(tmp_path / "terraform")


def test_mck_tofu_overrides(tmp_path: Path) -> None:
    _exe(tmp_path / "tofu")
    other = _exe(tmp_path / "my-tofu")
    assert find_binary({"PATH": str(tmp_path), "MCK_TOFU": str(other)}) == str(other)


def test_missing_binary_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="install OpenTofu"):
        find_binary({"PATH": str(tmp_path)})


def test_bad_override_is_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="MCK_TOFU=nope"):
        find_binary({"PATH": str(tmp_path), "MCK_TOFU": "nope"})


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("init",), ["tofu", "init", "-input=false", "-no-color"]),
        (
            ("plan", "-out=p", "-detailed-exitcode"),
            ["tofu", "plan", "-input=false", "-no-color", "-out=p", "-detailed-exitcode"],
        ),
        (("apply", "p"), ["tofu", "apply", "-input=false", "-no-color", "p"]),
        (("show", "-json", "p"), ["tofu", "show", "-no-color", "-json", "p"]),
        (("state", "pull"), ["tofu", "state", "pull", "-no-color"]),
        (
            ("destroy", "-auto-approve"),
            ["tofu", "destroy", "-input=false", "-no-color", "-auto-approve"],
        ),
    ],
)
def test_argv(args: tuple[str, ...], expected: list[str]) -> None:
    assert Tofu("tofu", Path("."), {}).argv(*args) == expected


def test_color_keeps_colour_flags_off() -> None:
    assert Tofu("tofu", Path("."), {}, color=True).argv("init") == ["tofu", "init", "-input=false"]


def test_first_error_line_is_quoted() -> None:
    out = "\n".join(
        [
            "Planning...",
            "╷",
            "│ Error: No value for required variable",
            "│ ",
            '│   on providers.tf line 1: variable "do_token"',
            "╵",
        ]
    )
    assert _first_error(out) == "No value for required variable"


def test_failure_raises_tool_error_with_rc(tmp_path: Path) -> None:
    fake = tmp_path / "tofu"
    fake.write_text("#!/bin/sh\necho 'Error: boom happened' >&2\nexit 3\n")
    fake.chmod(0o755)
    tofu = Tofu(str(fake), tmp_path, dict(os.environ))
    with pytest.raises(ToolError) as caught:
        tofu.run(tofu.argv("apply", "x"))
    assert caught.value.rc == 3
    assert "tofu apply failed (exit 3): boom happened" in caught.value.message


def _fake_plan(tmp_path: Path, fixture: str) -> Path:
    """A tofu that prints recorded `plan -json` output (Terraform 1.11.4 on the lab) and exits
    with $RC, as `-detailed-exitcode` does."""
    fake = tmp_path / "tofu"
    fake.write_text(f'#!/bin/sh\ncat "{FIXTURES / fixture}"\nexit "$RC"\n')
    fake.chmod(0o755)
    return fake


def test_plan_reports_changes_by_exit_code_and_shows_each_event_as_a_line(tmp_path: Path) -> None:
    fake = _fake_plan(tmp_path, "plan_drift.jsonl")
    for rc, expected in (("0", False), ("2", True)):
        lines: list[str] = []
        tofu = Tofu(str(fake), tmp_path, {**os.environ, "RC": rc}, echo=lines.append)
        assert tofu.plan(tmp_path / "p").changes is expected
        # One line per event; no version banner, no second line per refreshed resource.
        assert lines == [
            "digitalocean_ssh_key.mck[0]: Refreshing state... [id=686516493]",
            "data.aws_ami.debian[0]: Refreshing...",
            "data.aws_ami.debian[0]: Refresh complete after 0s [id=ami-9f9d762258e9b94f1]",
            "digitalocean_droplet.node[0]: Drift detected (update)",
            "Plan: 0 to add, 0 to change, 0 to destroy.",
        ]
    tofu = Tofu(str(fake), tmp_path, {**os.environ, "RC": "1"}, echo=lines.append)
    with pytest.raises(ToolError):
        tofu.plan(tmp_path / "p")


def test_plan_names_what_refresh_found_changed(tmp_path: Path) -> None:
    # Terraform's human output for this same plan said "No changes" and exit code 0: only the
    # JSON events say that a droplet changed outside it.
    tofu = Tofu(str(_fake_plan(tmp_path, "plan_drift.jsonl")), tmp_path, {**os.environ, "RC": "0"})
    tofu.echo = lambda _line: None
    assert tofu.plan(tmp_path / "p") == Plan(
        changes=False, drifted=("digitalocean_droplet.node[0]",)
    )


def test_plan_without_drift_says_none(tmp_path: Path) -> None:
    quiet = tmp_path / "quiet.jsonl"
    quiet.write_text(
        "".join(
            line + "\n"
            for line in (FIXTURES / "plan_drift.jsonl").read_text().splitlines()
            if '"resource_drift"' not in line
        )
    )
    fake = tmp_path / "tofu"
    fake.write_text(f'#!/bin/sh\ncat "{quiet}"\n')
    fake.chmod(0o755)
    tofu = Tofu(str(fake), tmp_path, dict(os.environ), echo=lambda _line: None)
    assert tofu.plan(tmp_path / "p") == Plan(changes=False, drifted=())


@pytest.mark.parametrize(
    ("fixture", "message", "shown"),
    [
        (
            "plan_error.jsonl",
            "tofu plan failed (exit 1): Value for undeclared variable",
            ["Error: Value for undeclared variable", '  A variable named "nosuch" was assigned'],
        ),
        (
            "plan_invalid_hcl.jsonl",
            "tofu plan failed (exit 1): Invalid expression",
            ["Error: Invalid expression", "  on main.tf line 2", "  Expected the start of"],
        ),
    ],
)
def test_plan_error_is_quoted_from_its_diagnostic(
    tmp_path: Path, fixture: str, message: str, shown: list[str]
) -> None:
    lines: list[str] = []
    fake = _fake_plan(tmp_path, fixture)
    tofu = Tofu(str(fake), tmp_path, {**os.environ, "RC": "1"}, echo=lines.append)
    with pytest.raises(ToolError) as caught:
        tofu.plan(tmp_path / "p")
    assert caught.value.message == message
    # The diagnostic's lines, in order; stray lines that are not events (the invalid-HCL
    # recording has terraform's stderr warning in it) are shown as they came.
    start = next(i for i, line in enumerate(lines) if line == shown[0])
    for want, got in zip(shown, lines[start:], strict=False):
        assert got.startswith(want), lines


def test_events_that_say_nothing_new_are_not_shown() -> None:
    assert event_lines({"@message": "x", "type": "version"}) == []
    assert event_lines({"@message": "Plan: 1 to add", "type": "change_summary"}) == [
        "Plan: 1 to add"
    ]


def test_state_pull_reads_the_state_or_none(tmp_path: Path) -> None:
    fake = tmp_path / "tofu"
    fake.write_text('#!/bin/sh\nprintf "%s" "$OUT"\n')
    fake.chmod(0o755)
    for out, expected in (("", None), ('{"version": 4}', {"version": 4})):
        tofu = Tofu(str(fake), tmp_path, {**os.environ, "OUT": out})
        assert tofu.state_pull() == expected
    tofu = Tofu(str(fake), tmp_path, {**os.environ, "OUT": "oops"})
    with pytest.raises(ToolError, match="state pull printed something that is not JSON"):
        tofu.state_pull()


def test_checkpoint_is_disabled_for_every_run(tmp_path: Path) -> None:
    fake = tmp_path / "tofu"
    fake.write_text('#!/bin/sh\necho "CP=$CHECKPOINT_DISABLE"\n')
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "CHECKPOINT_DISABLE"}
    tofu = Tofu(str(fake), tmp_path, env)
    assert tofu.run([str(fake)]).stdout.strip() == "CP=1"
