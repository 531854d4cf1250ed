"""`mck restore FILE`: the Kubernetes datastore put back from a file `mck backup` wrote, with
`microk8s dbctl restore` on a ready voter, as microk8s documents it (scripts/wrappers/dbctl.py).

Refused (exit 2, nothing changed) before anything is asked: a file mck did not write, a backup
of another cluster, one taken on another Kubernetes minor than the voter runs, a cluster
without quorum. dbctl's restore (k8s-dqlite pkg/migrator RestoreToDqlite) writes each key of
the backup over the current one and leaves keys the backup does not hold; it logs a key it
could not write and still exits 0, so mck reads the migrator's lines, not the exit code.
Then it waits until every node is ready again.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from mck import run_lock
from mck.ansible import PLAYBOOKS
from mck.datastore_backup import minor, ready_voter, unpack
from mck.errors import ClusterError, MckError, UsageError
from mck.existing import Existing, probe_existing
from mck.phases.context import STATE_DIR, Settings
from mck.phases.outcomes import raise_for_failures
from mck.phases.probe import probe
from mck.preflight import cluster_name
from mck.report import Ui

DBCTL_TASK = "Restore the datastore with microk8s dbctl"
_COMPLETED = re.compile(r'msg="Completed database restore" entries=(\d+)')


READY_STATES = ("ready", "worker")


def restore(settings: Settings, ui: Ui, file: Path, confirm: Callable[[str], bool]) -> None:
    """The whole command. `confirm(question)` is asked once every check has passed; False:
    nothing done."""
    project = settings.project.resolve()
    lock = run_lock.acquire(project / STATE_DIR, "restore")
    existing: Existing | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="mck-restore.") as tmp:  # 0700
            meta, dbctl_tarball = unpack(file, Path(tmp))
            # The state lock too, until the nodes are ready again: no operator's converge
            # changes the members mid-restore.
            existing = probe_existing(settings, ui, hold_state=True)
            name = cluster_name(project, existing.config, settings.env)
            if meta.cluster != name:
                raise UsageError(
                    f"{file} is a backup of cluster {meta.cluster}, not of {name}:"
                    f" restore it from {meta.cluster}'s project"
                )
            voter = ready_voter(existing.probes)
            node = voter.node.name
            snap = existing.snaps.get(node)
            running = snap.version if snap else "unknown"
            if minor(running) != meta.minor:
                raise UsageError(
                    f"{file} was taken on microk8s {meta.version}, {node} runs {running}:"
                    f" restore it on a cluster at {meta.minor}"
                )
            question = (
                f"Restore {name}'s datastore to its state of {meta.taken} (taken on"
                f" {meta.node}, microk8s {meta.version})? Objects changed since are overwritten"
            )
            if not confirm(question):
                ui.say("nothing restored")
                return
            ui.phase("restore", f"microk8s dbctl restore on {node}")
            result = existing.ansible.playbook(
                PLAYBOOKS / "restore.yml",
                capture={DBCTL_TASK},
                extravars={
                    "mck_via": node,
                    "mck_backup_file": str(dbctl_tarball),
                    "mck_backup_name": meta.dbctl_file,
                },
            )
            raise_for_failures(result, f"the restore on {node}")
            entries = _restored(result.captured.get(node, {}).get(DBCTL_TASK, {}), node)
            ui.say(f"restored {entries} keys of {meta.taken}'s backup through {node}")
        _wait_ready(settings, ui, existing)
    finally:
        if existing is not None:
            existing.release()
        lock.release()


def _restored(res: dict[str, object], node: str) -> int:
    """How many keys dbctl restored, or why it failed (its exit code is not enough)."""
    out, err = str(res.get("stdout", "")), str(res.get("stderr", ""))
    rc = res.get("rc")
    failed = [line for line in err.splitlines() if "Failed to restore key" in line]
    if failed:
        raise MckError(
            f"microk8s dbctl restore on {node} could not write {len(failed)} keys"
            f" (first: {failed[0].strip()}); the datastore is partly restored:"
            " run mck restore again"
        )
    done = _COMPLETED.search(err)
    if rc != 0 or done is None:
        last = (err.strip().splitlines() or out.strip().splitlines() or [f"exit {rc}"])[-1]
        raise MckError(f"microk8s dbctl restore on {node} failed: {last}")
    if int(done[1]) == 0:
        raise MckError(f"microk8s dbctl restore on {node} found no keys in the backup")
    return int(done[1])


def _wait_ready(settings: Settings, ui: Ui, existing: Existing) -> None:
    ui.phase("ready", "waiting until every node is ready")
    probes = probe(
        existing.ansible, existing.nodes, existing.cluster_ips, wait_ready=settings.ready_timeout
    )
    # A worker answers status with its sentence: it has no datastore to be ready with.
    waiting = [
        p.node.name for p in probes if p.status is None or p.status.state not in READY_STATES
    ]
    if waiting:
        raise ClusterError(
            f"restored, but not ready after {settings.ready_timeout} s: {', '.join(waiting)};"
            " see mck status"
        )
    ui.say("every node is ready")
