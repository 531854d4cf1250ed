"""Output never kills work: a screen that went away is not a reason to stop a converge.

`mck 2>&1 | head -1`, a closed terminal or a full disk make writes to stderr/stdout fail
(BrokenPipeError: Python ignores SIGPIPE, so a write raises instead of killing). An exception
there, in the middle of an apply, would unwind through the loop that drains tofu's output and
close its pipe: tofu dies of SIGPIPE with its state half-written. So what mck shows goes through
`SafeStream`, which stops showing after the first failure and keeps the run going (the debug
log still gets every line), and the interpreter's own flush at exit is kept quiet.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO


class SafeStream:
    """A text stream whose writes never raise: after the first failure it drops output."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.broken: str | None = None  # why output stopped, once it has

    def write(self, text: str) -> int:
        if self.broken is None:
            try:
                return self._stream.write(text)
            except (OSError, ValueError) as exc:  # ValueError: the file was closed
                self.broken = str(exc) or type(exc).__name__
        return len(text)

    def flush(self) -> None:
        if self.broken is None:
            try:
                self._stream.flush()
            except (OSError, ValueError) as exc:
                self.broken = str(exc) or type(exc).__name__

    def isatty(self) -> bool:
        try:
            return self._stream.isatty()
        except (OSError, ValueError):
            return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def echo(text: str, stream: TextIO | None = None) -> bool:
    """Print a line of data (stdout by default); False when it could not be written."""
    stream = stream or sys.stdout
    try:
        stream.write(text if text.endswith("\n") else text + "\n")
        stream.flush()
    except (OSError, ValueError):
        return False
    return True


def quiet_exit_flush() -> None:
    """Python flushes stdout and stderr once more as it exits, and reports a failure there as
    "Exception ignored … BrokenPipeError" on stderr. A stream that cannot be flushed now is
    pointed at /dev/null, so that last flush has nowhere to fail."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, stream.fileno())
                os.close(devnull)
            except (OSError, ValueError):
                pass
