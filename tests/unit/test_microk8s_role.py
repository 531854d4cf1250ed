"""The microk8s role's reconcile step on a running node, run by ansible itself.

`tasks/reconcile.yml` runs against localhost with the snap's data directory pointed at a
temporary one laid out like microk8s' (args files, certs/csr.conf.template, dqlite's
info.yaml). `snap` and `microk8s` are recording scripts here: this checks what the role
decides to write and restart; the lab test (tests/e2e/test_reconcile.py) checks the effect on
a node. Also the filters that parse the node's settings.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MESH_IP, PUBLIC_IP, PRIVATE_IP = "10.77.0.4", "203.0.113.10", "192.0.2.10"

_spec = importlib.util.spec_from_file_location(
    "microk8s_settings", REPO / "roles/microk8s/filter_plugins/microk8s_settings.py"
)
assert _spec and _spec.loader
settings: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(settings)

TEMPLATE_HEAD = "[ req ]\nprompt = no\n\n[ alt_names ]\n"
SHIPPED_ALT = (
    "DNS.1 = kubernetes\nDNS.2 = kubernetes.default\nDNS.3 = kubernetes.default.svc\n"
    "DNS.4 = kubernetes.default.svc.cluster\nDNS.5 = kubernetes.default.svc.cluster.local\n"
    "IP.1 = 127.0.0.1\nIP.2 = 10.152.183.1\n#MOREIPS\n\n[ v3_ext ]\nsubjectAltName=@alt_names\n"
)
KUBELET = "--kubeconfig=${SNAP_DATA}/credentials/kubelet.config\n--read-only-port=0\n"
APISERVER = "--cert-dir=${SNAP_DATA}/certs\n--secure-port=16443\n"
CNI_ENV = "# Choose CNI to deploy.\nCNI=calico\n\nIPv4_SUPPORT=true\n"
RECORDER = '#!/bin/sh\necho "$(basename "$0") $*" >> "$CALLS"\n'


def test_grep_output_parses_into_settings() -> None:
    out = (
        f"/d/args/kubelet:--node-ip={MESH_IP}\n"
        '/d/args/kubelet:--node-labels="a=b"\n'
        f"/d/args/kube-apiserver:--advertise-address {MESH_IP}\n"
        "/d/args/cni-env:IP_AUTODETECTION_METHOD=interface=wg0\n"
        "/d/args/ha-conf:failure-domain=3\n"
        "/d/certs/csr.conf.template:DNS.0 = kubernetes\n"
        f"/d/certs/csr.conf.template:IP.2 = {PUBLIC_IP}\n"
        f"/d/certs/csr.conf.template:IP.3 = {MESH_IP}\n"
        "/d/certs/csr.conf.template:subjectAltName = @alt_names\n"
        f"/d/var/kubernetes/backend/info.yaml:Address: {PUBLIC_IP}:19001\n"
        "/d/var/kubernetes/backend/info.yaml:ID: 1\n"
    )
    current = settings.microk8s_current(out)
    assert current["args"]["kubelet"] == {"--node-ip": MESH_IP, "--node-labels": "a=b"}
    assert current["args"]["kube-apiserver"] == {"--advertise-address": MESH_IP}
    assert current["args"]["cni-env"] == {"IP_AUTODETECTION_METHOD": "interface=wg0"}
    assert current["sans"] == [PUBLIC_IP, MESH_IP]
    assert settings.microk8s_dqlite_host(current["dqlite_address"]) == PUBLIC_IP
    wanted = {"kubelet": {"--node-ip": MESH_IP}, "ha-conf": {"failure-domain": 1}}
    assert settings.microk8s_arg_changes(current["args"], wanted) == [
        {"file": "ha-conf", "key": "failure-domain", "value": "1"}
    ]
    assert not settings.microk8s_sans_differ(current["sans"], [MESH_IP, PUBLIC_IP, "127.0.0.1"])
    assert settings.microk8s_sans_differ(current["sans"], [MESH_IP])
    assert settings.microk8s_dqlite_host("[fd00::1]:19001") == "fd00::1"
    assert settings.microk8s_split_sans(["api.example.com", MESH_IP])["ips"][-1] == MESH_IP


@pytest.fixture
def node(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    for sub in ("args", "certs", "var/kubernetes/backend", "bin"):
        (data / sub).mkdir(parents=True)
    (data / "args/kubelet").write_text(KUBELET)
    (data / "args/kube-apiserver").write_text(APISERVER)
    (data / "args/cni-env").write_text(CNI_ENV)
    (data / "args/ha-conf").write_text("failure-domain=1\n")
    (data / "certs/csr.conf.template").write_text(TEMPLATE_HEAD + SHIPPED_ALT)
    (data / "var/kubernetes/backend/info.yaml").write_text("Address: 127.0.0.1:19001\nID: 1\n")
    for name in ("snap", "microk8s"):
        (data / "bin" / name).write_text(RECORDER)
        (data / "bin" / name).chmod(0o755)
    return data


def _converge(
    data: Path, dqlite: str | None = None
) -> tuple[subprocess.CompletedProcess[str], str]:
    if dqlite is not None:
        (data / "var/kubernetes/backend/info.yaml").write_text(f"Address: {dqlite}\nID: 1\n")
    playbook = data.parent / "play.yml"
    playbook.write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.import_role:\n        name: microk8s\n"
        "        tasks_from: reconcile\n"
    )
    extra = {
        "microk8s_snap_data": str(data),
        "microk8s_bin": str(data / "bin/microk8s"),
        "mck_cloud": "aws",
        "mck_public_ip": PUBLIC_IP,
        "mck_private_ip": PRIVATE_IP,
        "microk8s_extra_sans": [MESH_IP],
        "microk8s_extra_kubelet_args": {"--node-ip": MESH_IP},
        "microk8s_extra_apiserver_args": {"--advertise-address": MESH_IP},
        "microk8s_extra_cni_env": {"IP_AUTODETECTION_METHOD": "interface=wg0"},
        "microk8s_cluster_address": MESH_IP,
        "ansible_python_interpreter": sys.executable,
    }
    calls = data.parent / "calls"
    calls.unlink(missing_ok=True)
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", str(playbook), "-e", repr(extra)],
        cwd=REPO,
        env={
            **os.environ,
            "PATH": f"{data / 'bin'}{os.pathsep}{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_ROLES_PATH": str(REPO / "roles"),
            "ANSIBLE_LOCAL_TEMP": str(data.parent / "ansible-tmp"),
            "ANSIBLE_HOME": str(data.parent / "ansible-home"),
            "ANSIBLE_FORCE_COLOR": "0",
            "CALLS": str(calls),
        },
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    return proc, calls.read_text() if calls.exists() else ""


def _changed(proc: subprocess.CompletedProcess[str]) -> int:
    line = next(x for x in proc.stdout.splitlines() if x.startswith("localhost"))
    return int(line.split("changed=")[1].split()[0])


def test_drift_is_written_and_only_the_readers_restart(node: Path) -> None:
    proc, calls = _converge(node)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert calls.splitlines() == [
        "microk8s refresh-certs --cert server.crt",
        "snap restart microk8s.daemon-kubelite",
        "snap restart microk8s.daemon-k8s-dqlite",
    ]
    assert (node / "args/kubelet").read_text() == KUBELET + f"--node-ip={MESH_IP}\n"
    assert (node / "args/kube-apiserver").read_text() == (
        APISERVER + f"--advertise-address={MESH_IP}\n"
    )
    assert (node / "args/cni-env").read_text().endswith("IP_AUTODETECTION_METHOD=interface=wg0\n")
    assert (node / "args/ha-conf").read_text() == "failure-domain=3\n"  # aws
    template = (node / "certs/csr.conf.template").read_text()
    assert f"IP.2 = {PUBLIC_IP}\nIP.3 = {PRIVATE_IP}\nIP.4 = {MESH_IP}\n#MOREIPS" in template
    assert "DNS.0 = kubernetes\n" in template and "subjectAltName=@alt_names" in template

    again, calls = _converge(node)
    assert again.returncode == 0, again.stdout + again.stderr
    assert _changed(again) == 0 and calls == ""

    # Only the kubelet's argument differs: only kubelite restarts.
    (node / "args/kubelet").write_text(KUBELET + "--node-ip=198.51.100.9\n")
    proc, calls = _converge(node)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert calls.splitlines() == ["snap restart microk8s.daemon-kubelite"]
    assert (node / "args/kubelet").read_text() == KUBELET + f"--node-ip={MESH_IP}\n"


def test_a_node_clustered_elsewhere_is_refused_and_left_alone(node: Path) -> None:
    info = node / "var/kubernetes/backend/info.yaml"
    info.write_text(f"Address: {PUBLIC_IP}:19001\nID: 1\n")
    before = {p: p.read_text() for p in node.rglob("*") if p.is_file()}
    proc, calls = _converge(node)
    assert proc.returncode != 0
    assert (
        f"localhost: microk8s' datastore is clustered on {PUBLIC_IP}, not on {MESH_IP}, and a"
        " clustered node's datastore address cannot change: remove the node from the cluster"
    ) in proc.stdout, proc.stdout
    assert calls == ""
    assert {p: p.read_text() for p in node.rglob("*") if p.is_file()} == before
    # A node already on its mesh address, or not clustered yet, is fine.
    info.write_text(f"Address: {MESH_IP}:19001\nID: 1\n")
    assert _converge(node)[0].returncode == 0
