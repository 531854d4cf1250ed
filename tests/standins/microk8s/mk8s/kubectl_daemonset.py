"""`microk8s kubectl get daemonset calico-node -n kube-system` and `kubectl set env` on it.

- get: one named DaemonSet, `-o json` (the object), `-o name`, `-o jsonpath=…` (plain field
  paths only, see felix.jsonpath); the table and lists are refused as unimplemented.
- set env: `KEY=VALUE…` on the containers `-c/--containers` selects (a glob, default `*`,
  init containers included, as kubectl does). kubectl prints `daemonset.apps/<name> env
  updated` when it patched, and nothing at all (exit 0) when the template already had those
  values: it sends no patch then (kubectl set_env.go, "no changes").
- A DaemonSet that is not there (another name, or a namespace other than kube-system; kubectl's
  default namespace is `default`) is NotFound, exit 1, like kubectl.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from . import daemonset, felix


def _not_found(name: str) -> str:
    return f'Error from server (NotFound): {daemonset.PLURAL} "{name}" not found'


def _exists(namespace: str, name: str) -> bool:
    return namespace == daemonset.NAMESPACE and name == daemonset.NAME


def get(name: str, namespace: str, output: str, status: dict[str, Any]) -> int:
    if not _exists(namespace, name):
        print(_not_found(name), file=sys.stderr)
        return 1
    obj = daemonset.current(status)
    if output.startswith("jsonpath="):
        try:
            sys.stdout.write(felix.jsonpath(obj, output.split("=", 1)[1]))
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
    elif output == "json":
        print(json.dumps(obj, indent=4))
    else:  # name
        print(f"{daemonset.SINGULAR}/{name}")
    return 0


def set_env(
    name: str,
    namespace: str,
    env: dict[str, str],
    selector: str,
    submit: Any,
    status: dict[str, Any],
) -> int:
    """`submit(op)` hands a change to the cluster and returns (ok, error text)."""
    if not env:
        print("error: at least one environment variable must be provided", file=sys.stderr)
        return 1
    if not _exists(namespace, name):
        print(_not_found(name), file=sys.stderr)
        return 1
    obj = daemonset.current(status)
    if not daemonset.matches(obj, selector):
        print(
            f'Warning: DaemonSet/{name} does not have any containers matching "{selector}"',
            file=sys.stderr,
        )
        return 0
    if daemonset.with_env(obj, selector, env) is obj:
        return 0  # kubectl sends no patch and prints nothing
    ok, error = submit({"op": "set_calico_node_env", "selector": selector, "env": env})
    if not ok:
        print(f"error: failed to patch env update to pod template: {error}", file=sys.stderr)
        return 1
    print(f"{daemonset.SINGULAR}/{name} env updated")
    return 0
