"""What installing and removing the microk8s snap does to a host.

Install follows microk8s snap/hooks/install (1.32): default args, credentials, the launch
configuration applied before anything starts, CA + server certificate (certs/csr.conf.template,
rewritten by the configuration's extraSANs, rendered with every `hostname -I` address), the
admin kubeconfig, a one-node dqlite at 127.0.0.1:19001, the locks (ha-cluster, lite.lock,
no-etcd, no-flanneld, no-apiserver-proxy, installed.lock); then snapd starts the services.
Remove stops the services and deletes /snap/microk8s and /var/snap/microk8s (data and common).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from . import (
    addons,
    backend,
    calico_config,
    certs,
    cmd_kubectl,
    kubeconfig,
    launch_config,
    netinfo,
    paths,
    service,
    svcargs,
)

MICROK8S_APPS = (
    "add-node", "config", "disable", "enable", "join", "kubectl", "leave", "refresh-certs",
    "remove-node", "start", "status", "stop", "version",
)  # fmt: skip
ENTRY = Path(__file__).resolve().parent.parent / "microk8s.py"


class HookError(Exception):
    """The install hook failed; the text is what the hook printed."""


def write_snap(version: str, revision: str) -> None:
    """Mount revision `revision` and point `current` at it (also what a refresh does)."""
    rev_dir = paths.SNAP_MOUNT / revision
    (rev_dir / "meta").mkdir(parents=True, exist_ok=True)
    (rev_dir / "meta" / "snap.yaml").write_text(
        f"name: microk8s\nversion: {version}\nrevision: {revision}\nconfinement: classic\n"
    )
    # The snap's own copy of the certificate template (microk8s-resources/certs/).
    (rev_dir / "certs").mkdir(exist_ok=True)
    (rev_dir / "certs" / "csr.conf.template").write_text(certs.SHIPPED_CSR_TEMPLATE)
    # $SNAP/kubectl: the real kubectl of (nearest) the revision's release.
    kubectl = rev_dir / "kubectl"
    kubectl.unlink(missing_ok=True)
    kubectl.symlink_to(cmd_kubectl.binary_for(version))
    # $SNAP/bin/dqlite: go-dqlite's shell, which microk8s ships and its wrappers run
    # (scripts/wrappers/join.py update_dqlite); Debian's go-dqlite build is the same program.
    (rev_dir / "bin").mkdir(exist_ok=True)
    shell = rev_dir / "bin" / "dqlite"
    shell.unlink(missing_ok=True)
    shell.symlink_to("/usr/bin/dqlite")
    current = paths.SNAP_MOUNT / "current"
    current.unlink(missing_ok=True)
    current.symlink_to(revision)
    data_rev = paths.SNAP_DATA_ROOT / revision
    data_rev.mkdir(parents=True, exist_ok=True)
    data_current = paths.SNAP_DATA_ROOT / "current"
    if not data_current.is_symlink():
        data_current.symlink_to(revision)
    paths.snap_common().mkdir(parents=True, exist_ok=True)
    paths.SNAP_BIN.mkdir(parents=True, exist_ok=True)
    commands = {"microk8s": ""} | {f"microk8s.{app}": f" {app}" for app in MICROK8S_APPS}
    for name, sub in commands.items():
        wrapper = paths.SNAP_BIN / name
        wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} {ENTRY}{sub} "$@"\n')
        wrapper.chmod(0o755)


def install_hook() -> None:
    """Lay out SNAP_DATA; raises HookError like a failing hook (the install is then undone)."""
    for sub in ("credentials", "certs", "var/lock", "var/run", "var/tmp"):
        (paths.snap_data() / sub).mkdir(parents=True, exist_ok=True)
    svcargs.write_defaults()
    config_path, text = launch_config.find()
    output = ""
    if config_path is not None:
        output = f"Found config file {config_path}, will use to initialize cluster.\n"
    try:
        sans, wanted = launch_config.apply(launch_config.parse(text))
    except launch_config.LaunchConfigError as err:
        raise HookError(f"{output}Error: failed to parse config file: {err}") from None
    calico_config.generate()  # generate-cni.sh, from the cni-env the launch configuration set
    certs.make_ca()
    certs.write_csr_template(sans)  # apply.go reconcileExtraSANs
    certs.make_server_cert(netinfo.all_ips())
    kubeconfig.write_client_config()
    for lock in ("no-etcd", "no-flanneld", "no-apiserver-proxy", "ha-cluster", "lite.lock"):
        paths.set_lock(lock)
    cluster_addons: list[str] = []
    for item in wanted:  # reconcileAddons at first start; an unknown name is skipped here
        addon = addons.find(item.name)
        if addon is None:
            continue
        if addon.local:
            lock = "ha-cluster" if addon.name == "ha-cluster" else f"standin-addon-{addon.name}"
            (paths.clear_lock if item.disable else paths.set_lock)(lock)
        elif item.disable:
            cluster_addons = [a for a in cluster_addons if a != addon.name]
        else:
            cluster_addons.append(addon.name)
    backend.fresh(cluster_addons)
    paths.set_lock("installed.lock")


def install(version: str, revision: str) -> None:
    write_snap(version, revision)
    try:
        install_hook()
    except Exception:
        remove_files(keep_common=True)  # the user's launch configuration survives a failed install
        raise
    service.start()
    service.wait_ready(60)


def install_core(revision: str) -> None:
    """The core snap only has to exist: /snap/core/<rev> and its `current` link."""
    (paths.SNAP_CORE / revision).mkdir(parents=True, exist_ok=True)
    current = paths.SNAP_CORE / "current"
    current.unlink(missing_ok=True)
    current.symlink_to(revision)


def remove_core() -> None:
    shutil.rmtree(paths.SNAP_CORE, ignore_errors=True)


def remove_files(*, keep_common: bool = False) -> None:
    service.stop()
    for name in ["microk8s", *(f"microk8s.{app}" for app in MICROK8S_APPS)]:
        (paths.SNAP_BIN / name).unlink(missing_ok=True)
    shutil.rmtree(paths.SNAP_MOUNT, ignore_errors=True)
    if not paths.SNAP_DATA_ROOT.is_dir():
        return
    for entry in paths.SNAP_DATA_ROOT.iterdir():
        if keep_common and entry.name == "common":
            continue
        if entry.is_symlink() or entry.is_file():
            entry.unlink()
        else:
            shutil.rmtree(entry, ignore_errors=True)
    if not keep_common:
        shutil.rmtree(paths.SNAP_DATA_ROOT, ignore_errors=True)
