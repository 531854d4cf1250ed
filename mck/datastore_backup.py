"""What `mck backup` and `mck restore` share: the backup file's format and the voter they run on.

The file mck keeps is an uncompressed tar of two members:
- `mck-backup.json`: {"format", "cluster", "version", "taken", "node", "dbctl_file"}: the
  cluster's name (instances.tf's `cluster_name`), the microk8s version the voter ran (snap's,
  e.g. v1.32.3), when (UTC) and where it was taken, and the name of the member below;
- the tarball `microk8s dbctl backup` wrote, byte for byte, under the name dbctl gave it: its
  restore looks inside for the directory named after the file (canonical/microk8s
  scripts/wrappers/dbctl.py), so that name must travel with it.
The local name, `<cluster>_<version>_<YYYYmmddTHHMMSSZ>.tar`, is for people: the checks read
the sidecar, so a renamed file restores the same (and a file renamed after another cluster
is still refused).
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from dataclasses import asdict, dataclass
from pathlib import Path

from mck.cluster import Probe
from mck.errors import UsageError
from mck.node_status import LOOPBACK

FORMAT = 1
SIDECAR = "mck-backup.json"
BACKUP_DIR = "backups"  # under the project
_DBCTL_NAME = re.compile(r"^[A-Za-z0-9._-]+\.tar\.gz$")


@dataclass(frozen=True)
class Meta:
    cluster: str
    version: str  # the snap's version, the Kubernetes release: v1.32.3
    taken: str  # UTC, ISO 8601
    node: str
    dbctl_file: str
    format: int = FORMAT

    @property
    def minor(self) -> str:
        return minor(self.version)


def minor(version: str) -> str:
    """v1.32.3 -> v1.32 (a restore needs the Kubernetes minor the backup was taken on)."""
    match = re.match(r"^v?(\d+)\.(\d+)", version)
    return f"v{match[1]}.{match[2]}" if match else version


def local_name(meta: Meta) -> str:
    stamp = meta.taken.replace("-", "").replace(":", "").split("+")[0].split(".")[0]
    return f"{meta.cluster}_{meta.version}_{stamp}Z.tar"


def pack(meta: Meta, dbctl_tarball: Path) -> bytes:
    """The file's bytes: the sidecar, then dbctl's tarball."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        doc = json.dumps(asdict(meta), indent=1, sort_keys=True).encode()
        info = tarfile.TarInfo(SIDECAR)
        info.size, info.mode = len(doc), 0o600
        tar.addfile(info, io.BytesIO(doc))
        tar.add(dbctl_tarball, arcname=meta.dbctl_file)
    return buffer.getvalue()


def unpack(path: Path, into: Path) -> tuple[Meta, Path]:
    """Read a backup file: its metadata, and dbctl's tarball extracted into `into`."""
    bad = f"{path} is not a backup mck made (no readable {SIDECAR}): pass a file `mck backup` wrote"
    try:
        with tarfile.open(path, mode="r:") as tar:
            member = tar.extractfile(SIDECAR)
            if member is None:
                raise UsageError(bad)
            raw = json.loads(member.read())
            meta = Meta(**{k: raw[k] for k in Meta.__dataclass_fields__ if k in raw})
            if meta.format != FORMAT or not _DBCTL_NAME.match(meta.dbctl_file):
                raise UsageError(bad)
            dbctl = tar.extractfile(meta.dbctl_file)
            if dbctl is None:
                raise UsageError(bad)
            target = into / meta.dbctl_file
            target.write_bytes(dbctl.read())
    except FileNotFoundError as exc:
        raise UsageError(f"{path} does not exist: pass the file `mck backup` wrote") from exc
    except (tarfile.TarError, KeyError, ValueError, TypeError, OSError) as exc:
        raise UsageError(bad) from exc
    return meta, target


def ready_voter(probes: list[Probe]) -> Probe:
    """A ready voter to run dbctl on (the datastore answers there), or refuse: without a ready
    voter the cluster has no quorum, and dbctl could neither read nor write."""
    for p in probes:
        if p.status is None or p.status.state != "ready":
            continue
        own = {p.cluster_ip, p.node.public_ip, p.node.private_ip}
        voters = {m.address for m in p.status.members if m.role == "voter"}
        if own & voters or voters == {LOOPBACK}:
            return p
    states = ", ".join(
        f"{p.node.name}: {p.status.state if p.status else p.error or 'unreachable'}" for p in probes
    )
    raise UsageError(
        f"the cluster has no quorum: no voter is ready ({states}); bring its voters back first"
    )
