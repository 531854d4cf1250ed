#!/usr/bin/python3
"""`cloud-init status [--wait] [--long] [--format tabular|json|yaml]` in a lab VM, as
cloud-init 22.4 (Debian 12's cloud images) prints it. Checked against canonical/cloud-init
cloudinit/cmd/status.py of the 22.x line (UXAppStatus: not run|running|done|error|disabled, no
"degraded" yet): the status comes from /run/cloud-init/status.json and result.json only;
`--wait` prints a dot every 0.25 s while the status is `not run` or `running`, then a newline
before `status: ...` (tabular); exit 1 when the status is `error`, else 0. Other subcommands
are not modelled and say so (exit 2, like argparse's refusal)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from files import DISABLED_FILE, ENABLED, RESULT, STATUS

LONG_TEMPLATE = "boot_status_code: {boot_code}\n{last_update}detail:\n{description}"


def details() -> dict[str, Any]:
    """get_status_details: (status, boot_status_code, description, errors, last_update, ds)."""
    if DISABLED_FILE.exists():
        boot_code = "disabled-by-marker-file"
        description = f"Cloud-init disabled by {DISABLED_FILE}"
    elif ENABLED.exists():
        boot_code = "enabled-by-generator"
        description = "Cloud-init enabled by systemd cloud-init-generator"
    else:
        boot_code, description = "unknown", "Systemd generator may not have run yet."
    status = "disabled" if boot_code.startswith("disabled") else "not run"
    v1: dict[str, Any] = {}
    if STATUS.exists():
        if not RESULT.exists():
            status = "running"
        v1 = json.loads(STATUS.read_text()).get("v1", {})
    errors: list[str] = []
    datasource: str | None = ""
    latest = 0.0
    for key, value in sorted(v1.items()):
        if key == "stage":
            if value:
                status = "running"
                description = f"Running in stage: {value}"
        elif key == "datasource":
            if value is None:
                datasource = None
                continue
            description = value
            datasource = value.partition(" ")[0].lower().replace("datasource", "")
        elif isinstance(value, dict):
            errors.extend(value.get("errors", []))
            start, finished = value.get("start") or 0, value.get("finished") or 0
            if finished == 0 and start != 0:
                status = "running"
            latest = max(latest, start, finished)
    if errors:
        status, description = "error", "\n".join(errors)
    elif status == "not run" and latest > 0:
        status = "done"
    last_update = time.strftime("%a, %d %b %Y %H:%M:%S %z", time.gmtime(latest)) if latest else ""
    return {
        "datasource": datasource,
        "boot_status_code": boot_code,
        "status": status,
        "detail": description,
        "errors": errors,
        "last_update": last_update,
    }


def _yaml(value: Any, indent: int = 0) -> str:
    """The subset of PyYAML's block style (sorted keys) this document needs."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        lines = []
        for key in sorted(value):
            item = value[key]
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:\n{_yaml(item, indent + 2)}")
            else:
                lines.append(f"{pad}{key}: {_yaml(item)}")
        return "\n".join(lines)
    if isinstance(value, list):
        return "[]" if not value else "\n".join(f"{pad}- {_yaml(v)}" for v in value)
    if value is None:
        return "null"
    text = str(value)
    return f"'{text}'" if text == "" or ":" in text or text[0] in "'\"&*!|>%@`#{[-" else text


def status(args: argparse.Namespace) -> int:
    current = details()
    if args.wait:
        while current["status"] in ("not run", "running"):
            if args.format == "tabular":
                sys.stdout.write(".")
                sys.stdout.flush()
            current = details()
            time.sleep(0.25)
    document = {**current, "schemas": {"1": dict(current)}, "_schema_version": "1"}
    if args.format == "tabular":
        prefix = "\n" if args.wait else ""
        print(f"{prefix}status: {current['status']}")
        if args.long:
            last = f"last_update: {current['last_update']}\n" if current["last_update"] else ""
            print(
                LONG_TEMPLATE.format(
                    boot_code=current["boot_status_code"],
                    last_update=last,
                    description=current["detail"],
                )
            )
    elif args.format == "json":
        print(json.dumps(document, indent=2, sort_keys=True, separators=(",", ": ")))
    else:
        print("---\n" + _yaml(document) + "\n...\n")
    return 1 if current["status"] == "error" else 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="/usr/bin/cloud-init")
    sub = parser.add_subparsers(dest="subcommand", required=True)
    st = sub.add_parser("status", description="Report run status of cloud init")
    st.add_argument("--format", choices=["json", "tabular", "yaml"], default="tabular")
    st.add_argument("-l", "--long", action="store_true", default=False)
    st.add_argument("-w", "--wait", action="store_true", default=False)
    if argv and argv[0] not in ("status", "-h", "--help"):
        parser.error(f"the lab's cloud-init stand-in does not implement {argv[0]!r}")
    args = parser.parse_args(argv)
    return status(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
