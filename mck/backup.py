"""`mck backup`: the Kubernetes datastore, taken with `microk8s dbctl backup` on a ready voter,
kept on the workstation (datastore_backup.py says the file's format).

The voter is picked from the probe of the inventory rendered from the state (existing.py),
never from the project's hand-editable inventory. The remote copy is removed whatever
happens (playbooks/backup.yml); the local file is written whole, mode 0600, or not at all.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from mck import run_lock
from mck.ansible import PLAYBOOKS
from mck.datastore_backup import BACKUP_DIR, Meta, local_name, pack, ready_voter
from mck.errors import MckError, UsageError
from mck.existing import Existing, probe_existing
from mck.phases.context import STATE_DIR, Settings
from mck.phases.outcomes import raise_for_failures
from mck.preflight import cluster_name
from mck.private_files import private_dir
from mck.report import Ui

DBCTL_TASK = "Back up the datastore with microk8s dbctl"


def backup(settings: Settings, ui: Ui, output: Path | None = None) -> Path:
    """The whole command: lock, probe, take the backup; the path of the file written."""
    project = settings.project.resolve()
    if output is not None and output.exists():
        raise UsageError(f"{output} already exists: pass another -o FILE, or move it away")
    lock = run_lock.acquire(project / STATE_DIR, "backup")
    try:
        existing = probe_existing(settings, ui)
        return take_backup(existing, ui, settings.env, output)
    finally:
        lock.release()


def take_backup(
    existing: Existing, ui: Ui, env: Mapping[str, str] | None = None, output: Path | None = None
) -> Path:
    """A backup through a probed cluster (for `mck upgrade` too): the file written."""
    voter = ready_voter(existing.probes)
    node = voter.node.name
    snap = existing.snaps.get(node)
    now = datetime.now(UTC).replace(microsecond=0)
    dbctl_name = f"backup-{now.strftime('%Y%m%dT%H%M%SZ')}"
    meta = Meta(
        cluster=cluster_name(existing.project, existing.config, env or dict(os.environ)),
        version=snap.version if snap else "unknown",
        taken=now.isoformat(),
        node=node,
        dbctl_file=f"{dbctl_name}.tar.gz",
    )
    target = output or existing.project / BACKUP_DIR / local_name(meta)
    ui.phase("backup", f"microk8s dbctl backup on {node}")
    with tempfile.TemporaryDirectory(prefix="mck-backup.") as tmp:  # 0700
        result = existing.ansible.playbook(
            PLAYBOOKS / "backup.yml",
            capture={DBCTL_TASK},
            extravars={"mck_via": node, "mck_backup_name": dbctl_name, "mck_local_dir": tmp},
        )
        dbctl = result.captured.get(node, {}).get(DBCTL_TASK, {})
        if dbctl.get("rc"):  # dbctl's own words: "Backup process failed. 1"
            said = str(dbctl.get("stdout", "")).strip().splitlines() or [f"exit {dbctl['rc']}"]
            raise MckError(f"microk8s dbctl backup on {node} failed: {said[-1]}")
        raise_for_failures(result, f"the backup on {node}")
        fetched = Path(tmp) / meta.dbctl_file
        if not fetched.is_file():
            raise MckError(f"the backup on {node} left no {meta.dbctl_file} to fetch")
        if output is None:
            private_dir(target.parent)  # backups/: 0700, the whole datastore is in it
        _write_private(target, pack(meta, fetched))
    ui.say(f"backup of {meta.cluster} (microk8s {meta.version}) taken on {node}: {target}")
    return target


def _write_private(target: Path, data: bytes) -> None:
    """Write `target` whole with mode 0600, never over an existing file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fp:
            fp.write(data)
        os.link(tmp, target)  # fails if target exists: nothing overwritten
    except FileExistsError as exc:
        raise UsageError(f"{target} already exists: pass another -o FILE") from exc
    finally:
        tmp.unlink(missing_ok=True)
