"""The stand-in's calico-config ConfigMap and the kubectl verbs on it (pure parts): generate-cni's
veth_mtu, a ConfigMap patch, `rollout restart`, and the multi-object `get` that mck reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mk8s import calico_config, daemonset, kubectl_objects

CLUSTER = {"cluster_id": "c1", "nodes": []}


def test_generate_cni_writes_the_launch_configurations_veth_mtu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calico_config, "cni_yaml", lambda: tmp_path / "cni.yaml")
    monkeypatch.setattr(calico_config.svcargs, "get", lambda _s, key: "1370")
    calico_config.generate()
    assert calico_config.applied("c1")["data"]["veth_mtu"] == "1370"
    monkeypatch.setattr(calico_config.svcargs, "get", lambda _s, key: None)
    calico_config.generate()  # microk8s' manifest: "0", Calico auto-detects
    assert calico_config.applied("c1")["data"]["veth_mtu"] == "0"


def test_a_patch_sets_string_data_and_an_unchanged_one_is_the_same_object() -> None:
    obj = calico_config.current(CLUSTER)
    assert obj["data"]["veth_mtu"] == "0"
    new = calico_config.patched(obj, {"data": {"veth_mtu": "1370"}})
    assert new["data"]["veth_mtu"] == "1370" and new["metadata"]["resourceVersion"] == "2"
    assert calico_config.patched(new, {"data": {"veth_mtu": "1370"}}) is new
    with pytest.raises(calico_config.Invalid, match="unmarshal number"):
        calico_config.patched(obj, {"data": {"veth_mtu": 1370}})


def test_rollout_restart_annotates_the_template_once() -> None:
    ds = daemonset.current({**CLUSTER, "nodes": []})
    new = calico_config.restarted(ds, "2026-12-07T04:00:00Z")
    annotations = new["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"kubectl.kubernetes.io/restartedAt": "2026-12-07T04:00:00Z"}
    assert new["metadata"]["generation"] == ds["metadata"]["generation"] + 1


def test_kubectl_routes_only_what_it_models() -> None:
    assert kubectl_objects.handles(["get", "daemonset/calico-node", "configmap/calico-config"])
    assert kubectl_objects.handles(["get", "configmap", "calico-config"])
    assert kubectl_objects.handles(["patch", "cm", "calico-config"])
    assert kubectl_objects.handles(["rollout", "restart", "daemonset/calico-node"])
    assert not kubectl_objects.handles(["get", "daemonset", "calico-node"])  # kubectl_daemonset
    assert not kubectl_objects.handles(["get", "nodes"])


def test_get_of_two_objects_is_a_list(capsys: pytest.CaptureFixture[str]) -> None:
    status: dict[str, Any] = {**CLUSTER}
    refs = ["get", "daemonset/calico-node", "configmap/calico-config"]
    assert kubectl_objects.main(refs, "kube-system", "json", None, status, _no_submit) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["kind"] == "List"
    assert [i["kind"] for i in listing["items"]] == ["DaemonSet", "ConfigMap"]
    # kubectl's default namespace has neither: NotFound for each, exit 1.
    assert kubectl_objects.main(refs, "default", "json", None, status, _no_submit) == 1
    assert 'configmaps "calico-config" not found' in capsys.readouterr().err


def _no_submit(op: dict[str, Any]) -> tuple[bool, str]:
    raise AssertionError(f"nothing to change, yet {op}")
