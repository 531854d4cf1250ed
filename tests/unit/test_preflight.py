from __future__ import annotations

from pathlib import Path

import pytest

from mck.errors import UsageError
from mck.preflight import cluster_name, preflight, read_config

PROVIDERS = """
variable "do_token" {
  type      = string
  sensitive = true
}
variable "linode_token" {
  type      = string
  sensitive = true
}
variable "aws_access" {
  type      = string
  sensitive = true
}
variable "aws_secret" {
  type      = string
  sensitive = true
}
variable "cluster_name" {
  type    = string
  default = "mck-k8s"
}
provider "digitalocean" {
  token = var.do_token
}
provider "linode" {
  token = var.linode_token
}
provider "aws" {
  region     = "us-east-1"
  access_key = var.aws_access
  secret_key = var.aws_secret
}
"""

DO_ONLY = """
resource "digitalocean_droplet" "node" {
  count = 2
  name  = "mck-k8s-do-${count.index}"
}
"""


def _project(tmp_path: Path, *tf: str) -> Path:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "inventory.j2").write_text("")
    (tmp_path / "main.yml").write_text("---\n")
    (tmp_path / "providers.tf").write_text(PROVIDERS)
    for i, text in enumerate(tf):
        (tmp_path / f"r{i}.tf").write_text(text)
    return tmp_path


def test_only_used_providers_need_tokens(tmp_path: Path) -> None:
    project = _project(tmp_path, DO_ONLY)
    with pytest.raises(UsageError) as caught:
        preflight(project, {})
    assert caught.value.message == (
        "missing credentials for digitalocean: export TF_VAR_do_token=… "
        "(or remove that provider's resources from the .tf files)"
    )
    preflight(project, {"TF_VAR_do_token": "x"})


def test_every_missing_token_is_named_at_once(tmp_path: Path) -> None:
    aws = 'data "aws_ami" "debian" {\n  most_recent = true\n}\n'
    project = _project(tmp_path, DO_ONLY, aws)
    with pytest.raises(UsageError) as caught:
        preflight(project, {"TF_VAR_aws_access": "a"})
    assert "aws, digitalocean" in caught.value.message
    assert "TF_VAR_aws_secret=… TF_VAR_do_token=…" in caught.value.message
    assert "TF_VAR_aws_access" not in caught.value.message


def test_tfvars_file_counts_as_a_value(tmp_path: Path) -> None:
    project = _project(tmp_path, DO_ONLY)
    (project / "secrets.auto.tfvars").write_text('do_token = "t"\n')
    preflight(project, {})


def test_resources_in_local_child_modules_count(tmp_path: Path) -> None:
    project = _project(tmp_path, 'module "lin" {\n  source = "./modules/lin"\n}\n')
    (project / "modules" / "lin").mkdir(parents=True)
    (project / "modules" / "lin" / "main.tf").write_text(
        'resource "linode_instance" "n" {\n  label = "a"\n}\n'
    )
    assert read_config(project).providers_used == {"linode"}
    with pytest.raises(UsageError, match="TF_VAR_linode_token"):
        preflight(project, {})


def test_not_a_project(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"not an mck project \(no \*\.tf files, main\.yml"):
        preflight(tmp_path, {})


def test_hcl_syntax_error_names_the_file(tmp_path: Path) -> None:
    project = _project(tmp_path, 'resource "digitalocean_droplet" "x" {\n  name = \n')
    with pytest.raises(UsageError, match=r"cannot parse r0\.tf"):
        preflight(project, {})


def test_cluster_name_precedence(tmp_path: Path) -> None:
    project = _project(tmp_path, DO_ONLY)
    config = read_config(project)
    assert cluster_name(project, config, {}) == "mck-k8s"
    (project / "terraform.tfvars").write_text('cluster_name = "prod"\n')
    assert cluster_name(project, config, {}) == "prod"
    assert cluster_name(project, config, {"TF_VAR_cluster_name": "env"}) == "env"
