"""`microk8s kubectl`: the real kubectl, as microk8s-resources/wrappers/microk8s-kubectl.wrapper
runs it: a worker gets a sentence and exit 0, a stopped node utils.sh exit_if_stopped, a user
who cannot read the admin kubeconfig exit_if_no_permissions (unless `--kubeconfig` is given),
then `$SNAP/kubectl` with the arguments of `$SNAP_DATA/args/kubectl` (the admin kubeconfig,
whose server is this node's API server, https://127.0.0.1:16443) before the user's.

`$SNAP/kubectl` is the real binary of the release the snap ships: a build of this machine's
Google Cloud CLI (`kubectl.1.27` … `kubectl.1.33`), the one whose minor is nearest the
revision's Kubernetes minor (install.write_snap links it; kubectl supports one minor of skew
either way, so 1.34-1.36 tracks get 1.33).
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from . import common, paths

BUILDS = Path("/usr/lib/google-cloud-sdk/bin")
FALLBACK = Path("/usr/bin/kubectl")


def builds() -> dict[int, Path]:
    """The kubectl builds on this machine by minor version."""
    found = {}
    try:
        entries = list(BUILDS.iterdir())
    except OSError:
        entries = []
    for entry in entries:
        match = re.fullmatch(r"kubectl\.1\.(\d+)", entry.name)
        if match and os.access(entry, os.X_OK):
            found[int(match[1])] = entry
    return found


def binary_for(version: str) -> Path:
    """The build whose minor is nearest `version`'s (v1.32.9 -> kubectl.1.32)."""
    minor = int(version.lstrip("v").split(".")[1])
    available = builds()
    if not available:
        return FALLBACK
    return available[min(available, key=lambda m: (abs(m - minor), -m))]


def _args_file() -> list[str]:
    path = paths.snap_data() / "args" / "kubectl"
    try:
        text = path.read_text()
    except OSError:
        return [f"--kubeconfig={paths.credentials('client.config')}"]
    # The wrapper's bash expands ${SNAP_DATA} and ${SNAP}.
    values = {"SNAP_DATA": str(paths.snap_data()), "SNAP": str(paths.SNAP_MOUNT / "current")}
    return [re.sub(r"\$\{(\w+)\}", lambda m: values.get(m[1], m[0]), a) for a in shlex.split(text)]


def main(argv: list[str]) -> None:
    if common.is_worker():
        print(
            "This MicroK8s deployment is acting as a node in a cluster. Please use the microk8s"
            " kubectl on the master."
        )
        raise SystemExit(0)
    common.exit_if_stopped()
    if "--kubeconfig" not in " ".join(argv):
        common.exit_if_no_permissions()
    binary = paths.SNAP_MOUNT / "current" / "kubectl"
    os.execv(str(binary), [str(binary), *_args_file(), *argv])
