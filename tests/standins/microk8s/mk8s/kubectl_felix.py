"""`microk8s kubectl get|patch felixconfiguration`, printed as kubectl prints a custom resource.

- get: the table is the API server's default for a v1 CRD without printer columns (NAME,
  CREATED AT); `-o json` one object (a List without a name), `-o yaml`, `-o name`,
  `-o jsonpath=…` (plain field paths only, see felix.jsonpath).
- patch: `--type merge` with a JSON object. kubectl prints `<singular>.<group>/<name> patched`,
  or `patched (no change)` when the object came back unchanged; the server's warnings for
  pruned fields go to stderr as `Warning: …`. The default strategic merge patch is answered
  415 for custom resources; `--type json` is not implemented by the stand-in (refused loudly).
- Errors exit 1 like kubectl: NotFound for a name other than `default`, `unable to parse` for a
  patch that is not JSON (real kubectl also accepts YAML there; the stand-in does not), Invalid
  (422) for a schema violation.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from . import felix, service

UNSUPPORTED_MEDIA = (
    "Error from server (UnsupportedMediaType): the body of the request was in an unknown format"
    " - accepted media types include: application/json-patch+json, application/merge-patch+json,"
    " application/apply-patch+yaml"
)


def _not_found(name: str) -> str:
    return f'Error from server (NotFound): {felix.PLURAL} "{name}" not found'


def get(names: list[str], output: str, headers: bool, status: dict[str, Any]) -> int:
    obj = felix.current(status)
    found = [obj for name in names if name == obj["metadata"]["name"]] if names else [obj]
    for name in names:
        if name != obj["metadata"]["name"]:
            print(_not_found(name), file=sys.stderr)
    if output.startswith("jsonpath="):
        try:
            texts = [felix.jsonpath(o, output.split("=", 1)[1]) for o in found]
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        sys.stdout.write("".join(texts))
    elif output == "json":
        doc: Any = found[0] if len(names) == 1 and found else None
        if doc is None and not (names and not found):
            doc = {
                "apiVersion": "v1",
                "items": found,
                "kind": "List",
                "metadata": {"resourceVersion": ""},
            }
        if doc is not None:
            print(json.dumps(doc, indent=4))
    elif output == "yaml":
        doc = found[0] if len(names) == 1 and found else None
        if doc is None and not (names and not found):
            doc = {
                "apiVersion": "v1",
                "items": found,
                "kind": "List",
                "metadata": {"resourceVersion": ""},
            }
        if doc is not None:
            print(felix.to_yaml(doc))
    elif output == "name":
        for o in found:
            print(f"{felix.SINGULAR}/{o['metadata']['name']}")
    elif found:
        rows = [["NAME", "CREATED AT"]] if headers else []
        rows += [[o["metadata"]["name"], o["metadata"]["creationTimestamp"]] for o in found]
        width = max(6, max(len(r[0]) for r in rows) + 3)
        print("\n".join(r[0].ljust(width) + r[1] for r in rows))
    return 1 if len(found) < len(names) else 0


def patch(
    names: list[str], kind: str, text: str | None, submit: Any, status: dict[str, Any]
) -> int:
    """`submit(op)` hands a change to the cluster and returns (ok, error text)."""
    if text is None:
        print(
            "error: must specify --patch or --patch-file containing the contents of the patch",
            file=sys.stderr,
        )
        return 1
    if len(names) != 1:
        print("error: you must specify the name of exactly one resource to patch", file=sys.stderr)
        return 1
    if kind not in ("strategic", "merge", "json"):
        print(f'error: --type must be one of [json merge strategic], not "{kind}"', file=sys.stderr)
        return 1
    try:
        body = json.loads(text)
    except ValueError as err:
        print(f"error: unable to parse {json.dumps(text)}: yaml: {err}", file=sys.stderr)
        return 1
    if kind == "json":
        print(
            "error: the microk8s stand-in's kubectl does not implement: patch --type json",
            file=sys.stderr,
        )
        return 1
    name = names[0]
    current = felix.current(status)
    if name != current["metadata"]["name"]:
        print(_not_found(name), file=sys.stderr)
        return 1
    if kind == "strategic":
        print(UNSUPPORTED_MEDIA, file=sys.stderr)
        return 1
    try:
        new, warnings = felix.patched(current, body)
    except felix.Invalid as err:
        print(f'The {felix.KIND} "{name}" is invalid: {err}', file=sys.stderr)
        return 1
    for warning in warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    if new is current:
        print(f"{felix.SINGULAR}/{name} patched (no change)")
        return 0
    ok, error = submit({"op": "patch_felix", "patch": body})
    if not ok:
        print(f"Error from server: {error}", file=sys.stderr)
        return 1
    print(f"{felix.SINGULAR}/{name} patched")
    return 0


def submit_change(op: dict[str, Any]) -> tuple[bool, str]:
    answer = service.ask("change", {"op": op})
    if answer is None:
        return False, "etcdserver: request timed out"
    if answer[0] != 200:
        return False, str((answer[1] or {}).get("error", "etcdserver: request timed out"))
    return True, ""
