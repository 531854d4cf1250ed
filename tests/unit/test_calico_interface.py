"""mck/playbooks/calico_interface.yml: when it sets calico-node's IP_AUTODETECTION_METHOD.

The `when` of the set task is evaluated by Ansible's own templating against DaemonSets as
`kubectl get -o json` returns them, so a converged cluster is read and left alone, and
anything else (microk8s' first-found, the variable missing or taken from a reference) is set.
`mck.calico.on_mesh`, which decides from the configure run's read whether this playbook runs
at all, must agree with that `when` on every case.
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
READ, SET = PLAY["tasks"]


def _daemonset(env: list[dict[str, Any]]) -> dict[str, Any]:
    install = {"name": "install-cni", "env": [{"name": "IP_AUTODETECTION_METHOD", "value": "x"}]}
    containers = [{"name": "calico-node", "env": env}]
    return {"spec": {"template": {"spec": {"initContainers": [install], "containers": containers}}}}


def _would_set(obj: dict[str, Any]) -> bool:
    variables = {**PLAY["vars"], READ["register"]: {"stdout": json.dumps(obj)}}
    templar = Templar(loader=DataLoader(), variables=variables)
    return bool(templar.evaluate_conditional(trust_as_template(SET["when"])))


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
    del obj["spec"]["template"]["spec"]["containers"][0]["env"]
    assert _would_set(obj) is True
    assert calico.on_mesh(json.dumps(obj)) is False


@pytest.mark.parametrize("stdout", ["", "Error from server (NotFound)", "[]", '{"spec": 1}'])
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
