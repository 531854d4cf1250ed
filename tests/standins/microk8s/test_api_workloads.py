"""The real kubectl's workload verbs against the stand-in's API server (apitest.py): the
fresh cluster's workloads, drain's client-side refusals and evictions, PodDisruptionBudgets
through the eviction subresource, and the PATCH forms mck sends. No root; about 20 s."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from apitest import MemoryBackend, kubeconfig, kubectl, node, serve
from mk8s import certs
from mk8s import kubeconfig as admin_config

LONELY = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "lonely", "namespace": "default"},
    "spec": {"nodeName": "node-a", "containers": [{"name": "c", "image": "busybox"}]},
}


@pytest.fixture(scope="module")
def snap_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("snap_data")
    mp = pytest.MonkeyPatch()
    mp.setenv("SNAP_DATA", str(path))
    certs.make_ca()
    certs.write_csr_template([])
    certs.make_server_cert([])
    admin_config.write_client_config()
    yield path
    mp.undo()


@pytest.fixture
def config(snap_data: Path, tmp_path: Path) -> Iterator[Path]:
    backend = MemoryBackend([node("node-a", "10.77.0.1"), node("node-b", "10.77.0.2")], ["dns"])
    server = serve(backend)
    yield kubeconfig(tmp_path, server.server_address[1])
    server.shutdown()
    server.server_close()


def _create(config: Path, obj: dict[str, object]) -> None:
    path = config.parent / "obj.json"
    path.write_text(json.dumps(obj))
    run = kubectl(config, "create", "--validate=false", "-f", str(path))
    assert run.returncode == 0, run.stderr


def _pods(config: Path) -> dict[str, str]:
    """pod name -> node name, every namespace."""
    run = kubectl(config, "get", "pods", "-A", "-o", "json")
    return {p["metadata"]["name"]: p["spec"]["nodeName"] for p in json.loads(run.stdout)["items"]}


def test_a_fresh_cluster_runs_calico_and_coredns(config: Path) -> None:
    pods = _pods(config)
    calico = [name for name in pods if name.startswith("calico-node-")]
    assert sorted(pods[name] for name in calico) == ["node-a", "node-b"]
    assert any(name.startswith("calico-kube-controllers-") for name in pods)
    assert any(name.startswith("coredns-") for name in pods)
    run = kubectl(config, "get", "deploy", "-n", "kube-system", "--no-headers")
    assert sorted(line.split()[:2] for line in run.stdout.splitlines()) == [
        ["calico-kube-controllers", "1/1"],
        ["coredns", "1/1"],
    ]
    owner = json.loads(kubectl(config, "get", "pods", "-n", "kube-system", "-o", "json").stdout)
    kinds = {p["metadata"]["ownerReferences"][0]["kind"] for p in owner["items"]}
    assert kinds == {"DaemonSet", "ReplicaSet"}


def test_drain_refuses_unmanaged_pods_and_evicts_replicated_ones(config: Path) -> None:
    _create(config, LONELY)
    run = kubectl(config, "drain", "node-a", "--ignore-daemonsets", "--timeout=20s")
    assert run.returncode == 1
    assert "cannot delete Pods that declare no controller (use --force to override)" in run.stderr
    assert "default/lonely" in run.stderr
    run = kubectl(config, "drain", "node-a", "--timeout=20s", "--force")
    assert run.returncode == 1
    assert "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets" in run.stderr
    run = kubectl(config, "drain", "node-a", "--ignore-daemonsets", "--force", "--timeout=20s")
    assert run.returncode == 0, run.stderr
    assert "node/node-a drained" in run.stdout
    pods = _pods(config)
    assert "lonely" not in pods  # no controller: gone for good
    moved = [n for name, n in pods.items() if not name.startswith("calico-node-")]
    assert moved == ["node-b", "node-b"]  # the ReplicaSets put them back elsewhere
    nodes = kubectl(config, "get", "nodes", "--no-headers").stdout.splitlines()
    assert nodes[0].split()[:2] == ["node-a", "Ready,SchedulingDisabled"]
    assert kubectl(config, "uncordon", "node-a").stdout.strip() == "node/node-a uncordoned"


def test_a_budget_that_cannot_be_met_blocks_the_eviction(config: Path) -> None:
    pods = _pods(config)
    dns_node = next(n for name, n in pods.items() if name.startswith("coredns-"))
    _create(
        config,
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "dns-budget", "namespace": "kube-system"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"k8s-app": "kube-dns"}}},
        },
    )
    run = kubectl(config, "get", "pdb", "-n", "kube-system", "--no-headers")
    assert run.stdout.split()[:4] == ["dns-budget", "1", "N/A", "0"]
    run = kubectl(config, "drain", dns_node, "--ignore-daemonsets", "--timeout=7s")
    assert run.returncode == 1
    assert "Cannot evict pod as it would violate the pod's disruption budget." in run.stderr
    assert "global timeout reached: 7s" in run.stderr
    raw = kubectl(
        config, "get", "--raw", "/apis/policy/v1/namespaces/kube-system/poddisruptionbudgets"
    )
    assert json.loads(raw.stdout)["items"][0]["status"]["disruptionsAllowed"] == 0


def test_the_patch_forms_mck_sends(config: Path) -> None:
    ds = ["-n", "kube-system", "daemonset/calico-node"]
    run = kubectl(config, "set", "env", *ds, "-c", "calico-node", "IP_AUTODETECTION_METHOD=x")
    assert run.stdout.strip() == "daemonset.apps/calico-node env updated", run.stderr
    again = kubectl(config, "set", "env", *ds, "-c", "calico-node", "IP_AUTODETECTION_METHOD=x")
    assert (again.returncode, again.stdout) == (0, "")
    obj = json.loads(kubectl(config, "get", *ds, "-o", "json").stdout)
    env = obj["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "IP_AUTODETECTION_METHOD", "value": "x"} in env
    assert obj["metadata"]["generation"] == 2
    cm = ["configmap", "calico-config", "-n", "kube-system", "--type", "merge", "-p"]
    run = kubectl(config, "patch", *cm, '{"data":{"veth_mtu":"1370"}}')
    assert run.stdout.strip() == "configmap/calico-config patched"
    run = kubectl(config, "patch", *cm, '{"data":{"veth_mtu":"1370"}}')
    assert run.stdout.strip() == "configmap/calico-config patched (no change)"
    run = kubectl(config, "patch", *cm, '{"data":{"veth_mtu":1370}}')
    assert run.returncode == 1 and "(BadRequest)" in run.stderr
    felix = ["felixconfiguration", "default"]
    patch = '{"spec":{"wireguardEnabled":true}}'
    run = kubectl(config, "patch", *felix, "--type", "merge", "-p", patch)
    assert run.stdout.strip() == "felixconfiguration.crd.projectcalico.org/default patched"
    run = kubectl(config, "get", *felix, "-o", "jsonpath={.spec.wireguardEnabled}")
    assert run.stdout == "true"
    run = kubectl(config, "patch", *felix, "-p", patch)  # strategic merge on a custom resource
    assert run.returncode == 1 and "is not supported by crd.projectcalico.org/v1" in run.stderr
    run = kubectl(config, "patch", *felix, "--type", "merge", "-p", '{"spec":{"wireguardMTU":"x"}}')
    assert run.returncode == 1
    assert run.stderr.startswith('The FelixConfiguration "default" is invalid: spec.wireguardMTU')
    both = ["get", "-n", "kube-system", "daemonset/calico-node", "configmap/calico-config"]
    listing = json.loads(kubectl(config, *both, "-o", "json").stdout)  # what mck reads
    assert listing["kind"] == "List"
    assert [i["kind"] for i in listing["items"]] == ["DaemonSet", "ConfigMap"]
    assert listing["items"][1]["data"]["veth_mtu"] == "1370"
    run = kubectl(config, "rollout", "restart", *ds)
    assert run.stdout.strip() == "daemonset.apps/calico-node restarted"
    run = kubectl(config, "get", "pods", "-n", "default", "lonely")
    assert 'pods "lonely" not found' in run.stderr
