"""OpenTofu's errors that mean "bad input, nothing changed", read from its diagnostics.

- A variable's `validation` rule failed: OpenTofu says "Invalid value for variable" with the
  rule's error_message and where the rule is, but a plain reading of its output gives only
  "tofu plan failed (exit 1)". mck names the variable, the rule and the fix, exit 2.
- A corrupt state file: OpenTofu reports it while taking the state lock, as "Error acquiring
  the state lock" (the local backend reads the state when it locks it), which sends users after a
  lock nobody holds. mck says the state is corrupt, and that nothing was changed.
- The state locked by another run (another operator's converge holds it for its whole run,
  mck/state_lock.py): one line with what the backend says of the holder, exit 2.

Diagnostics come from `-json` UI events (`plan -json`: {"type": "diagnostic", "diagnostic":
{"summary", "detail", "snippet": {"code", "values": [{"traversal"}]}}}); commands without
`-json` are matched on their text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from mck.errors import UsageError

INVALID_VARIABLE = "Invalid value for variable"
LOCKED = "Error acquiring the state lock"
_CHECKED_AT = re.compile(r"This was checked by the validation rule at (?P<where>\S+?)\.?$", re.M)
_VARIABLE_BLOCK = re.compile(r'variable\s+"(?P<name>[^"]+)"')
# OpenTofu's statefile reader (internal/states/statefile/read.go): every way a state file
# cannot be read starts with this summary.
_CORRUPT = re.compile(r"Unsupported state file format: (?P<problem>[^\n]+)")


def refusal(diagnostics: Iterable[Mapping[str, Any]], output: str = "") -> UsageError | None:
    """The UsageError for the first diagnostic that is bad input, or None."""
    for diagnostic in diagnostics:
        if diagnostic.get("summary") == INVALID_VARIABLE:
            return _invalid_variable(diagnostic)
        corrupt = corrupt_state(str(diagnostic.get("detail") or ""))
        if corrupt:
            return corrupt
    corrupt = corrupt_state(output)
    if corrupt is None and LOCKED in output:
        return UsageError(
            f"the state is locked by another run ({holder_line(output)}); run again once it "
            "has finished"
        )
    return corrupt


def _invalid_variable(diagnostic: Mapping[str, Any]) -> UsageError:
    detail = str(diagnostic.get("detail") or "")
    rule = detail.split("\n\n", 1)[0].strip() or "its validation rule failed"
    checked = _CHECKED_AT.search(detail)
    name = _variable_name(diagnostic.get("snippet") or {})
    where = f" (the rule at {checked['where']})" if checked else ""
    value_from = f"TF_VAR_{name}, a .tfvars file or its default" if name != "?" else "its value"
    return UsageError(f"variable {name} is invalid: {rule}{where}; fix {value_from}")


def _variable_name(snippet: Mapping[str, Any]) -> str:
    for value in snippet.get("values") or []:
        traversal = str(value.get("traversal", ""))
        if traversal.startswith("var."):
            return traversal[len("var.") :]
    block = _VARIABLE_BLOCK.search(str(snippet.get("code") or ""))
    return block["name"] if block else "?"


def corrupt_state(text: str) -> UsageError | None:
    found = _CORRUPT.search(text)
    if found is None:
        return None
    return UsageError(
        f"the OpenTofu state is corrupt ({found['problem'].rstrip('.')}); nothing was changed: "
        "restore terraform.tfstate (terraform.tfstate.backup holds the state before the last "
        "apply, a remote backend keeps versions) and run again"
    )


_FIELD = re.compile(r"^[ \t]*(ID|Path|Who|Created|Error message):[ \t]*(.*?)[ \t]*$", re.M)


def holder_line(output: str) -> str:
    """The lock refusal in one line, from what the backend put in the error.

    The local backend reads the holder's lock record, so its Lock Info (ID, Path, Who,
    Created) is the holder's. The pg backend knows nothing of the holder: its Lock builds the
    LockError from the requester's own info, with Path still empty, and says only "Workspace is
    already locked: <name>" (internal/backend/remote-state/pg/client.go). So Lock Info is passed
    on only when it carries a Path."""
    fields: dict[str, str] = {name: value for name, value in _FIELD.findall(output) if value}
    said: str = fields.get("Error message", "the backend gave no reason")
    if not fields.get("Path"):
        return said
    holder = ", ".join(
        f"{label} {fields[name]}"
        for name, label in (("Who", "held by"), ("Created", "since"), ("ID", "lock ID"))
        if name in fields
    )
    return f"{said}; {holder}" if holder else said
