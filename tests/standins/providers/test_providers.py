"""The stand-in providers driven by real terraform, against a fake labd (no VMs, no root).

One project (testdata/main.tf: the HCL contract's shapes for all three clouds) goes through a
life cycle, test by test in file order: init offline from the mirror, apply, `show -json`, an
idempotent plan, in-place versus replacing changes, growing, a VM deleted behind terraform's
back, destroy. Empty credentials are checked in a project of their own.
Marked `lab` because it runs terraform (see DESIGN.md: always CHECKPOINT_DISABLE=1).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.standins.providers.fake_labd import FakeLabd
from tests.standins.providers.install import install

pytestmark = pytest.mark.lab

TESTDATA = Path(__file__).parent / "testdata"
TOKENS = {
    "TF_VAR_do_token": "lab-secret-do-7d1f",
    "TF_VAR_linode_token": "lab-secret-linode-22c9",
    "TF_VAR_aws_access": "lab-secret-access-0e4b",
    "TF_VAR_aws_secret": "lab-secret-secret-93aa",
}
ID = re.compile(r"^[1-9]\d*$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _terraform() -> str:
    found = os.environ.get("MCK_TOFU") or shutil.which("terraform") or shutil.which("tofu")
    if not found:
        pytest.fail("neither terraform nor tofu is on PATH (set MCK_TOFU to the binary)")
    return found


class Project:
    """A temp copy of testdata/main.tf, run with terraform against a fake labd."""

    def __init__(self, workdir: Path, cli_config: Path, labd: FakeLabd, pubkey: Path) -> None:
        self.path = workdir / "project"
        self.path.mkdir()
        shutil.copy(TESTDATA / "main.tf", self.path)  # never a .terraform.lock.hcl
        (workdir / "home").mkdir()
        self.pubkey = pubkey
        self.labd = labd
        self.env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(workdir / "home"),
            "CHECKPOINT_DISABLE": "1",  # terraform must never call its update server
            "TF_CLI_CONFIG_FILE": str(cli_config),
            "TF_DATA_DIR": str(self.path / ".terraform"),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "MCK_LAB_API": str(labd.socket),
            **TOKENS,
        }
        self.set_vars()

    def set_vars(self, **clouds: dict[str, Any]) -> None:
        """Variables in a tfvars file, as users (and mck's tests) change them (JSON objects are
        valid HCL object constructors)."""
        lines = [f'ssh_public_key_file = "{self.pubkey}"']
        lines += [f"{cloud} = {json.dumps(v)}" for cloud, v in sorted(clouds.items())]
        (self.path / "lab.auto.tfvars").write_text("\n".join(lines) + "\n")

    def tf(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [_terraform(), *args],
            cwd=self.path,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def ok(self, *args: str) -> subprocess.CompletedProcess[str]:
        run = self.tf(*args)
        assert run.returncode == 0, f"terraform {' '.join(args)}\n{run.stdout}\n{run.stderr}"
        return run

    def resources(self) -> dict[str, dict[str, Any]]:
        """address -> values, from `show -json` of the state."""
        shown = json.loads(self.ok("show", "-json").stdout)
        found = shown.get("values", {}).get("root_module", {}).get("resources", [])
        return {r["address"]: r["values"] for r in found}

    def planned(self) -> dict[str, list[str]]:
        """address -> actions of every change `plan` proposes (no-ops and reads left out)."""
        self.ok("plan", "-out=tfplan", "-no-color")
        shown = json.loads(self.ok("show", "-json", "tfplan").stdout)
        return {
            c["address"]: c["change"]["actions"]
            for c in shown.get("resource_changes", [])
            if c["change"]["actions"] not in (["no-op"], ["read"])
        }


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("providers")


@pytest.fixture(scope="module")
def cli_config(workdir: Path) -> Path:
    return install(workdir / "mirror")


@pytest.fixture(scope="module")
def user_key(workdir: Path) -> Path:
    key = workdir / "id_user"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "user@lab", "-f", str(key)],
        check=True,
    )
    return key.with_suffix(".pub")


@pytest.fixture(scope="module")
def labd(workdir: Path) -> Iterator[FakeLabd]:
    server = FakeLabd(workdir / "labd.sock")
    yield server
    server.close()


@pytest.fixture(scope="module")
def project(workdir: Path, cli_config: Path, labd: FakeLabd, user_key: Path) -> Project:
    return Project(workdir, cli_config, labd, user_key)


def _fingerprint(pubkey: Path, *hashing: str) -> str:
    out = subprocess.run(
        ["ssh-keygen", *hashing, "-l", "-f", str(pubkey)], capture_output=True, text=True
    )
    return out.stdout.split()[1].split(":", 1)[1]  # "256 MD5:ab:cd... comment (ED25519)"


def test_init_installs_the_stand_ins_from_the_mirror(project: Project) -> None:
    run = project.ok("init", "-no-color")
    for source in ("digitalocean/digitalocean v2.46.0", "linode/linode v2.31.0", "aws v5.80.0"):
        assert re.search(rf"Installed \S*{re.escape(source)}", run.stdout), run.stdout
    # the wrappers run this checkout's modules, whatever directory terraform runs in
    assert (project.path / ".terraform" / "providers" / "registry.terraform.io").is_dir()


def test_apply_creates_every_vm_with_the_contract_attributes(project: Project) -> None:
    project.set_vars(digitalocean={"nodes": 2}, linode={"nodes": 1}, aws={"nodes": 1})
    started = time.monotonic()
    project.ok("apply", "-auto-approve", "-no-color")
    print(f"\napply of 9 resources and 4 VMs took {time.monotonic() - started:.1f}s")
    hosts = {h.name: h for h in project.labd.lab.hosts()}
    assert sorted(hosts) == ["mck-k8s-aws-0", "mck-k8s-do-0", "mck-k8s-do-1", "mck-k8s-linode-0"]
    pubkey = project.pubkey.read_text().strip()
    assert all(h.ssh_keys == [pubkey] for h in hosts.values())
    r = project.resources()

    key = r["digitalocean_ssh_key.user"]
    assert ID.match(key["id"]) and key["fingerprint"] == _fingerprint(project.pubkey, "-E", "md5")
    for i in (0, 1):
        droplet = r[f"digitalocean_droplet.node[{i}]"]
        host = hosts[f"mck-k8s-do-{i}"]
        assert droplet["id"] == host.id and ID.match(droplet["id"])
        assert droplet["name"] == host.name
        assert droplet["urn"] == f"do:droplet:{host.id}"
        assert droplet["status"] == "active"
        assert droplet["ipv4_address"] == host.public_ip
        assert droplet["ipv4_address_private"] == host.private_ip
        assert droplet["ipv6"] is False and RFC3339.match(droplet["created_at"])
        assert droplet["ssh_keys"] == [key["fingerprint"]] and droplet["tags"] == ["mck"]

    assert ID.match(r["linode_sshkey.user"]["id"])
    assert RFC3339.match(r["linode_sshkey.user"]["created"])
    linode, host = r["linode_instance.node[0]"], hosts["mck-k8s-linode-0"]
    assert linode["id"] == host.id and linode["label"] == host.name
    assert linode["ip_address"] == host.public_ip
    assert linode["private_ip_address"] == host.private_ip
    assert sorted(linode["ipv4"]) == sorted([host.public_ip, host.private_ip])
    assert linode["status"] == "running" and linode["private_ip"] is True

    ami = r["data.aws_ami.debian"]
    assert ami["id"].startswith("ami-") and ami["image_id"] == ami["id"]
    assert ami["name"].startswith("debian-12-amd64-") and ami["architecture"] == "x86_64"
    pair = r["aws_key_pair.user"]
    assert pair["id"] == pair["key_name"] == "mck-k8s" and pair["key_pair_id"].startswith("key-")
    assert pair["fingerprint"].rstrip("=") == _fingerprint(project.pubkey)
    assert pair["arn"] == "arn:aws:ec2:us-east-1:123456789012:key-pair/mck-k8s"
    vpc, subnet = r["aws_default_vpc.default"], r["aws_default_subnet.a"]
    assert vpc["id"].startswith("vpc-") and vpc["cidr_block"] == "192.0.2.0/24"
    assert subnet["id"].startswith("subnet-") and subnet["vpc_id"] == vpc["id"]
    group = r["aws_default_security_group.default"]
    assert group["id"].startswith("sg-") and group["arn"].endswith(f"security-group/{group['id']}")
    assert {rule["from_port"] for rule in group["ingress"]} == {22, 51820}
    instance, host = r["aws_instance.node[0]"], hosts["mck-k8s-aws-0"]
    assert instance["id"] == host.id and instance["id"].startswith("i-")
    assert instance["public_ip"] == host.public_ip and instance["private_ip"] == host.private_ip
    assert instance["tags"] == {"Name": "mck-k8s-aws-0"}
    assert instance["tags_all"] == {"Name": "mck-k8s-aws-0", "Project": "mck"}
    assert instance["instance_state"] == "running"
    dashed = host.public_ip.replace(".", "-")
    assert instance["public_dns"] == f"ec2-{dashed}.compute-1.amazonaws.com"
    assert instance["private_dns"] == f"ip-{host.private_ip.replace('.', '-')}.ec2.internal"
    assert instance["subnet_id"] == subnet["id"]
    assert instance["vpc_security_group_ids"] == [group["id"]]


def test_a_second_plan_has_no_changes(project: Project) -> None:
    run = project.tf("plan", "-detailed-exitcode", "-no-color")
    assert run.returncode == 0, run.stdout + run.stderr


def test_size_changes_in_place_and_image_changes_replace(project: Project) -> None:
    project.set_vars(
        digitalocean={"nodes": 2, "size": "s-4vcpu-8gb"},
        linode={"nodes": 1, "type": "g6-standard-4"},
        aws={"nodes": 1, "instance_type": "t3.large"},
    )
    in_place = {a: ["update"] for a in ("linode_instance.node[0]", "aws_instance.node[0]")}
    droplets = {f"digitalocean_droplet.node[{i}]": ["update"] for i in (0, 1)}
    assert project.planned() == {**in_place, **droplets}
    project.set_vars(
        digitalocean={"nodes": 2, "image": "ubuntu-24-04-x64"}, linode={"nodes": 1}, aws={}
    )
    assert project.planned() == {a: ["delete", "create"] for a in droplets}
    project.set_vars(digitalocean={"nodes": 2}, linode={"nodes": 1}, aws={"nodes": 1})
    assert project.planned() == {}


def test_growing_the_count_creates_only_the_new_vm(project: Project) -> None:
    project.set_vars(digitalocean={"nodes": 3}, linode={"nodes": 1}, aws={"nodes": 1})
    before = {h.id for h in project.labd.lab.hosts()}
    assert project.planned() == {"digitalocean_droplet.node[2]": ["create"]}
    project.ok("apply", "-auto-approve", "-no-color", "tfplan")
    after = {h.id for h in project.labd.lab.hosts()}
    assert before < after and len(after - before) == 1
    assert project.labd.lab.deleted == []
    assert project.resources()["digitalocean_droplet.node[2]"]["name"] == "mck-k8s-do-2"


def test_a_vm_deleted_behind_terraforms_back_is_created_again(project: Project) -> None:
    lab = project.labd.lab
    gone = lab.host("mck-k8s-do-1")
    lab.delete_host(gone.id)
    lab.host("mck-k8s-do-0").status = "off"  # died under the cloud's feet: still an instance
    assert project.planned() == {"digitalocean_droplet.node[1]": ["create"]}
    project.ok("apply", "-auto-approve", "-no-color", "tfplan")
    again = lab.host("mck-k8s-do-1")
    assert again.id != gone.id
    state = project.resources()
    assert state["digitalocean_droplet.node[1]"]["id"] == again.id
    assert state["digitalocean_droplet.node[0]"]["status"] == "off"


def test_destroy_deletes_every_vm_and_key(project: Project) -> None:
    alive = {h.id for h in project.labd.lab.hosts()}
    project.ok("destroy", "-auto-approve", "-no-color")
    assert project.labd.lab.hosts() == []
    assert {c["id"] for c in project.labd.calls("delete_host")} >= alive
    for kind in ("digitalocean_ssh_key", "linode_sshkey", "aws_key_pair", "aws_instance"):
        assert project.labd.store.list(kind) == [], kind
    assert project.resources() == {}


def test_empty_credentials_fail_like_the_real_providers(
    tmp_path: Path, cli_config: Path, user_key: Path
) -> None:
    labd = FakeLabd(tmp_path / "labd.sock")
    try:
        project = Project(tmp_path, cli_config, labd, user_key)
        project.set_vars(digitalocean={"nodes": 0}, linode={"nodes": 0}, aws={"nodes": 0})
        project.ok("init", "-no-color")
        # AWS checks credentials when the provider is configured: nothing is planned at all.
        run = project.tf("plan", "-no-color", env={"TF_VAR_aws_access": ""})
        assert run.returncode == 1
        assert "Error: No valid credential sources found" in run.stderr
        assert labd.requests == []
        # DigitalOcean and Linode take any token until the API answers 401 to the first call.
        run = project.tf(
            "apply",
            "-auto-approve",
            "-no-color",
            env={"TF_VAR_do_token": "", "TF_VAR_linode_token": ""},
        )
        assert run.returncode == 1
        assert re.search(
            r"Error: Error creating SSH Key: POST https://api.digitalocean.com/v2/account/keys: "
            r'401 \(request "[0-9a-f-]+"\) Unable to authenticate you',
            run.stderr,
        ), run.stderr
        assert "Error: Failed to create SSH Key" in run.stderr
        assert "[401] Invalid Token" in run.stderr
        assert labd.store.list("digitalocean_ssh_key") == labd.store.list("linode_sshkey") == []
        assert not any(token in run.stdout + run.stderr for token in TOKENS.values())
        project.ok("destroy", "-auto-approve", "-no-color")
    finally:
        labd.close()
