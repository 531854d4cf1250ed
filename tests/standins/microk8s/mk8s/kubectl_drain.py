"""`microk8s kubectl cordon|drain NODE`, as kubectl prints them (k8s.io/kubectl pkg/cmd/drain).

cordon marks the Node unschedulable: `node/<name> cordoned`, or `node/<name> already cordoned`.
drain cordons, then evicts the node's pods and prints `node/<name> drained`. The stand-in runs
no pods but the one DaemonSet microk8s puts on every node, calico-node (kube-system): kubectl
refuses to drain it without `--ignore-daemonsets` and warns about it with. An unknown node is
`Error from server (NotFound): nodes "<name>" not found`, exit 1. `get nodes` shows a cordoned
node as `Ready,SchedulingDisabled`.
"""

from __future__ import annotations

import hashlib
import sys

from . import service

# kubectl drain's flags that take a value, and its boolean ones: what mck and users pass.
VALUE_FLAGS = ("--timeout", "--grace-period", "--pod-selector", "--selector", "-l")
BOOL_FLAGS = (
    "--ignore-daemonsets",
    "--delete-emptydir-data",
    "--delete-local-data",
    "--force",
    "--disable-eviction",
)
# k8s.io/apimachinery rand.String's alphabet: the suffix of a DaemonSet pod's generated name.
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def calico_pod(node: str) -> str:
    """A stable generated name for calico-node's pod on `node` (real ones are random)."""
    digest = hashlib.sha256(node.encode()).digest()
    return "kube-system/calico-node-" + "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:5])


def parse(verb: str, argv: list[str]) -> tuple[list[str], set[str]]:
    """(node names, flags given); exits like kubectl on an unknown flag or no node."""
    names: list[str] = []
    flags: set[str] = set()
    args = iter(argv)
    for arg in args:
        flag = arg.split("=", 1)[0]
        if flag in VALUE_FLAGS:
            if "=" not in arg:
                next(args, None)
            flags.add(flag)
        elif verb == "drain" and flag in BOOL_FLAGS:
            flags.add(flag)
        elif arg.startswith("-"):
            print(f"error: unknown flag: {flag}", file=sys.stderr)
            print(f"See 'kubectl {verb} --help' for usage.", file=sys.stderr)
            sys.exit(1)
        else:
            names.append(arg)
    if not names:
        print(f"error: USAGE: {verb} NODE [flags]", file=sys.stderr)
        print(f"See 'kubectl {verb} -h' for help and examples", file=sys.stderr)
        sys.exit(1)
    return names, flags


def cordon(name: str, nodes: list[dict[str, object]]) -> bool:
    """Mark `name` unschedulable and say so; False (after kubectl's error) when it fails."""
    node = next((n for n in nodes if n["name"] == name), None)
    if node is None:
        print(f'Error from server (NotFound): nodes "{name}" not found', file=sys.stderr)
        return False
    if node.get("unschedulable"):
        print(f"node/{name} already cordoned")
        return True
    answer = service.ask("change", {"op": {"op": "cordon_node", "name": name}})
    if answer is None or answer[0] != 200:
        print("Error from server: etcdserver: request timed out", file=sys.stderr)
        return False
    print(f"node/{name} cordoned")
    return True


def main(verb: str, argv: list[str], nodes: list[dict[str, object]]) -> int:
    names, flags = parse(verb, argv)
    code = 0
    for name in names:
        if not cordon(name, nodes):
            code = 1
            continue
        if verb != "drain":
            continue
        pod = calico_pod(name)
        if "--ignore-daemonsets" not in flags:
            reason = (
                "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): " + pod
            )
            print(
                f'error: unable to drain node "{name}" due to error: {reason}, '
                "continuing command...",
                file=sys.stderr,
            )
            print(f"There are pending nodes to be drained:\n {name}\n{reason}", file=sys.stderr)
            code = 1
            continue
        print(f"Warning: ignoring DaemonSet-managed Pods: {pod}", file=sys.stderr)
        print(f"node/{name} drained")
    return code
