"""The backup file mck keeps (sidecar + dbctl's tarball), the voter it runs on, and the reading
of dbctl restore's output (which exits 0 even when keys fail)."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from mck.cluster import Probe
from mck.datastore_backup import SIDECAR, Meta, local_name, minor, pack, ready_voter, unpack
from mck.errors import MckError, UsageError
from mck.node_status import Member, Status
from mck.nodes import Node
from mck.restore import _restored

META = Meta("prod", "v1.32.3", "2026-12-07T16:00:09+00:00", "n1", "backup-20261207T160009Z.tar.gz")


def _node(name: str, ip: str) -> Node:
    return Node(name, "digitalocean", ip, None, "root", False, f"x.{name}")


def test_the_file_carries_its_metadata_and_dbctls_tarball_under_dbctls_name(
    tmp_path: Path,
) -> None:
    dbctl = tmp_path / "fetched.tar.gz"
    dbctl.write_bytes(b"\x1f\x8bdata")
    path = tmp_path / local_name(META)
    assert path.name == "prod_v1.32.3_20261207T160009Z.tar"
    path.write_bytes(pack(META, dbctl))
    with tarfile.open(path) as tar:
        assert tar.getnames() == [SIDECAR, META.dbctl_file]
    out = tmp_path / "out"
    out.mkdir()
    meta, extracted = unpack(path, out)
    assert meta == META and meta.minor == "v1.32"
    assert extracted == out / META.dbctl_file and extracted.read_bytes() == b"\x1f\x8bdata"


def test_a_file_mck_did_not_write_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "x.tar"
    bogus.write_bytes(b"not a tar")
    with pytest.raises(UsageError, match="is not a backup mck made"):
        unpack(bogus, tmp_path)
    with pytest.raises(UsageError, match="does not exist"):
        unpack(tmp_path / "none.tar", tmp_path)


def test_minor() -> None:
    assert minor("v1.36.0") == "v1.36" and minor("1.28.15") == "v1.28"


def test_the_voter_is_a_ready_voter_and_none_means_no_quorum() -> None:
    voters = (Member("10.0.0.1", "voter"), Member("10.0.0.2", "voter"), Member("10.0.0.3", "spare"))
    spare = Probe(_node("c", "10.0.0.3"), True, Status("ready", voters), None)
    down = Probe(_node("a", "10.0.0.1"), True, Status("not_ready", (), "no quorum"), None)
    up = Probe(_node("b", "10.0.0.2"), True, Status("ready", voters), None)
    assert ready_voter([spare, down, up]) is up
    alone = Probe(
        _node("s", "10.0.0.9"), True, Status("ready", (Member("127.0.0.1", "voter"),)), None
    )
    assert ready_voter([alone]) is alone
    with pytest.raises(
        UsageError, match=r"^the cluster has no quorum: no voter is ready \(c: ready"
    ):
        ready_voter([spare, down])


OK = (
    'time="t" level=info msg="Starting migrator"\n'
    'time="t" level=info msg="Completed database restore" entries=42\n'
)


def test_restore_output_is_read_not_its_exit_code() -> None:
    assert _restored({"rc": 0, "stdout": "Restoring from b.tar.gz\n", "stderr": OK}, "n1") == 42
    failed = 'time="t" level=error msg="Failed to restore key" index=3 key=/registry/x\n' + OK
    with pytest.raises(MckError, match="could not write 1 keys"):
        _restored({"rc": 0, "stderr": failed}, "n1")
    with pytest.raises(MckError, match="found no keys"):
        _restored({"rc": 0, "stderr": OK.replace("=42", "=0")}, "n1")
    with pytest.raises(MckError, match=r"failed: Restore process failed\. 1"):
        _restored({"rc": 3, "stdout": "Restore process failed. 1\n", "stderr": ""}, "n1")
