"""microk8s settings on running nodes, and failure domains per cloud, end to end.

One project, steps in order: 2 DigitalOcean + 1 Linode + 1 AWS converge, and the three voters
sit on three clouds (join order alone would put two on DigitalOcean); then the AWS node's mesh
settings are taken away on the running node (as on a node installed by hand: no --node-ip, no
--advertise-address, no Calico interface, microk8s' shipped certificate template, the default
failure domain) and mck brings every one of them back, restarting what reads them (the
cluster keeps its three voters, though a restarted voter may lose its vote); a second
converge changes nothing. Calico's address autodetection (the calico-node DaemonSet, cluster
state) is set to wg0 by the first converge and not set again afterwards.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from mck import mesh
from tests.e2e.harness import Project, recap

pytestmark = pytest.mark.lab

NAMES = ["mck-k8s-aws-0", "mck-k8s-do-0", "mck-k8s-do-1", "mck-k8s-linode-0"]
CLOUD = {"mck-k8s-aws-0": "aws", "mck-k8s-linode-0": "linode"}
DATA = "/var/snap/microk8s/current"
AWS = "mck-k8s-aws-0"
MICROK8S = "/snap/bin/microk8s"


@pytest.fixture(scope="module")
def project(make_project: Any) -> Project:
    project: Project = make_project(digitalocean=2, linode=1, aws=1)
    return project


def _voter_clouds(project: Project) -> list[str]:
    by_ip = {ip: name for name, ip in mesh.previous_from_inventory(project.inventory()).items()}
    status = project.lab.host("mck-k8s-do-0").run([MICROK8S, "status", "--format", "yaml"]).stdout
    members = re.findall(r"address: ([\d.]+):19001\s+role: (\w+)", status)
    assert len(members) == 4, status
    voters = [by_ip[ip] for ip, role in members if role == "voter"]
    return sorted(CLOUD.get(name, "digitalocean") for name in voters)


def _internal_ip(project: Project, node: str) -> str:
    out = project.lab.host("mck-k8s-do-0").run(
        [MICROK8S, "kubectl", "get", "nodes", node, "-o", "wide", "--no-headers"]
    )
    return out.stdout.split()[5]


def _sans(project: Project, node: str) -> str:
    cert = f"{DATA}/certs/server.crt"
    argv = ["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", cert]
    return project.lab.host(node).run(argv).stdout


def _calico_node(project: Project, node: str) -> tuple[list[str], str]:
    """calico-node's IP_AUTODETECTION_METHOD values and the DaemonSet's generation, as a
    member reads them."""
    argv = [MICROK8S, "kubectl", "get", "daemonset", "calico-node", "-n", "kube-system"]
    obj = json.loads(project.lab.host(node).run([*argv, "-o", "json"]).stdout)
    containers = obj["spec"]["template"]["spec"]["containers"]
    env = [v for c in containers if c["name"] == "calico-node" for v in c.get("env", [])]
    methods = [v.get("value", "") for v in env if v["name"] == "IP_AUTODETECTION_METHOD"]
    return methods, str(obj["metadata"]["generation"])


def _eventually_internal_ip(project: Project, node: str, want: str) -> str:
    deadline = time.monotonic() + 20
    while (got := _internal_ip(project, node)) != want and time.monotonic() < deadline:
        time.sleep(0.5)
    return got


def test_voters_land_on_three_clouds(project: Project) -> None:
    run = project.mck()
    assert run.rc == 0, run.explain()
    deadline = time.monotonic() + 20  # the leader re-balances as members report their domains
    while _voter_clouds(project) != ["aws", "digitalocean", "linode"]:
        assert time.monotonic() < deadline, _voter_clouds(project)
        time.sleep(0.5)
    for name in NAMES:
        domain = {"digitalocean": 1, "linode": 2, "aws": 3}[CLOUD.get(name, "digitalocean")]
        ha_conf = project.lab.host(name).read_file(f"{DATA}/args/ha-conf")
        assert ha_conf == f"failure-domain={domain}\n", (name, ha_conf)
    # Set once, through the leader, on the cluster's DaemonSet: every member reads it.
    methods, generation = _calico_node(project, "mck-k8s-linode-0")
    assert (methods, generation) == (["interface=wg0"], "2"), (methods, generation)


def test_settings_taken_away_on_a_running_node_are_reconciled(project: Project) -> None:
    host = project.lab.host(AWS)
    mesh_ip = mesh.previous_from_inventory(project.inventory())[AWS]
    # What a node installed by hand, without mck's launch configuration, runs with.
    host.run(["sed", "-i", "/^--node-ip/d", f"{DATA}/args/kubelet"])
    host.run(["sed", "-i", "/^--advertise-address/d", f"{DATA}/args/kube-apiserver"])
    host.run(["sed", "-i", "/^IP_AUTODETECTION_METHOD/d", f"{DATA}/args/cni-env"])
    host.run(["sed", "-i", "s/^failure-domain=.*/failure-domain=1/", f"{DATA}/args/ha-conf"])
    host.run(["cp", "/snap/microk8s/current/certs/csr.conf.template", f"{DATA}/certs/"])
    host.run([MICROK8S, "refresh-certs", "--cert", "server.crt"], timeout=60)  # restarts too
    host.run([MICROK8S, "status", "--wait-ready", "--timeout", "60"], timeout=90)
    assert _eventually_internal_ip(project, AWS, host.private_ip) == host.private_ip
    # And Calico's autodetection put back to microk8s' default, cluster-wide, on another node.
    reset = ["-c", "calico-node", "IP_AUTODETECTION_METHOD=first-found"]
    project.lab.host("mck-k8s-do-1").run(
        [MICROK8S, "kubectl", "set", "env", "-n", "kube-system", "daemonset/calico-node", *reset]
    )
    assert _calico_node(project, "mck-k8s-do-0") == (["first-found"], "3")
    assert f"IP Address:{host.public_ip}" not in _sans(project, AWS)  # NAT: not on the VM

    run = project.mck()
    assert run.rc == 0, run.explain()
    counts = recap(run.stderr)
    assert counts[AWS]["changed"] > 0, counts
    assert all(counts[n]["changed"] == 0 for n in NAMES if n != AWS), counts
    assert f"--node-ip={mesh_ip}\n" in host.read_file(f"{DATA}/args/kubelet")
    assert f"--advertise-address={mesh_ip}\n" in host.read_file(f"{DATA}/args/kube-apiserver")
    cni_env = host.read_file(f"{DATA}/args/cni-env")
    assert "IP_AUTODETECTION_METHOD=interface=wg0\n" in cni_env
    assert host.read_file(f"{DATA}/args/ha-conf") == "failure-domain=3\n"
    sans = _sans(project, AWS)
    assert f"IP Address:{mesh_ip}" in sans and f"IP Address:{host.public_ip}" in sans, sans
    assert _eventually_internal_ip(project, AWS, mesh_ip) == mesh_ip
    # Three voters still, so quorum held. Which nodes: go-dqlite's leader demotes a voter it finds
    # offline at a role adjustment (app/roles.go, Adjust), and the AWS node's datastore restarted
    # twice here (by hand above, then for its failure domain), so its vote may have gone to the
    # stand-by for good, as on real microk8s; mck status names the voters' clouds either way.
    assert len(_voter_clouds(project)) == 3
    # The configure run's read saw first-found, so the leader set wg0 again.
    assert "making Calico use the mesh interface (wg0)" in run.stderr
    assert _calico_node(project, "mck-k8s-linode-0") == (["interface=wg0"], "4")


def test_second_converge_changes_nothing(project: Project) -> None:
    run = project.mck()
    assert run.rc == 0, run.explain()
    counts = recap(run.stderr)
    assert set(counts) == set(NAMES), run.stderr
    assert all(c["changed"] == 0 for c in counts.values()), counts
    # Read at the end of the configure run and found in place: no ansible run to set it, and
    # not set again (`kubectl set env` that changes the template bumps the generation).
    assert "making Calico use the mesh interface" not in run.stderr
    assert _calico_node(project, "mck-k8s-do-1") == (["interface=wg0"], "4")
