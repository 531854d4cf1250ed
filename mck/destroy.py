"""`mck --destroy`: every resource in the state, then the files mck generated."""

from __future__ import annotations

import shutil

from mck import kubeconfig, private_files, run_lock, state_lock
from mck.debuglog import LOG_DIR
from mck.phases.context import STATE_DIR, Run, Settings
from mck.preflight import preflight
from mck.report import Ui

# What --destroy removes besides the VMs: only files mck itself writes (never a user's own).
GENERATED = ("inventory", STATE_DIR)
# Removed only when mck wrote it (it carries kubeconfig.MARK): a user's own file stays.
KUBECONFIG_FILE = "kubeconfig"


def destroy(settings: Settings, ui: Ui) -> None:
    """Tear down every resource in the state, then the files mck generated."""
    project = settings.project.resolve()
    ui.phase("preflight", str(project))
    preflight(project, settings.env)
    run = Run.start(settings, ui)
    # One changing run per project, held until this process ends (mck/run_lock.py).
    held = run_lock.acquire(project / STATE_DIR, "destroy")  # noqa: F841 (held for the run)
    private_files.before_run(project, project / STATE_DIR, run_lock_held=True)
    run.init_tofu()
    ui.phase("destroy", f"{run.tofu.name} destroy")
    lock = state_lock.hold(run.tofu, settings.lock_timeout)  # no other run, on any machine
    try:
        run.tofu.destroy()
    finally:
        lock.release()
    for name in GENERATED:
        path = project / name
        if path.is_dir():
            # The debug logs stay (this run's own among them): they outlive the cluster.
            for child in path.iterdir():
                if child.name == LOG_DIR.name and child.is_dir():
                    continue
                if child.name == run_lock.LOCK_FILE:  # still held by this run
                    continue
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        else:
            path.unlink(missing_ok=True)
    removed = "inventory"
    if kubeconfig.written_by_mck(project / KUBECONFIG_FILE):
        (project / KUBECONFIG_FILE).unlink()
        removed = "inventory, kubeconfig"
    ui.say(f"all resources destroyed; removed {removed} and .mck/ (except {LOG_DIR})")
