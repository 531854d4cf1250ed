"""`mck kubeconfig` end to end: a two-node cluster with the API open (`public_api = true`), the
kubeconfig mck writes, and the user's own kubectl (the real one, /usr/bin/kubectl, which verifies
the server certificate against the kubeconfig's CA *with* address checking and presents the
client certificate) run from the controller namespace: the user's machine. One project for the
file.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from mck import mesh
from tests.e2e.harness import Project, Run

pytestmark = pytest.mark.lab

KUBECTL = "/usr/bin/kubectl"
NAMES = ["mck-k8s-do-0", "mck-k8s-do-1"]
# An address on the lab internet no VM has: added to a node for one test, it reaches the real
# API server but is not among the certificate's SANs.
STRAY_IP = "198.51.100.250"


@pytest.fixture(scope="module")
def project(make_project: Any) -> Project:
    project: Project = make_project(digitalocean=2, linode=0)
    project.set_counts(variables={"public_api": "true"}, digitalocean=2, linode=0)
    run = project.mck()
    assert run.rc == 0, run.explain()
    return project


def _kubectl(project: Project, *args: str) -> Run:
    return project.run([KUBECTL, *args], timeout=60)


def _home(project: Project) -> Path:
    return Path(project.env["HOME"])


def test_kubeconfig_lets_the_users_kubectl_list_every_node_ready(project: Project) -> None:
    run = project.mck("kubeconfig")
    assert run.rc == 0, run.explain()
    path = project.path / "kubeconfig"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = yaml.safe_load(path.read_text())
    assert doc["current-context"] == "mck-k8s"
    server = doc["clusters"][0]["cluster"]["server"]
    ips = {project.lab.host(n).public_ip for n in NAMES}
    assert re.fullmatch(r"https://([\d.]+):16443", server), server
    assert server.split("//")[1].split(":")[0] in ips
    assert "public_api" not in run.stderr  # the port is open: nothing to warn about
    # No secret in mck's output: the client key is only in the file.
    key = doc["users"][0]["user"]["client-key-data"]
    assert key and key not in run.output

    listed = _kubectl(project, "--kubeconfig", str(path), "get", "nodes")
    assert listed.rc == 0, listed.explain()
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert [(r.split()[0], r.split()[1]) for r in lines[1:]] == [(n, "Ready") for n in NAMES]
    # -o wide: every node's InternalIP is its mesh address (mck's --node-ip).
    wide = _kubectl(project, "--kubeconfig", str(path), "get", "nodes", "-o", "wide")
    assert wide.rc == 0, wide.explain()
    rows = [r.split() for r in wide.stdout.splitlines()]
    assert rows[0][:6] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP"]
    mesh_ips = mesh.previous_from_inventory(project.inventory())
    assert [(r[0], r[1], r[5]) for r in rows[1:]] == [(n, "Ready", mesh_ips[n]) for n in NAMES]


def test_an_address_the_certificate_does_not_cover_is_refused(project: Project) -> None:
    path = project.path / "kubeconfig"
    doc = yaml.safe_load(path.read_text())
    server = doc["clusters"][0]["cluster"]["server"]
    node = next(h for h in project.lab.hosts() if h.public_ip in server)
    # The same API server, reached on an address its certificate does not list.
    added = node.run(["ip", "addr", "add", f"{STRAY_IP}/24", "dev", "eth0"])
    assert added.returncode == 0, added.stderr
    try:
        doc["clusters"][0]["cluster"]["server"] = f"https://{STRAY_IP}:16443"
        stray = project.path.parent / "stray-kubeconfig"
        stray.write_text(yaml.safe_dump(doc))
        refused = _kubectl(project, "--kubeconfig", str(stray), "get", "nodes")
        assert refused.rc == 1, refused.explain()
        # Go's crypto/x509 HostnameError, as real kubectl prints it.
        assert "x509: certificate is valid for" in refused.stderr, refused.explain()
        assert f"not {STRAY_IP}" in refused.stderr
        # mck itself refuses to write such a server.
        run = project.mck("kubeconfig", "-o", "-", "--server", f"https://{STRAY_IP}:16443")
        assert run.rc == 3, run.explain()
        assert f"does not cover {STRAY_IP}" in run.stderr
        assert run.stdout == ""
    finally:
        node.run(["ip", "addr", "del", f"{STRAY_IP}/24", "dev", "eth0"], check=False)


def test_merge_keeps_the_users_other_context(project: Project) -> None:
    config = _home(project) / ".kube" / "config"
    config.parent.mkdir(parents=True, exist_ok=True)
    other = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "work", "cluster": {"server": "https://192.0.2.200:6443"}}],
        "users": [{"name": "me", "user": {"token": "work-token"}}],
        "contexts": [{"name": "work", "context": {"cluster": "work", "user": "me"}}],
        "current-context": "work",
    }
    config.write_text(yaml.safe_dump(other))
    run = project.mck("kubeconfig", "--merge")
    assert run.rc == 0, run.explain()
    doc = yaml.safe_load(config.read_text())
    assert [c["name"] for c in doc["contexts"]] == ["work", "mck-k8s"]
    assert doc["users"][0] == other["users"][0]
    assert doc["current-context"] == "work"
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o600
    # kubectl's default file, the cluster's context by name.
    listed = _kubectl(project, "--context", "mck-k8s", "get", "nodes", "--no-headers")
    assert listed.rc == 0, listed.explain()
    assert [r.split()[0] for r in listed.stdout.splitlines()] == NAMES


def test_destroy_removes_the_kubeconfig_mck_wrote(project: Project) -> None:
    run = project.mck("--destroy", "--yes")
    assert run.rc == 0, run.explain()
    assert "removed inventory, kubeconfig and .mck/" in run.stderr
    assert not (project.path / "kubeconfig").exists()
