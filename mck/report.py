"""Human output: phase headers, progress, the summary table. All of it goes to stderr (stdout
is kept for data). On a terminal: colour, and one live line that is rewritten in place; anywhere
else (CI, a pipe): plain lines only, no escape codes. Everything shown, and what is only worth
keeping (`debug`), also goes to the run's debug log (mck/debuglog.py) with phase timings."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO, cast

from mck.debuglog import DebugLog
from mck.errors import EXIT_USAGE
from mck.safe_output import SafeStream

_BOLD, _YELLOW, _RED, _RESET = "\033[1m", "\033[33m", "\033[31m", "\033[0m"
_CLEAR_LINE = "\r\033[K"


@dataclass
class Ui:
    # Writes that fail (a closed pipe, a full disk) stop the output, never the run.
    stream: TextIO = field(default_factory=lambda: cast(TextIO, SafeStream(sys.stderr)))
    color: bool | None = None  # None: decide from the stream (a terminal gets colour)
    live: bool | None = None  # None: decide from the stream (a terminal gets the live line)
    log: DebugLog | None = None
    _live_shown: bool = field(default=False, init=False, repr=False)
    _phase: tuple[str, float] | None = field(default=None, init=False, repr=False)
    _phases: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        if self.color is None:
            self.color = tty
        if self.live is None:
            self.live = tty

    def _paint(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.color else text

    def write(self, text: str) -> None:
        """A line (or block) shown to the user, and kept in the log."""
        self._clear_live()
        self.stream.write(text if text.endswith("\n") else text + "\n")
        self.stream.flush()
        self.debug(text)

    def debug(self, text: str) -> None:
        """Only for the log: command lines, full tool output, timings."""
        if self.log is not None:
            self.log.write(text)
            self._warn_if_log_failed()

    def _warn_if_log_failed(self) -> None:
        """A log that cannot be written (read-only .mck/, full disk) costs the log, not the
        run: one warning, then the run goes on without it."""
        if self.log is not None and self.log.failure is not None:
            failure, self.log = self.log.failure, None
            self.warn(f"no debug log for this run: {failure}")

    def phase(self, name: str, detail: str = "") -> None:
        self._end_phase()
        self._phases += 1
        if self._phases == 2 and self.log is not None:
            # Past preflight: the run may change things now, so its log goes to disk.
            self.log.persist()
            self._warn_if_log_failed()
        self.debug(f"phase {name} start")
        self._phase = (name, time.monotonic())
        self.write(self._paint(_BOLD, f"==> {name}" + (f": {detail}" if detail else "")))

    @property
    def current_phase(self) -> str:
        return self._phase[0] if self._phase else ""

    def say(self, line: str) -> None:
        self.write(line)

    def warn(self, line: str) -> None:
        self.write(self._paint(_YELLOW, f"warning: {line}"))

    def error(self, line: str) -> None:
        self.write(self._paint(_RED, f"error: {line}"))

    def status(self, line: str) -> None:
        """Where the run is right now: the live line on a terminal, nothing elsewhere (plain
        output gets its progress as whole lines through `say`)."""
        if not self.live:
            return
        width = shutil.get_terminal_size((100, 24)).columns
        text = line if len(line) < width else line[: width - 2] + "…"
        self.stream.write(_CLEAR_LINE + text)
        self.stream.flush()
        self._live_shown = True

    def close(self, exit_code: int) -> str | None:
        """End the run: the last phase's timing and the exit code go to the log, which is kept
        unless the run stopped on bad input before doing anything. Returns the log's path."""
        self._clear_live()
        self._end_phase()
        if self.log is None:
            return None
        self.debug(f"exit {exit_code}")
        self.log.close(keep=exit_code != EXIT_USAGE)
        return str(self.log.path) if self.log.on_disk else None

    def _end_phase(self) -> None:
        if self._phase is not None:
            name, started = self._phase
            self.debug(f"phase {name} done {time.monotonic() - started:.2f}s")
            self._phase = None

    def _clear_live(self) -> None:
        if self._live_shown:
            self.stream.write(_CLEAR_LINE)
            self._live_shown = False


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
