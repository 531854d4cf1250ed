from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mck.errors import ToolError, UsageError
from mck.tofu import Tofu, _first_error, find_binary


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


def test_plan_reports_changes_by_exit_code(tmp_path: Path) -> None:
    fake = tmp_path / "tofu"
    fake.write_text('#!/bin/sh\necho planning\nexit "$RC"\n')
    fake.chmod(0o755)
    lines: list[str] = []
    for rc, expected in (("0", False), ("2", True)):
        tofu = Tofu(str(fake), tmp_path, {**os.environ, "RC": rc}, echo=lines.append)
        assert tofu.plan(tmp_path / "p") is expected
    assert lines == ["planning", "planning"]
    tofu = Tofu(str(fake), tmp_path, {**os.environ, "RC": "1"}, echo=lines.append)
    with pytest.raises(ToolError):
        tofu.plan(tmp_path / "p")


def test_checkpoint_is_disabled_for_every_run(tmp_path: Path) -> None:
    fake = tmp_path / "tofu"
    fake.write_text('#!/bin/sh\necho "CP=$CHECKPOINT_DISABLE"\n')
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "CHECKPOINT_DISABLE"}
    tofu = Tofu(str(fake), tmp_path, env)
    assert tofu.run([str(fake)]).stdout.strip() == "CP=1"
