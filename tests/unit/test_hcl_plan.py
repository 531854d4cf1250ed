"""The shipped HCL against real clouds' rules: real terraform plans and applies the project's own
`.tf` files against the stand-in providers and a fake labd (no root, no VMs; issue 13).

- DigitalOcean: an account that already holds the user's key (under another name) is used as it
  is; mck uploads the key only when it is missing, and never deletes a key it did not upload.
- AWS: mck's own security group, named after the cluster; the VPC's default group is untouched.
- A new key file replaces no VM on any cloud.
- AWS nodes get a root volume of `aws.disk_gb` (30 GiB), grown in place later.
- A cluster made with the HCL before these changes (tests/e2e/testdata/hcl-v1) moves to this
  one without replacing a VM: its instance changes security group in place.
Marked `lab` because it runs terraform, like tests/standins/providers/test_providers.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.standins.providers.aws_common import default_vpc_id
from tests.standins.providers.digitalocean_keys import account_key
from tests.standins.providers.fake_labd import FakeLabd
from tests.standins.providers.install import install

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
HCL_V1 = REPO / "tests" / "e2e" / "testdata" / "hcl-v1"
VMS = ("digitalocean_droplet", "linode_instance", "aws_instance")
TOKENS = {
    "TF_VAR_do_token": "lab-do",
    "TF_VAR_linode_token": "lab-linode",
    "TF_VAR_aws_access": "lab-access",
    "TF_VAR_aws_secret": "lab-secret",
}


def _keygen(path: Path) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
        check=True,
    )
    return path.with_suffix(".pub")


class Project:
    """The shipped `.tf` files (or another set) in a temp dir, run by terraform on a fake labd."""

    def __init__(self, path: Path, cli_config: Path, labd: FakeLabd, hcl: Path = REPO) -> None:
        self.path = path
        self.labd = labd
        self.use_hcl(hcl)
        (path / "home").mkdir()
        self.pubkey = _keygen(path / "id_user")
        self.env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(path / "home"),
            "CHECKPOINT_DISABLE": "1",
            "TF_CLI_CONFIG_FILE": str(cli_config),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "MCK_LAB_API": str(labd.socket),
            **TOKENS,
        }

    def use_hcl(self, source: Path) -> None:
        """Put `source`'s `.tf` files in place of the project's (never a lock file)."""
        for old in self.path.glob("*.tf"):
            old.unlink()
        for tf in source.glob("*.tf"):
            shutil.copy(tf, self.path / tf.name)

    def set_vars(self, **clouds: dict[str, Any]) -> None:
        lines = [f'ssh_public_key_file = "{self.pubkey}"']
        lines += [f"{cloud} = {json.dumps(v)}" for cloud, v in sorted(clouds.items())]
        (self.path / "test.auto.tfvars").write_text("\n".join(lines) + "\n")

    def tf(self, *args: str) -> subprocess.CompletedProcess[str]:
        terraform = os.environ.get("MCK_TOFU") or shutil.which("terraform") or "tofu"
        return subprocess.run(
            [terraform, *args, "-no-color"],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def ok(self, *args: str) -> str:
        run = self.tf(*args)
        assert run.returncode == 0, f"terraform {' '.join(args)}\n{run.stdout}\n{run.stderr}"
        return run.stdout

    def apply(self) -> None:
        self.ok("init")
        self.ok("apply", "-auto-approve")

    def plan(self) -> dict[str, Any]:
        """address -> change of every resource whose plan is not a no-op or a read."""
        self.ok("plan", "-out=tfplan")
        shown = json.loads(self.ok("show", "-json", "tfplan"))
        return {
            c["address"]: c["change"]
            for c in shown.get("resource_changes", [])
            if c["change"]["actions"] not in (["no-op"], ["read"])
        }

    def resources(self) -> dict[str, dict[str, Any]]:
        shown = json.loads(self.ok("show", "-json"))
        found = shown.get("values", {}).get("root_module", {}).get("resources", [])
        return {r["address"]: r["values"] for r in found}


@pytest.fixture(scope="module")
def cli_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install(tmp_path_factory.mktemp("mirror"))


@pytest.fixture
def labd(tmp_path: Path) -> Iterator[FakeLabd]:
    server = FakeLabd(tmp_path / "labd.sock")
    yield server
    server.close()


@pytest.fixture
def project(tmp_path: Path, cli_config: Path, labd: FakeLabd) -> Iterator[Project]:
    (tmp_path / "project").mkdir()
    made = Project(tmp_path / "project", cli_config, labd)
    yield made
    if (made.path / "terraform.tfstate").exists():
        made.tf("destroy", "-auto-approve")  # the fake labd goes with the test anyway


def _vm_changes(changes: dict[str, Any]) -> dict[str, list[str]]:
    return {a: c["actions"] for a, c in changes.items() if a.split(".")[0] in VMS}


def test_a_key_already_in_the_digitalocean_account_is_used_and_kept(project: Project) -> None:
    pubkey = project.pubkey.read_text().strip()
    store = project.labd.store
    # Uploaded by hand before, under a name of the user's, with another comment.
    laptop = store.put("digitalocean_ssh_key", account_key("laptop", pubkey + "-laptop"))
    project.set_vars(digitalocean={"nodes": 1}, linode={"nodes": 0}, aws={"nodes": 0})
    project.apply()  # today's HCL: 422 SSH Key is already in use on your account
    state = project.resources()
    assert "digitalocean_ssh_key.mck[0]" not in state
    assert state["digitalocean_droplet.node[0]"]["ssh_keys"] == [laptop["fingerprint"]]
    assert project.labd.lab.host("mck-k8s-do-0").ssh_keys == [laptop["public_key"]]
    assert project.plan() == {}
    project.ok("destroy", "-auto-approve")
    assert store.list("digitalocean_ssh_key") == [laptop]  # not mck's to delete


def test_a_missing_digitalocean_key_is_uploaded_and_deleted_with_the_cluster(
    project: Project,
) -> None:
    store = project.labd.store
    other = _keygen(project.path / "id_other").read_text().strip()
    store.put("digitalocean_ssh_key", account_key("mck-k8s", other))  # same name, other key
    project.set_vars(digitalocean={"nodes": 1}, linode={"nodes": 0}, aws={"nodes": 0})
    project.apply()
    mine = project.resources()["digitalocean_ssh_key.mck[0]"]
    assert mine["public_key"] == project.pubkey.read_text().strip()
    assert project.plan() == {}  # its own key, found by the lookup, is not "someone else's"
    project.ok("destroy", "-auto-approve")
    assert [k["public_key"] for k in store.list("digitalocean_ssh_key")] == [other]


def test_aws_nodes_get_a_security_group_of_their_own(project: Project) -> None:
    store = project.labd.store
    project.set_vars(digitalocean={"nodes": 0}, linode={"nodes": 0}, aws={"nodes": 1})
    project.apply()
    state = project.resources()
    assert not [a for a in state if a.startswith("aws_default_security_group")]
    group = state["aws_security_group.mck[0]"]
    assert group["name"] == "mck-k8s" and group["id"].startswith("sg-")
    assert {r["from_port"] for r in group["ingress"]} == {0, 22, 51820}
    assert state["aws_instance.node[0]"]["vpc_security_group_ids"] == [group["id"]]
    # The VPC's default group was never adopted: the account's own rules on it are as they were.
    groups = store.list("aws_security_group")
    assert [g["name"] for g in groups] == ["mck-k8s"]
    project.ok("destroy", "-auto-approve")
    assert store.list("aws_security_group") == []


def test_a_second_cluster_in_the_account_is_refused_a_duplicate_group_name(
    project: Project,
) -> None:
    project.labd.store.put(
        "aws_security_group",
        {"cloud_id": "sg-0123456789abcdef0", "name": "mck-k8s", "region": "eu-central-1",
         "vpc_id": default_vpc_id("eu-central-1"), "description": "x", "ingress": [],
         "egress": [],
         "tags": {}},
    )  # fmt: skip
    project.set_vars(digitalocean={"nodes": 0}, linode={"nodes": 0}, aws={"nodes": 1})
    project.ok("init")
    run = project.tf("apply", "-auto-approve")
    assert run.returncode == 1
    assert "InvalidGroup.Duplicate: The security group 'mck-k8s' already exists" in run.stderr


def test_a_new_key_file_replaces_no_vm(project: Project) -> None:
    project.set_vars(digitalocean={"nodes": 1}, linode={"nodes": 1}, aws={"nodes": 1})
    project.apply()
    project.pubkey = _keygen(project.path / "id_rotated")
    project.set_vars(digitalocean={"nodes": 1}, linode={"nodes": 1}, aws={"nodes": 1})
    changes = project.plan()
    assert _vm_changes(changes) == {}  # today's HCL: all three ["delete", "create"]
    # The keys themselves are replaced (a key's material cannot change in place).
    assert {a for a, c in changes.items() if "create" in c["actions"]} == {
        "digitalocean_ssh_key.mck[0]",
        "linode_sshkey.mck[0]",
        "aws_key_pair.mck[0]",
    }
    project.ok("apply", "-auto-approve", "tfplan")
    assert project.plan() == {}


def test_aws_root_volume_is_sized_and_grows_in_place(project: Project) -> None:
    project.set_vars(digitalocean={"nodes": 0}, linode={"nodes": 0}, aws={"nodes": 1})
    project.apply()
    instance = project.resources()["aws_instance.node[0]"]
    assert instance["root_block_device"][0]["volume_size"] == 30  # today: the AMI's 8 GiB
    (record,) = project.labd.store.list("aws_instance")
    assert record["root_gib"] == 30
    project.set_vars(
        digitalocean={"nodes": 0}, linode={"nodes": 0}, aws={"nodes": 1, "disk_gb": 40}
    )
    assert _vm_changes(project.plan()) == {"aws_instance.node[0]": ["update"]}
    project.ok("apply", "-auto-approve", "tfplan")
    (record,) = project.labd.store.list("aws_instance")
    assert record["root_gib"] == 40
    project.set_vars(digitalocean={"nodes": 0}, linode={"nodes": 0}, aws={"nodes": 1, "disk_gb": 4})
    run = project.tf("plan")
    assert run.returncode == 1 and "aws.disk_gb must be a whole number of GiB" in run.stderr


def test_a_cluster_made_with_the_old_hcl_moves_over_without_replacing_a_vm(
    project: Project,
) -> None:
    project.use_hcl(HCL_V1)
    project.set_vars(digitalocean={"nodes": 1}, linode={"nodes": 1}, aws={"nodes": 1})
    project.apply()
    old = project.resources()
    assert "aws_default_security_group.default[0]" in old
    project.use_hcl(REPO)
    changes = project.plan()
    assert _vm_changes(changes) == {"aws_instance.node[0]": ["update"]}
    update = changes["aws_instance.node[0]"]
    group = "aws_security_group.mck[0]"
    assert changes[group]["actions"] == ["create"]
    assert update["before"]["vpc_security_group_ids"] == [
        old["aws_default_security_group.default[0]"]["id"]
    ]
    assert changes["aws_default_security_group.default[0]"]["actions"] == ["forget"]
    project.ok("apply", "-auto-approve", "tfplan")
    new = project.resources()
    for address in ("digitalocean_droplet.node[0]", "linode_instance.node[0]"):
        assert new[address]["id"] == old[address]["id"]
    assert new["aws_instance.node[0]"]["id"] == old["aws_instance.node[0]"]["id"]
    assert new["aws_instance.node[0]"]["vpc_security_group_ids"] == [new[group]["id"]]
    assert project.plan() == {}
