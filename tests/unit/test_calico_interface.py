"""mck/playbooks/calico_interface.yml: when it sets calico-node's IP_AUTODETECTION_METHOD and
calico-config's veth_mtu, and when it restarts calico-node.

The `when`s of the set tasks are evaluated by Ansible's own templating against the List that
`kubectl get daemonset/calico-node configmap/calico-config -o json` returns, so a converged
cluster is read and left alone, and anything else (microk8s' first-found, the variable missing
or taken from a reference, an auto-detected MTU "0") is set. `mck.calico.on_mesh`, which
decides from the configure run's read whether this playbook runs at all, must agree with those
`when`s on every case.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from mck import calico

PLAYBOOK = Path(__file__).resolve().parents[2] / "mck/playbooks/calico_interface.yml"
PLAY = yaml.safe_load(PLAYBOOK.read_text())[0]
READ, SET, SET_MTU, RESTART = PLAY["tasks"]
MAIN_PLAY = yaml.safe_load((PLAYBOOK.parents[2] / "main.yml").read_text())[0]


def _daemonset(env: list[dict[str, Any]], mtu: str = "1370") -> dict[str, Any]:
    install = {"name": "install-cni", "env": [{"name": "IP_AUTODETECTION_METHOD", "value": "x"}]}
    containers = [{"name": "calico-node", "env": env}]
    spec = {"initContainers": [install], "containers": containers}
    daemonset = {"kind": "DaemonSet", "spec": {"template": {"spec": spec}}}
    config = {"kind": "ConfigMap", "data": {"typha_service_name": "none", "veth_mtu": mtu}}
    return {"apiVersion": "v1", "kind": "List", "items": [daemonset, config]}


def _templar(obj: dict[str, Any], **results: Any) -> Templar:
    play_vars = {k: trust_as_template(v) for k, v in PLAY["vars"].items()}
    variables = {**play_vars, READ["register"]: {"stdout": json.dumps(obj)}, **results}
    return Templar(loader=DataLoader(), variables=variables)


def _would_set(obj: dict[str, Any]) -> bool:
    return bool(_templar(obj).evaluate_conditional(trust_as_template(SET["when"])))


def _would_set_mtu(obj: dict[str, Any]) -> bool:
    return bool(_templar(obj).evaluate_conditional(trust_as_template(SET_MTU["when"])))


WG0 = {"name": "IP_AUTODETECTION_METHOD", "value": "interface=wg0"}


@pytest.mark.parametrize(
    ("env", "want"),
    [
        ([{"name": "IP", "value": "autodetect"}, WG0], False),
        ([{"name": "IP_AUTODETECTION_METHOD", "value": "first-found"}], True),
        ([{"name": "IP", "value": "autodetect"}], True),
        ([{"name": "IP_AUTODETECTION_METHOD", "valueFrom": {"configMapKeyRef": {}}}], True),
        ([WG0, {"name": "IP_AUTODETECTION_METHOD", "value": "first-found"}], True),
    ],
)
def test_sets_only_when_calico_node_is_not_on_the_mesh(
    env: list[dict[str, Any]], want: bool
) -> None:
    obj = _daemonset(env)
    assert _would_set(obj) is want
    assert calico.on_mesh(json.dumps(obj)) is not want  # mck skips the playbook exactly then


def test_a_container_without_env_is_set() -> None:
    obj = _daemonset([])
    del obj["items"][0]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert _would_set(obj) is True
    assert calico.on_mesh(json.dumps(obj)) is False


@pytest.mark.parametrize(
    "stdout", ["", "Error from server (NotFound)", "[]", '{"spec": 1}', '{"items": []}']
)
def test_output_that_is_not_a_daemonset_is_not_on_the_mesh(stdout: str) -> None:
    assert calico.on_mesh(stdout) is False


def test_reads_once_and_sets_only_calico_node_to_wg0() -> None:
    assert PLAY["hosts"] == "{{ mck_leader }}" and PLAY["gather_facts"] is False
    assert READ["changed_when"] is False
    argv = SET["ansible.builtin.command"]["argv"]
    assert argv[2:9] == [
        "set",
        "env",
        "-n",
        "kube-system",
        "daemonset/calico-node",
        "-c",
        "calico-node",
    ]
    assert argv[9] == "IP_AUTODETECTION_METHOD={{ mck_calico_method }}"
    assert PLAY["vars"]["mck_calico_method"] == "interface=wg0"
    # kubectl prints this when it patched, nothing when the template already had the value.
    assert "'env updated' in" in SET["changed_when"]


@pytest.mark.parametrize(("mtu", "want"), [("1370", False), ("0", True), ("1450", True)])
def test_sets_the_veth_mtu_only_when_it_does_not_fit_wg0(mtu: str, want: bool) -> None:
    obj = _daemonset([WG0], mtu=mtu)
    assert _would_set_mtu(obj) is want
    assert _would_set(obj) is False
    assert calico.on_mesh(json.dumps(obj)) is not want


def test_the_veth_mtu_is_the_launch_configurations() -> None:
    # The same value main.yml gives a fresh install (CALICO_VETH_MTU) and mck checks.
    assert PLAY["vars"]["mck_calico_veth_mtu"] == calico.MESH_VETH_MTU == "1370"
    templar = Templar(loader=DataLoader(), variables=MAIN_PLAY["vars"])
    expression = trust_as_template(MAIN_PLAY["vars"]["mck_calico_veth_mtu"])
    assert str(templar.template(expression)) == calico.MESH_VETH_MTU
    argv = SET_MTU["ansible.builtin.command"]["argv"]
    assert argv[2:11] == [
        "patch",
        "configmap",
        "calico-config",
        "-n",
        "kube-system",
        "--type",
        "merge",
        "-p",
        argv[10],
    ]
    patch = _templar(_daemonset([WG0], mtu="0")).template(trust_as_template(argv[10]))
    assert json.loads(patch) == {"data": {"veth_mtu": "1370"}}


def _restarts(mtu_changed: bool, env_changed: bool) -> bool:
    results = {
        SET_MTU["register"]: {"changed": mtu_changed},
        SET["register"]: {"changed": env_changed},
    }
    templar = _templar(_daemonset([WG0]), **results)
    return bool(templar.evaluate_conditional(trust_as_template(RESTART["when"])))


def test_calico_node_rolls_once_after_a_new_mtu() -> None:
    argv = RESTART["ansible.builtin.command"]["argv"]
    assert argv[2:] == ["rollout", "restart", "-n", "kube-system", "daemonset/calico-node"]
    assert _restarts(mtu_changed=True, env_changed=False)
    # set env rolled the pods already: a second rollout would restart them again for nothing.
    assert not _restarts(mtu_changed=True, env_changed=True)
    assert not _restarts(mtu_changed=False, env_changed=False)
