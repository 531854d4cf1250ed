"""`mck backup` and `mck restore` end to end on one node (the lean case: its datastore is real
dqlite all the same): a backup, the cluster's data changed with the real kubectl, the restore
brings the backup's data back; a backup of another cluster is refused with nothing changed."""

from __future__ import annotations

import io
import json
import stat
import tarfile
from pathlib import Path
from typing import Any

import pytest

from mck.datastore_backup import SIDECAR
from tests.e2e.harness import Project
from tests.lab import workloads

pytestmark = pytest.mark.lab

NODE = "mck-k8s-do-0"
KUBECTL = ["/snap/bin/microk8s", "kubectl"]


@pytest.fixture(scope="module")
def project(make_project: Any) -> Project:
    project: Project = make_project(digitalocean=1, linode=0)
    run = project.mck()
    assert run.rc == 0, run.explain()
    return project


def _host(project: Project) -> Any:
    return project.lab.host(NODE)


def _set(project: Project, name: str, value: str) -> None:
    host = _host(project)
    if _value(project, name) is None:
        meta = {"name": name, "namespace": "default"}
        workloads.create(
            host, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": value}}
        )
        return
    patch = json.dumps({"data": {"k": value}})
    done = host.run(
        [*KUBECTL, "patch", "cm", name, "--type=merge", "-p", patch], check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr


def _value(project: Project, name: str) -> str | None:
    argv = [*KUBECTL, "get", "cm", name, "-o", "jsonpath={.data.k}"]
    done = _host(project).run(argv, check=False, timeout=60)
    return done.stdout if done.returncode == 0 else None


def _backup_file(project: Project) -> Path:
    files = sorted((project.path / "backups").glob("*.tar"))
    assert len(files) == 1, files
    return files[0]


def test_backup_change_restore_brings_the_backups_data_back(project: Project) -> None:
    _set(project, "kept", "before")
    _set(project, "gone", "here")
    run = project.mck("backup")
    assert run.rc == 0, run.explain()
    path = _backup_file(project)
    assert path.name.startswith("mck-k8s_v1.") and path.name.endswith("Z.tar")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert str(path) in run.stderr + run.stdout
    with tarfile.open(path) as tar:
        meta = json.loads(tar.extractfile(SIDECAR).read())  # type: ignore[union-attr]
        assert tar.getnames() == [SIDECAR, meta["dbctl_file"]]
    assert meta["cluster"] == "mck-k8s" and meta["node"] == NODE
    left = _host(project).run(["sh", "-c", "ls -d /tmp/mck-backup.* 2>/dev/null"], check=False)
    assert left.stdout == ""  # the remote copy is gone

    _set(project, "kept", "after")
    assert (
        _host(project).run([*KUBECTL, "delete", "cm", "gone"], check=False, timeout=60).returncode
        == 0
    )
    run = project.mck("restore", str(path), "--yes")
    assert run.rc == 0, run.explain()
    assert "every node is ready" in run.output
    assert _value(project, "kept") == "before"
    assert _value(project, "gone") == "here"


def test_a_backup_of_another_cluster_is_refused_and_nothing_changes(project: Project) -> None:
    source = _backup_file(project)
    other = project.path / "other.tar"
    with tarfile.open(source) as tar, tarfile.open(other, "w") as out:
        for member in tar.getmembers():
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == SIDECAR:
                data = json.dumps({**json.loads(data), "cluster": "other"}).encode()
                member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    _set(project, "kept", "changed")
    run = project.mck("restore", str(other), "--yes")
    assert run.rc == 2, run.explain()
    errors = [line for line in run.stderr.splitlines() if "backup of cluster other" in line]
    assert len(errors) == 1, run.stderr
    assert _value(project, "kept") == "changed"


def test_refusals_before_anything_is_asked_or_written(project: Project) -> None:
    source = _backup_file(project)
    run = project.mck("backup", "-o", str(source))
    assert run.rc == 2 and "already exists" in run.stderr, run.explain()
    run = project.mck("restore", str(source))  # no terminal and no --yes
    assert run.rc == 2 and "pass --yes" in run.stderr, run.explain()


def test_a_backup_without_a_ready_voter_is_refused(project: Project) -> None:
    """A stopped node's datastore cannot answer: one line naming each node's state, exit 2."""
    host = _host(project)
    assert host.run(["/snap/bin/microk8s", "stop"], check=False, timeout=60).returncode == 0
    try:
        run = project.mck("backup")
        assert run.rc == 2, run.explain()
        refusal = f"the cluster has no quorum: no voter is ready ({NODE}: stopped)"
        assert [line for line in run.stderr.splitlines() if "error:" in line] == [
            f"error: {refusal}; bring its voters back first"
        ], run.stderr
        assert len(list((project.path / "backups").glob("*.tar"))) == 1  # nothing new
    finally:
        assert host.run(["/snap/bin/microk8s", "start"], check=False, timeout=90).returncode == 0
