"""OpenTofu's output read for people: `-json` UI events as the lines shown, and the line of a
failed command that says what went wrong."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# Machine-readable UI events (`-json`) not shown: the version banner, a second line per
# refreshed resource, and the outputs (mck's own modules define none it shows).
_QUIET_EVENTS = {"version", "refresh_complete", "outputs"}


def event_lines(event: Mapping[str, Any]) -> list[str]:
    """The lines a person sees for one `-json` UI event: its message; for a diagnostic, also
    its detail and where in the configuration it points."""
    if event.get("type") in _QUIET_EVENTS:
        return []
    lines = [str(event.get("@message", ""))]
    if event.get("type") == "diagnostic":
        filename = dig(event, "diagnostic", "range", "filename")
        line = dig(event, "diagnostic", "range", "start", "line")
        if filename:
            lines.append(f"  on {filename} line {line}")
        detail = str(dig(event, "diagnostic", "detail") or "")
        lines += [f"  {text}" if text else "" for text in detail.splitlines()]
    return lines


def event(line: str) -> dict[str, Any] | None:
    """A `-json` UI event, or None for any other line (a plugin's stray output, say)."""
    if not line.startswith("{"):
        return None
    try:
        parsed = json.loads(line)
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) and "@message" in parsed else None


def dig(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def first_error(output: str) -> str:
    """The first `Error: …` line tofu printed, which is the one that says what went wrong."""
    for line in output.splitlines():
        text = line.strip().lstrip("│╷╵ ").strip()
        if text.startswith("Error:"):
            return text[len("Error:") :].strip()
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""
