"""Refuse before harm: a `.tfvars` file OpenTofu would half-ignore, or cannot read, is one
error line naming the file and the fix, exit 2, no traceback, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mck.cli import main

TF = """
variable "digitalocean" {
  default = { nodes = 1 }
}
variable "cluster_name" {
  default = "mck-k8s"
}
"""


def _project(path: Path) -> Path:
    (path / "templates").mkdir(parents=True)
    (path / "templates" / "inventory.j2").write_text("")
    (path / "main.yml").write_text("---\n")
    (path / "instances.tf").write_text(TF)
    return path


def _refusal(project: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["-C", str(project), *args], env={"MCK_TOFU": "/bin/false"})
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("==> preflight"), result.output
    assert not (project / ".mck").exists()  # nothing written
    return lines[1]


@pytest.mark.parametrize("command", [(), ("plan",)])
def test_a_typo_in_a_tfvars_names_the_nearest_declared_variable(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    project = _project(tmp_path)
    (project / "terraform.tfvars").write_text("digitalcoean = { nodes = 2 }\n")
    line = _refusal(project, *command)
    assert line == (
        "error: terraform.tfvars sets 'digitalcoean', which no variable block declares "
        "(did you mean 'digitalocean'?): fix the name, or OpenTofu ignores the value and "
        "uses the defaults"
    )


def test_an_undeclared_json_variable_without_a_near_name_lists_the_declared_ones(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path)
    (project / "x.auto.tfvars.json").write_text('{"zzz": 1}')
    line = _refusal(project)
    assert "x.auto.tfvars.json sets 'zzz'" in line
    assert "declared ones are cluster_name, digitalocean" in line


def test_a_tfvars_json_that_is_not_an_object_is_one_line(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "terraform.tfvars.json").write_text('["digitalocean"]')
    line = _refusal(project)
    assert line.startswith("error: terraform.tfvars.json holds a JSON list, not an object")


def test_a_tfvars_json_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "terraform.tfvars.json").write_bytes(b'{"cluster_name": "caf\xe9"}')
    line = _refusal(project)
    assert line.startswith("error: terraform.tfvars.json is not UTF-8 text (byte ")


def test_a_tfvars_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "terraform.tfvars").write_bytes(b'cluster_name = "caf\xe9"\n')
    assert _refusal(project).startswith("error: cannot parse terraform.tfvars: ")
