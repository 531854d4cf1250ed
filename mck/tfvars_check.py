"""The `.tfvars` files OpenTofu loads by itself, read and checked before anything runs.

OpenTofu only warns about a value for an undeclared variable in `terraform.tfvars` or a
`*.auto.tfvars` file ("Value for undeclared variable", then it goes on with the defaults):
`digitalcoean = { nodes = 2 }` would create the default VMs instead. mck refuses such a file,
naming the nearest declared variable, and reads a `.tfvars.json` that is not an object or not
UTF-8 as bad input, not as a crash.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mck import hcl_cache
from mck.errors import UsageError


def tfvars_files(project: Path) -> list[Path]:
    """The files tofu loads without being asked, in its precedence order (later wins)."""
    files = [project / "terraform.tfvars", project / "terraform.tfvars.json"]
    files += sorted(project.glob("*.auto.tfvars")) + sorted(project.glob("*.auto.tfvars.json"))
    return [path for path in files if path.is_file()]


def read_tfvars(path: Path, cache: hcl_cache.HclCache) -> dict[str, Any]:
    """One file's variable values, or a one-line UsageError saying what is wrong with it."""
    if path.name.endswith(".json"):
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise UsageError(
                f"{path.name} is not UTF-8 text (byte {exc.start}): save it as UTF-8 and retry"
            ) from exc
        except json.JSONDecodeError as exc:
            raise UsageError(f"cannot parse {path.name}: {exc}; fix it and retry") from exc
        if not isinstance(data, dict):
            raise UsageError(
                f"{path.name} holds a JSON {type(data).__name__}, not an object: write it as "
                '{"variable_name": value, …} and retry'
            )
        return data
    return cache.parse(path)


def check_declared(path: Path, values: Iterable[str], declared: Iterable[str]) -> None:
    """Refuse a value for a variable the root module does not declare (a typo, most often)."""
    known = sorted(declared)
    for name in values:
        if name in known:
            continue
        nearest = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = (
            f"did you mean {nearest[0]!r}?"
            if nearest
            else f"declared ones are {', '.join(known) or 'none'}"
        )
        raise UsageError(
            f"{path.name} sets {name!r}, which no variable block declares ({hint}): fix the "
            "name, or OpenTofu ignores the value and uses the defaults"
        )
