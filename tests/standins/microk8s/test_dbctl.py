"""`microk8s dbctl backup | restore` over the real dqlite datastore: the key mapping on its own,
then one lab node (about 20 s): a backup taken, data changed, the restore brings it back and
leaves what the backup does not hold, as k8s-dqlite's migrator does."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import pytest
from mk8s import kine_keys
from mk8s.cmd_dbctl import HA_MESSAGE

from tests.lab import workloads
from tests.lab.host import Host
from tests.lab.lab import Lab
from tests.standins.microk8s.test_felix import KUBECTL, _run

CM = {"metadata": {"name": "kept", "namespace": "default"}, "data": {"k": "v"}}


def test_keys_are_kube_apiservers_and_a_restore_writes_over_without_deleting() -> None:
    shared = {
        "cluster_id": "c1",
        "rv": 7,
        "nodes": [{"name": "n1"}],
        "objects": {
            "/configmaps/default/kept": CM,
            "crd.projectcalico.org/felixconfigurations//x": {"metadata": {"name": "x"}},
        },
        "addons": ["dns"],
    }
    keys = dict(kine_keys.dump(shared))
    assert sorted(keys) == [
        "/registry/configmaps/default/kept",
        "/registry/crd.projectcalico.org/felixconfigurations/x",
        "/registry/minions/n1",
        "/registry/standin/addons",
    ]
    later = {"cluster_id": "c1", "rv": 9, "nodes": [{"name": "n1", "x": 1}, {"name": "n2"}]}
    later["objects"] = {"/configmaps/default/new": CM}
    for key, data in keys.items():
        kine_keys.put(later, key, data)
    assert later["cluster_id"] == "c1"  # not a key: the cluster's identity stays
    assert sorted(later["objects"]) == [
        "/configmaps/default/kept",
        "/configmaps/default/new",  # not in the backup: left as it is
        "crd.projectcalico.org/felixconfigurations//x",
    ]
    assert later["objects"]["/configmaps/default/kept"]["metadata"]["resourceVersion"] == "10"
    assert {n["name"]: n for n in later["nodes"]}["n1"] == {"name": "n1"}
    assert later["addons"] == ["dns"]


@pytest.fixture(scope="module")
def node(lab: Lab) -> Iterator[Host]:
    host = lab.create_host("digitalocean", "d" + secrets.token_hex(2)[:3], [lab.ssh_pubkey])
    try:
        install = ("snap", "install", "microk8s", "--classic", "--channel=1.32/stable")
        rc, out, err = _run(host, *install)
        assert rc == 0, out + err
        yield host
    finally:
        lab.delete_host(host.id)


def _configmap(host: Host, name: str, value: str) -> None:
    """Create the ConfigMap, or change its value (the real kubectl's create and patch)."""
    if _value(host, name) is None:
        meta = {"name": name, "namespace": "default"}
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": value}}
        rc, err = 0, workloads.create(host, cm)
    else:
        patch = json.dumps({"data": {"k": value}})
        rc, _, err = _run(host, *KUBECTL, "patch", "cm", name, "--type=merge", "-p", patch)
    assert rc == 0, err


def _value(host: Host, name: str) -> str | None:
    rc, out, _ = _run(host, *KUBECTL, "get", "cm", name, "-o", "jsonpath={.data.k}")
    return out if rc == 0 else None


@pytest.mark.lab
def test_backup_change_restore_brings_the_data_back(node: Host) -> None:
    _configmap(node, "kept", "before")
    rc, out, err = _run(node, "sh", "-c", "cd /root && microk8s dbctl backup -o snap1.tar.gz")
    assert rc == 0, err
    assert out.splitlines() == ["Backing up the datastore", "The backup is: snap1.tar.gz"]
    assert 'msg="Starting migrator"' in err and "mode=backup-dqlite" in err
    assert "key=/registry/configmaps/default/kept" in err
    listing = node.run(["tar", "tzvf", "/root/snap1.tar.gz"], timeout=30).stdout
    assert "drwx------" in listing and "snap1/0.key" in listing and "snap1/0.data" in listing

    _configmap(node, "kept", "after")
    _configmap(node, "later", "new")
    assert _run(node, *KUBECTL, "delete", "cm", "kept")[0] == 0
    rc, out, err = _run(node, "sh", "-c", "cd /root && microk8s dbctl restore snap1.tar.gz")
    assert rc == 0, err
    assert out == "Restoring from snap1.tar.gz\n"
    assert 'msg="Completed database restore"' in err and "Failed to restore key" not in err
    assert _value(node, "kept") == "before"
    assert _value(node, "later") == "new"  # a key the backup does not hold is left alone


@pytest.mark.lab
def test_a_renamed_file_restores_nothing_and_a_missing_one_fails(node: Host) -> None:
    _run(node, "sh", "-c", "cd /root && microk8s dbctl backup -o snap2 && cp snap2.tar.gz x.tar.gz")
    rc, _, err = _run(node, "sh", "-c", "cd /root && microk8s dbctl restore x.tar.gz")
    assert rc == 0 and "entries=0" in err  # dbctl looks for the directory named as the file
    rc, _, err = _run(node, "microk8s", "dbctl", "restore", "/root/none.tar.gz")
    assert rc == 1 and "FileNotFoundError" in err


@pytest.mark.lab
def test_a_stopped_node_refuses_with_exit_10(node: Host) -> None:
    assert _run(node, "microk8s", "stop")[0] == 0
    try:
        rc, out, _ = _run(node, "microk8s", "dbctl", "backup")
        assert (rc, out) == (10, HA_MESSAGE + "\n")
    finally:
        assert _run(node, "microk8s", "start")[0] == 0
