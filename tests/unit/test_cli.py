"""The command line's contract for bad input: one line naming the problem and the fix, a
non-zero exit, and nothing touched."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mck.cli import main
from mck.phases.context import Settings


def _run(*args: str, env: dict[str, str] | None = None, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), env=env, input=input)


def test_not_a_project_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = _run("-C", str(tmp_path))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("error: ")
    assert "is not an mck project" in lines[-1] and "pass -C DIR" in lines[-1]
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_destroy_without_terminal_or_yes_is_refused(tmp_path: Path) -> None:
    result = _run("-C", str(tmp_path), "--destroy")
    assert result.exit_code == 2
    assert "error: refusing to destroy without confirmation" in result.output
    assert "pass --yes" in result.output


def test_missing_binary_is_reported_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "inventory.j2").write_text("")
    (tmp_path / "main.yml").write_text("---\n")
    (tmp_path / "a.tf").write_text('variable "x" {\n  default = 1\n}\n')
    result = _run("-C", str(tmp_path), env={"PATH": str(tmp_path), "MCK_TOFU": ""})
    assert result.exit_code == 2
    assert "neither tofu nor terraform is on PATH: install OpenTofu" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tf", "main.yml", "templates"]


def test_version() -> None:
    result = _run("--version")
    assert result.exit_code == 0 and "mck, version" in result.output


def test_python3_mck_from_the_repo_root_works() -> None:
    """`python3 mck` (the original tool's invocation) runs the package directory as a script."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    for argv in ([sys.executable, "mck", "--version"], [sys.executable, "-m", "mck", "--version"]):
        proc = subprocess.run(argv, cwd=repo, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("mck, version ")


def test_plan_on_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    result = _run("-C", str(tmp_path), "plan")
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith("error: ")
    assert list(tmp_path.iterdir()) == []


def test_ready_timeout_is_an_option_with_an_env_var_and_must_be_positive(tmp_path: Path) -> None:
    refused = CliRunner().invoke(main, ["-C", str(tmp_path), "--ready-timeout", "0"])
    assert refused.exit_code == 2 and "--ready-timeout" in refused.output
    from_env = CliRunner().invoke(main, ["-C", str(tmp_path)], env={"MCK_READY_TIMEOUT": "x"})
    assert from_env.exit_code == 2 and "'x' is not a valid integer" in from_env.output


def test_drain_timeout_reaches_the_settings_and_zero_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # kubectl drain reads --timeout=0 as "wait forever" (kubernetes/kubectl pkg/drain/drain.go).
    refused = CliRunner().invoke(main, ["-C", str(tmp_path), "--drain-timeout", "0"])
    assert refused.exit_code == 2 and "--drain-timeout" in refused.output
    seen: list[Settings] = []
    monkeypatch.setattr("mck.converge.converge", lambda settings, ui: seen.append(settings))
    given = CliRunner().invoke(main, ["-C", str(tmp_path), "--drain-timeout", "7"])
    from_env = CliRunner().invoke(main, ["-C", str(tmp_path)], env={"MCK_DRAIN_TIMEOUT": "9"})
    default = CliRunner().invoke(main, ["-C", str(tmp_path)])
    assert (given.exit_code, from_env.exit_code, default.exit_code) == (0, 0, 0), given.output
    assert [s.drain_timeout for s in seen] == [7, 9, 120]


def test_upgrade_before_a_converge_is_one_line_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    assert _run("-C", str(tmp_path), "upgrade").exit_code == 2  # not a project
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "inventory.j2").write_text("")
    (tmp_path / "main.yml").write_text("---\n")
    (tmp_path / "a.tf").write_text('variable "x" {\n  default = 1\n}\n')
    result = _run("-C", str(tmp_path), "upgrade")
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        f"error: {tmp_path.resolve()} has no inventory yet: run mck to converge first"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tf", "main.yml", "templates"]
