"""The stand-in's calico-node DaemonSet under the real `kubectl get daemonset` and `set env`.

Pure parts (the default object) are tested directly. The `lab` tests form a two-node cluster
(test_felix's fixture) and check the DaemonSet is cluster state: changed through one member,
read the same from the other, with the real kubectl's output and exit codes.
"""

from __future__ import annotations

import json
import time

import pytest
from mk8s import daemonset

from tests.lab.host import Host
from tests.standins.microk8s.test_felix import KUBECTL, _run, pair  # noqa: F401 (fixture)

OBJ = daemonset.default_object(0.0, "0b5cf8f8-7d1c-5c4e-8a3f-000000000000")
METHOD = "IP_AUTODETECTION_METHOD"

# ---------------------------------------------------------------------------------------------
# Pure parts
# ---------------------------------------------------------------------------------------------


def test_microk8s_ships_first_found_autodetection() -> None:
    assert daemonset.env_value(OBJ, "calico-node", METHOD) == "first-found"
    assert daemonset.env_value(OBJ, "calico-node", "NODENAME") is None  # a fieldRef
    assert daemonset.env_value(OBJ, "install-cni", METHOD) is None


def test_every_member_derives_the_same_default_object() -> None:
    cluster = {"cluster_id": "abc", "nodes": [{"created": 5.0}, {"created": 3.0}]}
    assert daemonset.current(cluster) == daemonset.current(json.loads(json.dumps(cluster)))
    assert daemonset.current({**cluster, "calico_node": OBJ}) is OBJ


# ---------------------------------------------------------------------------------------------
# Lab: two members share the DaemonSet
# ---------------------------------------------------------------------------------------------

GET = (*KUBECTL, "get", "daemonset", "calico-node", "-n", "kube-system", "-o")
JSONPATH = "jsonpath={.metadata.generation}"
SET = (*KUBECTL, "set", "env", "-n", "kube-system", "daemonset/calico-node")
WG0 = f"{METHOD}=interface=wg0"


def _method(host: Host) -> str | None:
    rc, out, err = _run(host, *GET, "json")
    assert rc == 0, err
    return daemonset.env_value(json.loads(out), "calico-node", METHOD)


@pytest.mark.lab
def test_set_env_on_one_member_is_seen_by_the_other(pair: list[Host]) -> None:  # noqa: F811
    h1, h2 = pair
    rc, out, err = _run(h1, *GET, "json")
    assert rc == 0, err
    obj = json.loads(out)
    assert (obj["kind"], obj["metadata"]["namespace"]) == ("DaemonSet", "kube-system")
    assert _method(h2) == "first-found"
    assert _run(h2, *SET, WG0, "-c", "calico-node") == (
        0,
        "daemonset.apps/calico-node env updated\n",
        "",
    )
    deadline = time.monotonic() + 5
    while _method(h1) != "interface=wg0" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert _method(h1) == "interface=wg0"
    assert _run(h1, *GET, JSONPATH) == (0, "2", "")
    assert _run(h1, *SET, WG0, "-c", "calico-node") == (0, "", "")  # no change: silent
    assert _run(h1, *GET, JSONPATH) == (0, "2", "")


@pytest.mark.lab
def test_daemonset_errors_exit_1_like_kubectl(pair: list[Host]) -> None:  # noqa: F811
    h1 = pair[0]
    not_found = 'Error from server (NotFound): daemonsets.apps "calico-node" not found\n'
    assert _run(h1, *KUBECTL, "get", "ds", "calico-node", "-o", "json") == (1, "", not_found)
    rc, _, err = _run(h1, *KUBECTL, "set", "env", "daemonset/calico-node", WG0)
    assert (rc, err) == (1, not_found)  # namespace `default`
    rc, out, err = _run(h1, *SET, WG0, "-c", "nope")
    assert (rc, out) == (0, "") and "does not have any containers matching" in err
    rc, out, err = _run(h1, *KUBECTL, "get", "daemonset", "-n", "kube-system", "--no-headers")
    assert rc == 0, err
    assert out.split()[:3] == ["calico-node", "2", "2"]  # one pod per node
