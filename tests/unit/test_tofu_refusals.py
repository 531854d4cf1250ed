"""OpenTofu errors that are bad input become exit 2 naming the cause, with real terraform:
a failed variable validation names the variable and the rule; a corrupt state is called
corrupt (terraform says "Error acquiring the state lock") and nothing is changed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TERRAFORM = shutil.which("terraform") or "/usr/local/bin/terraform"
pytestmark = pytest.mark.skipif(not Path(TERRAFORM).exists(), reason="needs terraform")

TF = """
variable "cluster_name" {
  type    = string
  default = "mck-k8s"
  validation {
    condition     = length(var.cluster_name) < 12
    error_message = "cluster_name must be shorter than 12 characters."
  }
}
resource "terraform_data" "name" {
  input = var.cluster_name
}
"""


def _project(path: Path) -> Path:
    (path / "templates").mkdir(parents=True)
    (path / "templates" / "inventory.j2").write_text("")
    (path / "main.yml").write_text("---\n")
    (path / "instances.tf").write_text(TF)
    return path


def _mck(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mck", "-C", str(project), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "CHECKPOINT_DISABLE": "1", "MCK_TOFU": TERRAFORM, **env},
    )


@pytest.mark.parametrize("command", [(), ("plan",)])
def test_a_failed_validation_is_exit_2_naming_the_variable_and_the_rule(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    project = _project(tmp_path)
    proc = _mck(project, *command, TF_VAR_cluster_name="a-much-too-long-name")
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: variable cluster_name is invalid: cluster_name must be shorter than 12 "
        "characters. (the rule at instances.tf:5,3-13); fix TF_VAR_cluster_name, a .tfvars "
        "file or its default"
    ]
    assert "Traceback" not in proc.stderr
    assert not (project / "terraform.tfstate").exists()


def test_a_corrupt_state_is_called_corrupt_and_left_as_it_is(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "terraform.tfstate").write_text('{"version": 4, "resources": [')
    before = (project / "terraform.tfstate").read_bytes()
    for command in ((), ("plan",)):
        proc = _mck(project, *command)
        assert proc.returncode == 2, proc.stderr
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and errors[0].startswith(
            "error: the OpenTofu state is corrupt ("
        ), proc.stderr
        assert "restore terraform.tfstate" in errors[0]
        assert "state lock" not in errors[0]
    assert (project / "terraform.tfstate").read_bytes() == before
