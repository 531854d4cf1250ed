"""Where the snap keeps things, with the real paths.

Real layout (snapd + microk8s `snap/hooks/install`): the read-only snap under
/snap/microk8s/<rev> (current -> <rev>), per-revision data under /var/snap/microk8s/<rev>
(SNAP_DATA, current -> <rev>), data shared by revisions under /var/snap/microk8s/common
(SNAP_COMMON). Like the real wrappers, SNAP_DATA and SNAP_COMMON may be overridden from the
environment, which lets unit tests run the pure parts without root.
"""

from __future__ import annotations

import os
from pathlib import Path

SNAP_BIN = Path("/snap/bin")
SNAP_MOUNT = Path("/snap/microk8s")
SNAP_CORE = Path("/snap/core")
SNAP_DATA_ROOT = Path("/var/snap/microk8s")
# The stand-in's own registry of "installed snaps" (snapd keeps this in /var/lib/snapd/state.json).
SNAPD_STATE = Path("/var/lib/snapd/standin-snaps.json")
# The launch configuration files the install hook looks for, first found wins
# (microk8s snap/hooks/install, 1.27+). The last one is the snap's bundled default.
LAUNCH_CONFIG_CANDIDATES = (
    Path("/etc/microk8s.yaml"),
    Path("/root/snap/microk8s/common/.microk8s.yaml"),
    SNAP_DATA_ROOT / "common" / ".microk8s.yaml",
)


def snap_data() -> Path:
    return Path(os.environ.get("SNAP_DATA", str(SNAP_DATA_ROOT / "current")))


def snap_common() -> Path:
    return Path(os.environ.get("SNAP_COMMON", str(SNAP_DATA_ROOT / "common")))


def args_file(service: str) -> Path:
    return snap_data() / "args" / service


def credentials(name: str) -> Path:
    return snap_data() / "credentials" / name


def certs(name: str) -> Path:
    return snap_data() / "certs" / name


def backend() -> Path:
    """dqlite's directory: info.yaml, cluster.yaml, cluster.crt/key (k8s-dqlite --storage-dir)."""
    return snap_data() / "var" / "kubernetes" / "backend"


def backend_backup() -> Path:
    return snap_data() / "var" / "kubernetes" / "backend.backup"


def lock_path(name: str) -> Path:
    return snap_data() / "var" / "lock" / name


def has_lock(name: str) -> bool:
    return lock_path(name).is_file()


def set_lock(name: str) -> None:
    path = lock_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o700)


def clear_lock(name: str) -> None:
    lock_path(name).unlink(missing_ok=True)


def run_dir() -> Path:
    """Runtime files of the stand-in daemon (pid file, local control socket)."""
    return snap_data() / "var" / "run"


def daemon_socket() -> Path:
    return run_dir() / "standin-daemon.sock"


def daemon_pidfile() -> Path:
    return run_dir() / "standin-daemon.pid"


def daemon_log() -> Path:
    return snap_common() / "var" / "log" / "standin-daemon.log"


def is_installed() -> bool:
    return has_lock("installed.lock")
