"""kubectl on the calico-config ConfigMap, on several objects at once, and `rollout restart`.

- `get configmap NAME`, `get TYPE/NAME [TYPE/NAME…]` (calico-node's DaemonSet and calico-config
  in any mix): `-o json` prints the object, or a `List` of them when more than one is named
  (kubectl's printer for several results); `-o name` one `kind.group/name` line each;
  `-o jsonpath=…` (plain field paths) for one object only.
- `patch configmap NAME -p JSON` (strategic or merge; a ConfigMap's data merges the same):
  `configmap/NAME patched`, or `patched (no change)` when the data already holds it.
- `rollout restart daemonset/NAME` (or `daemonset NAME`): the pod template's
  `kubectl.kubernetes.io/restartedAt` annotation is set to now (kubectl polymorphichelpers
  objectrestarter), which rolls the pods: `daemonset.apps/NAME restarted`.
A missing object is `Error from server (NotFound): <plural> "<name>" not found`, exit 1, after
the objects that were found.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

from . import calico_config, daemonset, felix

ChangeSubmitter = Callable[[dict[str, Any]], tuple[bool, str]]
PLURALS = {"configmap": "configmaps", "daemonset.apps": daemonset.PLURAL}


def _refs(args: list[str]) -> list[tuple[str, str]] | None:
    """`TYPE NAME…` or `TYPE/NAME…` as (kind, name) with kind configmap or daemonset.apps."""

    def kind_of(word: str) -> str | None:
        if word.lower() in calico_config.NAMES:
            return "configmap"
        if word.lower() in daemonset.NAMES:
            return "daemonset.apps"
        return None

    if args and "/" not in args[0]:
        kind = kind_of(args[0])
        names = args[1:]
        return [(kind, n) for n in names] if kind and names and "/" not in "".join(names) else None
    refs = []
    for arg in args:
        word, _, name = arg.partition("/")
        kind = kind_of(word)
        if kind is None or not name:
            return None
        refs.append((kind, name))
    return refs or None


def handles(positional: list[str]) -> bool:
    """Whether this module serves the command (the others keep their single-object uses)."""
    verb = positional[0] if positional else ""
    refs = _refs(positional[1:]) if verb in ("get", "patch") else None
    if verb == "rollout":
        return positional[1:2] == ["restart"]
    if refs is None:
        return False
    if verb == "patch":
        return refs[0][0] == "configmap"
    return len(refs) > 1 or refs[0][0] == "configmap"


def main(
    positional: list[str],
    namespace: str,
    output: str,
    patch_text: str | None,
    status: dict[str, Any],
    submit: ChangeSubmitter,
) -> int:
    verb = positional[0]
    if verb == "rollout":
        refs = _refs(positional[2:]) or []
        if len(refs) != 1 or refs[0][0] != "daemonset.apps":
            return _refused(positional)
        return _restart(refs[0][1], namespace, status, submit)
    refs = _refs(positional[1:]) or []
    if verb == "patch":
        if len(refs) != 1 or patch_text is None:
            return _refused(positional)
        return _patch(refs[0][1], namespace, patch_text, status, submit)
    return _get(refs, namespace, output, status)


def _object(kind: str, name: str, namespace: str, status: dict[str, Any]) -> Any:
    if namespace != calico_config.NAMESPACE:
        return None
    if kind == "configmap" and name == calico_config.NAME:
        return calico_config.current(status)
    if kind == "daemonset.apps" and name == daemonset.NAME:
        return daemonset.current(status)
    return None


def _not_found(kind: str, name: str) -> int:
    print(f'Error from server (NotFound): {PLURALS[kind]} "{name}" not found', file=sys.stderr)
    return 1


def _get(refs: list[tuple[str, str]], namespace: str, output: str, status: dict[str, Any]) -> int:
    found, code = [], 0
    for kind, name in refs:
        obj = _object(kind, name, namespace, status)
        if obj is None:
            code = _not_found(kind, name)
        else:
            found.append((kind, name, obj))
    if output == "name":
        for kind, name, _ in found:
            print(f"{kind}/{name}")
    elif output == "json" and len(refs) == 1:
        if found:
            print(json.dumps(found[0][2], indent=4))
    elif output == "json":
        items = [obj for _, _, obj in found]
        listing = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {}}
        print(json.dumps(listing, indent=4))
    elif output.startswith("jsonpath=") and len(refs) == 1:
        if found:
            try:
                sys.stdout.write(felix.jsonpath(found[0][2], output.split("=", 1)[1]))
            except ValueError as err:
                print(f"error: {err}", file=sys.stderr)
                return 1
    else:
        return _refused(["get", *(f"{k}/{n}" for k, n in refs), "-o", output or "(table)"])
    return code


def _patch(
    name: str, namespace: str, text: str, status: dict[str, Any], submit: ChangeSubmitter
) -> int:
    obj = _object("configmap", name, namespace, status)
    if obj is None:
        return _not_found("configmap", name)
    try:
        patch = json.loads(text)
    except ValueError:
        print(
            f'error: unable to parse "{text}": yaml: did not find expected node content',
            file=sys.stderr,
        )
        return 1
    try:
        new = calico_config.patched(obj, patch)
    except calico_config.Invalid as err:
        print(f"Error from server (BadRequest): {err}", file=sys.stderr)
        return 1
    if new is obj:
        print(f"configmap/{name} patched (no change)")
        return 0
    ok, error = submit({"op": "patch_calico_config", "patch": patch})
    if not ok:
        print(f"Error from server: {error}", file=sys.stderr)
        return 1
    print(f"configmap/{name} patched")
    return 0


def _restart(name: str, namespace: str, status: dict[str, Any], submit: ChangeSubmitter) -> int:
    if _object("daemonset.apps", name, namespace, status) is None:
        return _not_found("daemonset.apps", name)
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    ok, error = submit({"op": "restart_calico_node", "at": at})
    if not ok:
        print(f"error: failed to patch: {error}", file=sys.stderr)
        return 1
    print(f"{daemonset.SINGULAR}/{name} restarted")
    return 0


def _refused(positional: list[str]) -> int:
    print(
        "error: the microk8s stand-in's kubectl does not implement: " + " ".join(positional),
        file=sys.stderr,
    )
    return 1
