"""The shipped HCL as real cloud accounts meet it (issue 13), on the lab.

One cluster for the first three tests, in order: made with the HCL of before (it adopted the
VPC's default security group; tests/e2e/testdata/hcl-v1) → `mck plan` with today's HCL shows
the move to mck's own security group and no VM replaced → `mck` moves it, keeping every VM →
a new key file: no VM replaced, the common role authorizes the new key and removes the old one
once the new one has logged in. Then a DigitalOcean account that already holds the user's key.
Lean on purpose: one DigitalOcean and one AWS node.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest

from tests.e2e.harness import REPO, Project, recap
from tests.standins.providers.digitalocean_keys import account_key

pytestmark = pytest.mark.lab

HCL_V1 = REPO / "tests" / "e2e" / "testdata" / "hcl-v1"
NODES = ("mck-k8s-do-0", "mck-k8s-aws-0")


@pytest.fixture(scope="module")
def project(make_project: Any) -> Project:
    project: Project = make_project(digitalocean=1, aws=1, linode=0)
    return project


def _use_hcl(project: Project, source: Any) -> None:
    for tf in source.glob("*.tf"):
        shutil.copy(tf, project.path / tf.name)


def _ids(project: Project) -> dict[str, str]:
    resources = project.state()["values"]["root_module"]["resources"]
    return {r["address"]: r["values"]["id"] for r in resources if r["mode"] == "managed"}


def _authorized(project: Project, node: str) -> str:
    user_home = "/home/admin" if "aws" in node else "/root"
    return project.lab.host(node).run(["cat", f"{user_home}/.ssh/authorized_keys"]).stdout


def test_plan_shows_the_move_to_mcks_own_security_group_and_no_vm_replaced(
    project: Project,
) -> None:
    _use_hcl(project, HCL_V1)
    run = project.mck()
    assert run.rc == 0, run.explain()
    before = _ids(project)
    assert "aws_default_security_group.default[0]" in before

    _use_hcl(project, REPO)
    run = project.mck("plan")
    assert run.rc == 0, run.explain()
    assert "  (no node changes)" in run.stderr, run.stderr
    assert "aws_security_group.mck[0] will be created" in run.stderr
    assert "aws_instance.node[0] will be updated in-place" in run.stderr
    assert "vpc_security_group_ids" in run.stderr
    assert "aws_default_security_group.default[0] will no longer be managed" in run.stderr
    assert "must be replaced" not in run.stderr
    assert _ids(project) == before  # a plan changes nothing


def test_the_converge_moves_the_group_in_place(project: Project) -> None:
    before = _ids(project)
    run = project.mck()
    assert run.rc == 0, run.explain()
    after = _ids(project)
    for vm in ("digitalocean_droplet.node[0]", "aws_instance.node[0]"):
        assert after[vm] == before[vm]
    resources = {
        r["address"]: r["values"] for r in project.state()["values"]["root_module"]["resources"]
    }
    group = resources["aws_security_group.mck[0]"]
    assert resources["aws_instance.node[0]"]["vpc_security_group_ids"] == [group["id"]]
    assert "aws_default_security_group.default[0]" not in resources
    # Let go of, not touched: the default group keeps the rules it had (as AWS does).
    (default,) = [g for g in project.lab.store.list("aws_security_group") if "name" not in g]
    assert {r["from_port"] for r in default["ingress"]} == {0, 22, 51820}
    assert sorted(h.name for h in project.lab.hosts() if h.name in NODES) == sorted(NODES)


def test_a_new_key_replaces_no_vm_and_the_old_key_goes_once_the_new_one_logs_in(
    project: Project,
) -> None:
    old = project.lab.ssh_pubkey.split()[1]
    for node in NODES:
        assert old in _authorized(project, node)
    new_key = project.path.parent / "id_rotated"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "rotated", "-f", str(new_key)],
        check=True,
    )
    new = new_key.with_suffix(".pub").read_text().split()[1]
    project.pubkey = new_key.with_suffix(".pub")
    project.set_counts(digitalocean=1, aws=1, linode=0)
    before = _ids(project)

    run = project.mck("plan")
    assert run.rc == 0, run.explain()
    assert "  (no node changes)" in run.stderr, run.stderr

    # mck still logs in with the old key (ANSIBLE_PRIVATE_KEY_FILE): the new one is added,
    # it logs in by itself (its private key is next to the .pub), so the old one goes.
    run = project.mck()
    assert run.rc == 0, run.explain()
    after = _ids(project)
    for vm in ("digitalocean_droplet.node[0]", "aws_instance.node[0]"):
        assert after[vm] == before[vm]
    for node in NODES:
        keys = _authorized(project, node)
        assert new in keys and old not in keys, keys

    # From now on only the new key logs in, and nothing is left to change.
    project.env["ANSIBLE_PRIVATE_KEY_FILE"] = str(new_key)
    run = project.mck()
    assert run.rc == 0, run.explain()
    assert all(c["changed"] == 0 for h, c in recap(run.stderr).items() if h in NODES), run.stderr
    assert project.mck("--destroy", "--yes").rc == 0


def test_a_digitalocean_account_that_already_has_the_key(make_project: Any) -> None:
    project: Project = make_project(digitalocean=1, linode=0)
    laptop = project.lab.store.put(
        "digitalocean_ssh_key", account_key("laptop", project.lab.ssh_pubkey + " laptop")
    )
    try:
        run = project.mck()  # today's HCL: 422 SSH Key is already in use on your account
        assert run.rc == 0, run.explain()
        assert "digitalocean_ssh_key.mck[0]" not in _ids(project)
        assert project.mck("--destroy", "--yes").rc == 0
        assert laptop in project.lab.store.list("digitalocean_ssh_key")  # not mck's to delete
    finally:  # the lab's account is shared by the session's tests: leave it as it was
        project.lab.store.delete("digitalocean_ssh_key", laptop["id"])
