"""`microk8s kubectl`: only what the project uses, as kubectl prints: `get nodes`, `delete node`,
`get|patch felixconfiguration` (kubectl_felix.py), `cordon|drain NODE` (kubectl_drain.py),
`get daemonset` and `set env` for calico-node (kubectl_daemonset.py).

The wrapper (microk8s-resources/wrappers/microk8s-kubectl.wrapper) answers a worker with a
sentence and exit 0, and a stopped node with utils.sh exit_if_stopped. Table output follows
kubectl's printers: tabwriter with minimum width 6 and padding 3, AGE as
k8s.io/apimachinery duration.HumanDuration, ROLES `<none>` (microk8s sets no node-role labels).
A Node is Ready while its kubelet (here: its daemon) answers for this cluster. Anything else
is refused with a clear message instead of being faked.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, NoReturn

from . import (
    common,
    daemonset,
    felix,
    kubectl_daemonset,
    kubectl_drain,
    kubectl_felix,
    kubectl_objects,
    service,
)

REFUSED = (
    "The connection to the server 127.0.0.1:16443 was refused"
    " - did you specify the right host or port?"
)


def human_duration(seconds: float) -> str:
    s = int(seconds)
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = hours // 24
        return f"{days // 365}y{days % 365}d"
    return f"{hours // 24 // 365}y"


def table(rows: list[list[str]]) -> str:
    """kubectl's tabwriter (minwidth 6, padding 3); the last column is not padded."""
    widths = [max(6, max(len(r[i]) for r in rows) + 3) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + r[-1] for r in rows
    )


def node_object(n: dict[str, Any]) -> dict[str, Any]:
    role = "microk8s-worker" if n.get("worker") else "microk8s-controlplane"
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(n["created"]))
    ready = {
        "type": "Ready",
        "status": "True" if n["ready"] else "Unknown",
        "reason": "KubeletReady" if n["ready"] else "NodeStatusUnknown",
        "message": "kubelet is posting ready status"
        if n["ready"]
        else "Kubelet stopped posting node status.",
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": n["name"],
            "creationTimestamp": created,
            "labels": {
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": n["name"],
                "kubernetes.io/os": "linux",
                "microk8s.io/cluster": "true",
                f"node.kubernetes.io/{role}": role,
            },
        },
        "spec": _spec(n),
        "status": {
            "addresses": [
                {"address": n["internal_ip"], "type": "InternalIP"},
                {"address": n["name"], "type": "Hostname"},
            ],
            "conditions": [ready],
            "nodeInfo": {
                "architecture": "amd64",
                "containerRuntimeVersion": "containerd://1.6.28",
                "kernelVersion": os.uname().release,
                "kubeletVersion": n["version"],
                "operatingSystem": "linux",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
            },
        },
    }


def _spec(n: dict[str, Any]) -> dict[str, Any]:
    if not n.get("unschedulable"):
        return {}
    # What cordon sets; the taint the node controller adds later is not modelled.
    return {"unschedulable": True}


def get_nodes(names: list[str], output: str, headers: bool, nodes: list[dict[str, Any]]) -> int:
    wanted = sorted(nodes, key=lambda n: n["name"])
    missing = [name for name in names if not any(n["name"] == name for n in nodes)]
    if names:
        wanted = [n for name in names for n in nodes if n["name"] == name]
    for name in missing:
        print(f'Error from server (NotFound): nodes "{name}" not found', file=sys.stderr)
    if output == "json":
        objects = [node_object(n) for n in wanted]
        if len(names) == 1 and objects:
            print(json.dumps(objects[0], indent=4))
        elif not (names and not objects):
            doc = {
                "apiVersion": "v1",
                "items": objects,
                "kind": "List",
                "metadata": {"resourceVersion": ""},
            }
            print(json.dumps(doc, indent=4))
    elif output == "name":
        for n in wanted:
            print(f"node/{n['name']}")
    elif wanted:
        head = ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
        if output == "wide":
            head += [
                "INTERNAL-IP",
                "EXTERNAL-IP",
                "OS-IMAGE",
                "KERNEL-VERSION",
                "CONTAINER-RUNTIME",
            ]
        rows = [head] if headers else []
        for n in wanted:
            row = [
                n["name"],
                ("Ready" if n["ready"] else "NotReady")
                + (",SchedulingDisabled" if n.get("unschedulable") else ""),
                "<none>",
                human_duration(time.time() - n["created"]),
                n["version"],
            ]
            if output == "wide":
                row += [
                    n["internal_ip"],
                    "<none>",
                    "Debian GNU/Linux 12 (bookworm)",
                    os.uname().release,
                    "containerd://1.6.28",
                ]
            rows.append(row)
        print(table(rows) if rows else "")
    elif not names:
        print("No resources found", file=sys.stderr)
    return 1 if missing else 0


def felix_command(
    positional: list[str],
    output: str,
    headers: bool,
    patch_kind: str,
    patch_text: str | None,
    argv: list[str],
) -> None:
    verb, names = positional[0], positional[2:]
    get_outputs = ("", "json", "yaml", "name")
    if not (
        (verb == "get" and (output in get_outputs or output.startswith("jsonpath=")))
        or (verb == "patch" and output == "")
    ) or (verb == "get" and patch_text is not None):
        _not_implemented(argv)
    current = _running_cluster()
    if verb == "get":
        sys.exit(kubectl_felix.get(names, output, headers, current))
    submit = kubectl_felix.submit_change
    sys.exit(kubectl_felix.patch(names, patch_kind, patch_text, submit, current))


def daemonset_command(
    positional: list[str], namespace: str, output: str, selector: str, argv: list[str]
) -> None:
    """`get daemonset NAME` / `get daemonset/NAME`, `set env daemonset/NAME KEY=VALUE…`."""
    verb = positional[0]
    rest = positional[2:] if verb == "set" else positional[1:]
    env = dict(a.split("=", 1) for a in rest if "=" in a)
    refs = [a for a in rest if "=" not in a]
    if len(refs) == 2 and "/" not in refs[0]:
        refs = [f"{refs[0]}/{refs[1]}"]
    kind, _, name = refs[0].partition("/") if len(refs) == 1 else ("", "", "")
    get_ok = (
        verb == "get" and not env and (output in ("json", "name") or output.startswith("jsonpath="))
    )
    set_ok = verb == "set" and output == "" and not any(a.endswith("-") for a in refs)
    if kind.lower() not in daemonset.NAMES or not name or not (get_ok or set_ok):
        _not_implemented(argv)
    current = _running_cluster()
    if verb == "get":
        sys.exit(kubectl_daemonset.get(name, namespace, output, current))
    submit = kubectl_felix.submit_change
    sys.exit(kubectl_daemonset.set_env(name, namespace, env, selector, submit, current))


def main(argv: list[str]) -> None:
    if common.is_worker():
        print(
            "This MicroK8s deployment is acting as a node in a cluster. Please use the microk8s"
            " kubectl on the master."
        )
        sys.exit(0)
    common.exit_if_stopped()
    if "--kubeconfig" not in " ".join(argv):
        common.exit_if_no_permissions()
    if argv and argv[0] in ("cordon", "drain"):
        current = _running_cluster()
        sys.exit(kubectl_drain.main(argv[0], argv[1:], current["nodes"]))
    output, headers, positional = "", True, []
    patch_kind, patch_text = "strategic", None
    namespace, selector = "default", "*"  # kubectl's defaults (kubeconfig context, set env -c)
    args = iter(argv)
    for arg in args:
        if arg in ("-n", "--namespace"):
            namespace = next(args, "")
            continue
        if arg.startswith(("-n=", "--namespace=")):
            namespace = arg.split("=", 1)[1]
            continue
        if arg in ("-c", "--containers"):
            selector = next(args, "")
            continue
        if arg.startswith(("-c=", "--containers=")):
            selector = arg.split("=", 1)[1]
            continue
        if arg in ("-p", "--patch"):
            patch_text = next(args, None)
        elif arg.startswith(("-p=", "--patch=")):
            patch_text = arg.split("=", 1)[1]
        elif arg == "--type":
            patch_kind = next(args, "")
        elif arg.startswith("--type="):
            patch_kind = arg.split("=", 1)[1]
        elif arg in ("-o", "--output"):
            output = next(args, "")
        elif arg.startswith(("-o=", "--output=")):
            output = arg.split("=", 1)[1]
        elif arg.startswith("-o") and len(arg) > 2:
            output = arg[2:]
        elif arg == "--no-headers":
            headers = False
        else:
            positional.append(arg)
    if kubectl_objects.handles(positional):
        submit = kubectl_felix.submit_change
        status = _running_cluster()
        sys.exit(kubectl_objects.main(positional, namespace, output, patch_text, status, submit))
    if positional[:2] == ["set", "env"] or (
        positional[:1] == ["get"]
        and len(positional) >= 2
        and positional[1].split("/")[0].lower() in daemonset.NAMES
    ):
        daemonset_command(positional, namespace, output, selector, argv)
    if len(positional) >= 2 and positional[1].lower() in felix.NAMES:
        felix_command(positional, output, headers, patch_kind, patch_text, argv)
    supported = (
        patch_text is None
        and len(positional) >= 2
        and positional[0] in ("get", "delete")
        and positional[1] in ("nodes", "node", "no")
    )
    if not supported or output not in ("", "wide", "json", "name"):
        _not_implemented(argv)
    current = _running_cluster()
    if positional[0] == "get":
        sys.exit(get_nodes(positional[2:], output, headers, current["nodes"]))
    code = 0
    for name in positional[2:]:
        answer = service.ask("change", {"op": {"op": "delete_node", "name": name}})
        if not any(n["name"] == name for n in current["nodes"]):
            print(f'Error from server (NotFound): nodes "{name}" not found', file=sys.stderr)
            code = 1
        elif answer is not None and answer[0] == 200:
            print(f'node "{name}" deleted')
        else:
            print("Error from server: etcdserver: request timed out", file=sys.stderr)
            code = 1
    sys.exit(code)


def _not_implemented(argv: list[str]) -> NoReturn:
    """Refused loudly: the stand-in never fakes a kubectl use it does not model."""
    message = f"error: the microk8s stand-in's kubectl does not implement: {' '.join(argv)}"
    common.die(message, 1, err=True)


def _running_cluster() -> dict[str, Any]:
    """The node's view of the cluster; kubectl's connection error while the API is not up."""
    current = service.status(fresh=True)  # the API server reads from dqlite
    if current is None or not current["ready"]:
        common.die(REFUSED, 1, err=True)
    return current
