"""OpenTofu's errors that mean "bad input, nothing changed", read from its diagnostics.

- A variable's `validation` rule failed: OpenTofu says "Invalid value for variable" with the
  rule's error_message and where the rule is, but a plain reading of its output gives only
  "tofu plan failed (exit 1)". mck names the variable, the rule and the fix, exit 2.
- A corrupt state file: OpenTofu reports it while taking the state lock, as "Error acquiring
  the state lock" (the local backend reads the state when it locks it), which sends users after a
  lock nobody holds. mck says the state is corrupt, and that nothing was changed.

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
        corrupt = _corrupt_state(str(diagnostic.get("detail") or ""))
        if corrupt:
            return corrupt
    return _corrupt_state(output)


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


def _corrupt_state(text: str) -> UsageError | None:
    found = _CORRUPT.search(text)
    if found is None:
        return None
    return UsageError(
        f"the OpenTofu state is corrupt ({found['problem'].rstrip('.')}); nothing was changed: "
        "restore terraform.tfstate (terraform.tfstate.backup holds the state before the last "
        "apply, a remote backend keeps versions) and run again"
    )
