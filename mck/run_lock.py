"""One run that changes things at a time per project: `.mck/run.lock`.

OpenTofu's own state lock is held only while it plans or applies; a second converge started
while the first configures would pass it and run the same playbook and the same joins on the
same nodes. So every command that changes something (converge, destroy) holds an exclusive
`flock` on `.mck/run.lock` for its whole run. The kernel drops a flock when the process ends,
however it ends (SIGKILL included): there is never a stale lock to remove by hand. The file
itself stays (unlinking a lock file lets a third run lock a new file while the second still
holds the old one); it holds who has it, for the refusal of the next run.

Read-only commands (`status`, `plan`) neither take nor wait for it.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mck.errors import UsageError
from mck.private_files import private_dir

LOCK_FILE = "run.lock"


@dataclass
class RunLock:
    """A held lock; it is released when `release` is called or the process ends."""

    path: Path
    fd: int

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the only descriptor drops the flock
            self.fd = -1


def acquire(state_dir: Path, command: str) -> RunLock:
    """Take the project's run lock at once, or refuse (exit 2) naming the run that holds it."""
    private_dir(state_dir)
    path = state_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise UsageError(
            f"another mck run is changing this project: {holder}; wait for it to finish "
            "(or stop that process), then run again"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    record = {
        "pid": os.getpid(),
        "command": command,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
    return RunLock(path, fd)


def _holder(fd: int) -> str:
    """Who holds the lock, from what it wrote. The holder writes just after locking, so a reader
    can find the file still empty: then only "a run" is known."""
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict) or "pid" not in data:
        return "a run whose details are not written yet"
    return f"pid {data['pid']} ({data.get('command', '?')}), started {data.get('started', '?')}"
