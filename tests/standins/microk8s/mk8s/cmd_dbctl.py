"""`microk8s dbctl [--debug] backup [-o FILE] | restore FILE`: the datastore's backup and restore.

As canonical/microk8s scripts/wrappers/dbctl.py runs them, over the real dqlite datastore:
- before anything: no permission -> utils' message; a worker (clustered.lock) -> "This MicroK8s
  deployment is acting as a node in a cluster." / "Please use the master node.", exit 1
  (common/utils.py is_cluster_locked); no kine socket (k8s-dqlite not running, e.g. a stopped
  node) -> "Please ensure the kubernetes apiserver is running and HA is enabled.", exit 10.
- backup: "Backing up the datastore"; `k8s-dqlite migrator --mode backup-dqlite --db-dir
  <tmp>/<name>` writes N.key / N.data per key (0640, directory 0700); the directory goes into
  `<name>.tar.gz` (default name backup-%Y-%m-%d-%H-%M-%S, local time; `-o` given with or
  without .tar.gz) in the current directory; "The backup is: <name>.tar.gz". A migrator failure
  (no quorum: kine cannot list) -> "Backup process failed. 1", exit 1, no file.
- restore: "Restoring from <file>"; the tar is extracted (path traversal refused) and the
  directory named after the file (its basename without .tar.gz) is restored key by key:
  RestoreToDqlite logs a key it cannot write ("Failed to restore key") and goes on, and ends
  with "Completed database restore" and exit 0 even so; a renamed file finds no directory and
  restores 0 entries. The migrator logs with logrus (text format, stderr). dbctl.py restarts
  no service: the API server reads the restored keys as they are written.
kine_keys.py says how the stand-in's state maps to keys.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from . import common, dqlite, kine_keys, paths, service, store

HA_MESSAGE = "Please ensure the kubernetes apiserver is running and HA is enabled."


def _endpoint() -> str:
    return f"unix://{paths.backend()}/kine.sock:12379"


def _logrus(level: str, msg: str, **fields: Any) -> None:
    """One line as logrus' TextFormatter writes it when stderr is not a terminal."""

    def value(v: Any) -> str:
        text = str(v)
        plain = text and all(c.isalnum() or c in "-._/@^+" for c in text)
        return text if plain else '"' + text.replace('"', '\\"') + '"'

    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    extra = "".join(f" {k}={value(v)}" for k, v in sorted(fields.items()))
    print(f'time="{now}" level={level} msg={value(msg)}{extra}', file=sys.stderr, flush=True)


def _migrator_start(mode: str, db_dir: str) -> None:
    _logrus("info", "Starting migrator", dir=db_dir, endpoint=_endpoint(), mode=mode)


def backup(fname: str | None) -> None:
    if not fname:
        fname = "backup-" + datetime.datetime.now().strftime("%Y-%m-%d-%H-%M-%S")
    if fname.endswith(".tar.gz"):
        fname = fname[:-7]
    fname_tar = f"{fname}.tar.gz"
    with tempfile.TemporaryDirectory() as tmp:
        db_dir = f"{tmp}/{fname}"
        _migrator_start("backup-dqlite", db_dir)
        try:
            shared, _ = store.load_shared(timeout=10.0)
        except dqlite.Unavailable as err:
            _logrus("fatal", "Failed to backup dqlite", error=f"failed to list keys: {err}")
            print("Backup process failed. 1", flush=True)
            sys.exit(1)
        os.makedirs(db_dir, 0o700)
        for idx, (key, data) in enumerate(kine_keys.dump(shared)):
            _logrus("info", "Writing key", index=idx, key=key, len=len(data))
            for suffix, content in (("key", key.encode()), ("data", data)):
                path = Path(db_dir, f"{idx}.{suffix}")
                path.write_bytes(content)
                path.chmod(0o640)
        with tarfile.open(fname_tar, "w:gz") as tar:
            tar.add(db_dir, arcname=os.path.basename(db_dir))
    print(f"The backup is: {fname_tar}", flush=True)


def _safe_extract(tar: tarfile.TarFile, path: str) -> None:
    for member in tar.getmembers():
        target = os.path.abspath(os.path.join(path, member.name))
        if os.path.commonpath([os.path.abspath(path), target]) != os.path.abspath(path):
            raise Exception("Attempted Path Traversal in Tar File")
    tar.extractall(path)


def restore(fname_tar: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fname_tar, "r:gz") as tar:  # a missing file: the traceback, exit 1
            _safe_extract(tar, tmp)
        fname = os.path.basename(fname_tar[:-7] if fname_tar.endswith(".tar.gz") else fname_tar)
        db_dir = f"{tmp}/{fname}"
        _migrator_start("restore-to-dqlite", db_dir)
        idx = 0
        while Path(db_dir, f"{idx}.key").is_file():
            key = Path(db_dir, f"{idx}.key").read_text()
            data = Path(db_dir, f"{idx}.data").read_bytes()
            try:
                store.update_shared(lambda shared, k=key, d=data: _put(shared, k, d))
            except (dqlite.Unavailable, ValueError, KeyError, StopIteration):
                _logrus("error", "Failed to restore key", index=idx, key=key)
            idx += 1
        _logrus("info", "Completed database restore", entries=idx)


def _put(shared: dict[str, Any], key: str, data: bytes) -> dict[str, Any]:
    kine_keys.put(shared, key, data)
    return shared


def main(argv: list[str]) -> None:
    common.exit_if_no_permissions()
    if common.is_worker():
        common.die(
            "This MicroK8s deployment is acting as a node in a cluster.\n"
            "Please use the master node.",
            1,
        )
    if paths.has_lock("stopped.lock") or service.pid() is None:
        common.die(HA_MESSAGE, 10)
    parser = argparse.ArgumentParser(
        description="backup and restore the Kubernetes datastore.", prog="microk8s dbctl"
    )
    parser.add_argument("--debug", action="store_true", help="print debug output")
    commands = parser.add_subparsers(title="commands", help="backup and restore operations")
    restore_parser = commands.add_parser("restore")
    restore_parser.add_argument("backup-file", help="name of file with the backup")
    backup_parser = commands.add_parser("backup")
    backup_parser.add_argument("-o", metavar="backup-file", help="output filename")
    args = parser.parse_args(argv)
    if "backup-file" in args:
        fname = vars(args)["backup-file"]
        print(f"Restoring from {fname}", flush=True)
        restore(fname)
    elif "o" in args:
        print("Backing up the datastore", flush=True)
        backup(vars(args)["o"])
    else:
        parser.print_help()
