"""The debug log every run leaves behind: `<project>/.mck/logs/<UTC time>-<command>.log`.

It holds everything the run showed plus what it did not: the argv of every command, the full
tofu and ansible output, phase timings, the traceback of a crash. Secrets never reach it: every
line is redacted against the credential values (`TF_VAR_…` of the providers' variables) and any
secret a step registers (join tokens); ansible censors `no_log` tasks itself.

A run that stops on bad input before doing anything (exit 2 in preflight) leaves no file: the
one error line says everything, and bad input must not leave anything behind. Lines are kept in
memory until the run gets past that point, then streamed to disk as they come.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from mck.errors import MckError
from mck.private_files import private_dir

LOG_DIR = Path(".mck") / "logs"
KEEP = 20  # logs kept per project; older ones are pruned when a new one is written
MASK = "********"
# Names that say "credential" even when the HCL cannot be read to find the providers' variables.
_SECRET_NAME = re.compile(r"token|secret|passw|access|private_key|api_key", re.IGNORECASE)


def credential_values(env: Mapping[str, str], credential_vars: Iterable[str] = ()) -> list[str]:
    """Values of the `TF_VAR_…` variables that are credentials: those the provider blocks use,
    and any whose name says it is one."""
    wanted = set(credential_vars)
    return [
        value
        for name, value in env.items()
        if name.startswith("TF_VAR_")
        and value
        and (name[len("TF_VAR_") :] in wanted or _SECRET_NAME.search(name[len("TF_VAR_") :]))
    ]


class DebugLog:
    def __init__(self, directory: Path, command: str, secrets: Iterable[str] = ()) -> None:
        self.directory = directory
        self.command = command
        self.path = directory / _name(command)
        self._secrets: list[str] = []
        self._buffer: list[str] = []
        self._handle: TextIO | None = None
        self._closed = False
        # Why the log could not be written (then it is dropped and the run goes on without it).
        self.failure: str | None = None
        self._written = False  # this run created its file
        self.add_secrets(secrets)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret containing another is masked whole.
        self._secrets = sorted({*self._secrets, *(s for s in secrets if s)}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def write(self, text: str) -> None:
        if self._closed:
            return
        line = self.redact(text if text.endswith("\n") else text + "\n")
        if self._handle is None:
            self._buffer.append(line)
            return
        try:
            self._handle.write(line)
            self._handle.flush()
        except OSError as exc:  # a full disk, a file system gone read-only
            self._fail(f"cannot write {self.path}: {exc.strerror or exc}")

    def persist(self) -> None:
        """From now on the log is a file: create it, write what was buffered, prune old logs."""
        if self._handle is not None or self._closed:
            return
        try:
            for directory in (self.directory.parent, self.directory):  # .mck/ and .mck/logs/
                private_dir(directory)
            prune(self.directory, KEEP - 1)
            while self.path.exists():  # two runs in the same second
                self.path = self.path.with_name(self.path.stem + "-1.log")
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            self._handle = os.fdopen(fd, "w", encoding="utf-8")
            self._written = True
            self._handle.writelines(self._buffer)
            self._handle.flush()
        except MckError as exc:
            self._fail(exc.message)
        except OSError as exc:
            self._fail(f"cannot write {self.path}: {exc.strerror or exc}")
        self._buffer.clear()

    def _fail(self, reason: str) -> None:
        """Give up on the log: the run must not stop because its log cannot be written."""
        self.failure = self.failure or reason
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.close()
            self._handle = None
        self._buffer.clear()
        self._closed = True

    def close(self, *, keep: bool = True) -> None:
        """Finish the log; `keep=False` drops a log that never reached the disk."""
        if self._closed:
            return
        if keep:
            self.persist()
        if self._handle is not None:
            try:
                self._handle.close()
            except OSError as exc:
                self.failure = f"cannot write {self.path}: {exc.strerror or exc}"
        self._closed = True

    @property
    def on_disk(self) -> bool:
        """Whether this run's own log is on disk. Not `self.path.exists()`: a run that never
        persisted would then name the log of an earlier run that had the same name."""
        return self._written and self.failure is None


def prune(directory: Path, keep: int) -> None:
    """Remove all but the newest `keep` logs (names sort by time)."""
    logs = sorted(p for p in directory.glob("*.log") if p.is_file())
    for old in logs[: max(0, len(logs) - keep)]:
        old.unlink(missing_ok=True)


def _name(command: str) -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{command}.log"


def for_run(project: Path, command: str, env: Mapping[str, str]) -> DebugLog | None:
    """The log of one run of `command` in `project`; None when `project` is not an mck project
    (then nothing may be written there)."""
    from mck import __version__
    from mck.errors import MckError
    from mck.preflight import check_project, read_config

    project = project.resolve()
    try:
        check_project(project)
    except MckError:
        return None
    try:
        credential_vars = {v for vs in read_config(project).provider_vars.values() for v in vs}
    except MckError:
        credential_vars = set()  # unreadable HCL: preflight will say so; names still match
    log = DebugLog(project / LOG_DIR, command, credential_values(env, credential_vars))
    log.write(f"mck {__version__} {command} in {project}")
    log.write(f"started {datetime.now(UTC).isoformat(timespec='seconds')}")
    return log
