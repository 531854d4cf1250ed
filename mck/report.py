"""Human output: phase headers, progress lines, the summary table. All of it goes to stderr
(stdout is kept for data); colour only when stderr is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

_BOLD, _YELLOW, _RED, _RESET = "\033[1m", "\033[33m", "\033[31m", "\033[0m"


@dataclass
class Ui:
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    color: bool | None = None  # None: decide from the stream

    def __post_init__(self) -> None:
        if self.color is None:
            self.color = bool(getattr(self.stream, "isatty", lambda: False)())

    def _paint(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.color else text

    def write(self, text: str) -> None:
        self.stream.write(text if text.endswith("\n") else text + "\n")
        self.stream.flush()

    def phase(self, name: str, detail: str = "") -> None:
        self.write(self._paint(_BOLD, f"==> {name}" + (f": {detail}" if detail else "")))

    def say(self, line: str) -> None:
        self.write(line)

    def warn(self, line: str) -> None:
        self.write(self._paint(_YELLOW, f"warning: {line}"))

    def error(self, line: str) -> None:
        self.write(self._paint(_RED, f"error: {line}"))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
