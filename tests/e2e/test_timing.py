"""Real timings end to end (issue 11, issue 13 item 6): VMs whose sshd answers only after a
boot delay, with cloud-init still running after that, converge on the first run; joins wait
out the joiner's restart; a join whose leader certificate does not match the fingerprint is
refused, and mck says why.

The scenarios share one project and run in order. Lean: two nodes, then a third.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.harness import Project

pytestmark = pytest.mark.lab

# At least this much of the realistic timings, whatever MCK_LAB_TIME_SCALE says: every new VM
# then answers SSH 3-9 s after the cloud called it active (realistic: 15-45 s).
MIN_SCALE = 0.2
CERTS = "/var/snap/microk8s/current/certs"


@pytest.fixture(scope="module")
def project(make_project: Any, lab: Any) -> Iterator[Project]:
    before = lab.time_scale
    lab.time_scale = max(before, MIN_SCALE)
    try:
        yield make_project(digitalocean=1, linode=1)
    finally:
        lab.time_scale = before


def test_new_vms_with_a_boot_delay_converge_on_the_first_run(project: Project) -> None:
    run = project.mck()
    assert run.rc == 0, run.explain()
    vms = [project.lab.host(n) for n in ("mck-k8s-do-0", "mck-k8s-linode-0")]
    # The scenario is real: every VM came up after the apply returned, sshd later still.
    assert all(vm.ssh_delay >= 15 * MIN_SCALE for vm in vms)
    assert "==> boot: 2 new VMs: SSH, then cloud-init" in run.stderr
    assert "waiting for mck-k8s-do-0, mck-k8s-linode-0: SSH, then cloud-init" in run.stderr
    for vm in vms:
        assert vm.run(["cloud-init", "status"]).stdout == "status: done\n"
    assert "orphan node mck-k8s-linode-0 will join mck-k8s-do-0" in run.stderr
    # The joiner restarted every service and came back: the report says ready.
    assert re.search(r"mck-k8s-linode-0\s+linode\s+\S+\s+\S+\s+\w+\s+yes", run.stderr)


def test_a_no_op_converge_waits_for_nothing(project: Project) -> None:
    run = project.mck()
    assert run.rc == 0, run.explain()
    assert "==> boot" not in run.stderr and "orphan node" not in run.stderr


def test_a_leader_certificate_that_does_not_match_the_fingerprint_is_refused(
    project: Project,
) -> None:
    leader = project.lab.host("mck-k8s-do-0")
    # The file add-node fingerprints no longer is the certificate the cluster agent serves
    # (which it loaded when it started): to the joiner, the leader is not who it claims to be.
    leader.run(["cp", f"{CERTS}/server.crt", "/root/server.crt"])
    leader.run(["cp", f"{CERTS}/server.key", "/root/server.key"])
    leader.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=impostor", "-keyout", f"{CERTS}/server.key", "-out", f"{CERTS}/server.crt"]
    )  # fmt: skip
    project.set_counts(digitalocean=2, linode=1)
    refused = project.mck()
    # The refused join is that node's outcome (issue 14), named with microk8s' own reason.
    assert "error: mck-k8s-do-1 did not join mck-k8s-do-0: on mck-k8s-do-1" in refused.stderr
    assert (
        "microk8s join exited 4: Joining cluster failed. Could not verify the identity"
        in refused.stderr
    ), refused.explain()
    # The leader's API server serves the same swapped server.crt: kube-apiserver reloads its
    # serving certificate from the file (k8s.io/apiserver pkg/server/options/serving.go,
    # NewDynamicServingContentFromFiles), so the real kubectl on the leader refuses it and
    # Calico's cluster-wide step, which every node depends on, fails the run: exit 1.
    assert refused.rc == 1, refused.explain()
    assert "making Calico use the mesh interface failed on mck-k8s-do-0" in refused.stderr
    joiner = project.lab.host("mck-k8s-do-1")
    status = joiner.run(["/snap/bin/microk8s", "status", "--format", "yaml"]).stdout
    assert "127.0.0.1:19001" in status  # never joined

    leader.run(["cp", "/root/server.crt", f"{CERTS}/server.crt"])
    leader.run(["cp", "/root/server.key", f"{CERTS}/server.key"])
    joined = project.mck()
    assert joined.rc == 0, joined.explain()
    assert "orphan node mck-k8s-do-1 will join mck-k8s-do-0" in joined.stderr
