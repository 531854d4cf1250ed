"""The stand-in's calico-config ConfigMap: generate-cni's veth_mtu (the real kubectl's verbs on it
are in test_api_workloads.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mk8s import calico_config

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
