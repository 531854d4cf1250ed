"""Files that hold secrets stay private to the user, and do not outlive the run that made them.

- `.mck/` is 0700 whatever an older mck made it: it holds the saved plan (every `TF_VAR_`
  credential in clear text), SSH host keys, control sockets and the debug logs.
- OpenTofu runs under umask 077 (see mck/tofu.py), so what it creates (the plan, the state and
  its backup) is 0600; a state an older run left readable is made 0600 before tofu runs.
- A SIGKILL runs no clean-up: the next run removes what a dead run left. Other mck runs on this
  machine (other projects, other users' runs in a shared $TMPDIR) may be live at that moment, so
  only files whose name matches mck's own pattern exactly, whose owner is this user and whose
  pid (in the name) is dead are removed.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import time
from pathlib import Path

from mck.errors import MckError

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
# OpenTofu's local backend files: `terraform.tfstate` and the copy it keeps of the one before.
STATE_FILES = ("terraform.tfstate", "terraform.tfstate.backup")
# The plan a converge saves: one per project, only ever written under the run lock.
CONVERGE_PLAN = "converge.tfplan"
# The plan `mck plan` saves, which takes no lock: one per process, named by its pid.
PREVIEW_PLAN = re.compile(r"plan-(?P<pid>[0-9]+)\.tfplan")
# tempfile.mkdtemp's random part: 8 characters of tempfile._RandomNameSequence's alphabet.
_MKDTEMP = r"[a-z0-9_]{8}"
# Private data dirs of ansible-runner (mck/ansible.py) and kubeconfig exports in $TMPDIR.
TEMP_DIR = re.compile(rf"mck-(?:runner|kubeconfig)-(?P<pid>[0-9]+)-{_MKDTEMP}")


def private_dir(path: Path) -> Path:
    """Make `path` a directory only its owner can enter (its parent must exist)."""
    try:
        path.mkdir(exist_ok=True, mode=PRIVATE_DIR)
        if stat.S_IMODE(path.stat().st_mode) != PRIVATE_DIR:
            os.chmod(path, PRIVATE_DIR)
    except OSError as exc:
        raise MckError(f"cannot make {path} private: {exc.strerror}") from exc
    return path


def temp_prefix(kind: str) -> str:
    """The prefix of a temporary directory that `remove_dead_temp_dirs` can attribute: this
    process's pid is in its name."""
    return f"mck-{kind}-{os.getpid()}-"


def preview_plan(state_dir: Path) -> Path:
    return state_dir / f"plan-{os.getpid()}.tfplan"


def secure_state(project: Path) -> None:
    """Make the local state files 0600: an older run (or tofu under a loose umask) left them
    readable, and they hold every resource's attributes, secrets included."""
    for name in STATE_FILES:
        path = project / name
        try:
            if stat.S_IMODE(path.lstat().st_mode) & 0o077 and path.is_file():
                os.chmod(path, PRIVATE_FILE)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise MckError(f"cannot make {path} private: {exc.strerror}") from exc


def remove_dead_plans(state_dir: Path, *, converge_lock_held: bool) -> list[Path]:
    """Saved plans of runs that were killed: `mck plan`'s whose pid is dead, and the converge's
    when the caller holds the run lock (then no live converge can be using it)."""
    removed = []
    for path in _entries(state_dir):
        match = PREVIEW_PLAN.fullmatch(path.name)
        dead_preview = match is not None and not pid_alive(int(match["pid"]))
        dead_converge = converge_lock_held and path.name == CONVERGE_PLAN
        if (dead_preview or dead_converge) and _owned_regular(path):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def remove_dead_temp_dirs(temp_dir: Path) -> list[Path]:
    """mck's private temporary directories in `temp_dir` whose process is dead."""
    removed = []
    for path in _entries(temp_dir):
        match = TEMP_DIR.fullmatch(path.name)
        if match is None or pid_alive(int(match["pid"])):
            continue
        try:
            info = path.lstat()
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
            shutil.rmtree(path, ignore_errors=True)
            if path.exists():  # a straggler of the dead run wrote into it meanwhile
                time.sleep(0.2)
                shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def pid_alive(pid: int) -> bool:
    """Whether a process `pid` exists (a live pid of another user counts as alive)."""
    if pid <= 0:
        return True  # not a pid a run of ours can have had: never treat it as dead
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _entries(directory: Path) -> list[Path]:
    try:
        return list(directory.iterdir())
    except OSError:
        return []


def _owned_regular(path: Path) -> bool:
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid()


def before_run(project: Path, state_dir: Path, *, run_lock_held: bool) -> None:
    """What every run does before tofu or ansible start: state files private, and whatever a
    killed run of this project (or a dead mck run in $TMPDIR) left behind removed."""
    import tempfile

    secure_state(project)
    remove_dead_plans(state_dir, converge_lock_held=run_lock_held)
    remove_dead_temp_dirs(Path(tempfile.gettempdir()))
