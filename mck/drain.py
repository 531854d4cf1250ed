"""Why `kubectl drain` would not empty a leaving node, as data, and the one line mck says about
it. Pure: no I/O; the text and JSON come from remove_node.yml's drain and its rescue.

kubectl facts this relies on (kubernetes/kubectl, the client decides all but the budgets):
- pkg/drain/filters.go: each pod the filters refuse is reported by `PodDeleteList.errors()` as
  `cannot delete <reason>: <ns>/<pod>, <ns>/<pod>` with the reasons `unmanagedFatal` ("Pods that
  declare no controller (use --force to override)"), `daemonSetFatal` ("DaemonSet-managed Pods
  (use --ignore-daemonsets to ignore)"), `localStorageFatal` ("Pods with local storage (use
  --delete-emptydir-data to override)"), or the API's error for a DaemonSet pod whose DaemonSet
  is gone (deleted only with --force).
- pkg/cmd/drain/drain.go `RunDrain`: the node is cordoned first, and a failed node is reported as
  `error: unable to drain node "<node>" due to error: <err>, continuing command...`; it stays
  cordoned.
- pkg/drain/drain.go `evictPods`: an eviction the API server answers 429 is retried, each time
  printing `error when evicting pods/"<pod>" -n "<ns>" (will retry after 5s): <message>`, until
  `--timeout`: `error when evicting pods/"<pod>" -n "<ns>": global timeout reached: 2m0s`. The
  API server's message for a disruption budget (kubernetes pkg/registry/core/pod/storage/
  eviction.go) is "Cannot evict pod as it would violate the pod's disruption budget." and does
  not name the budget: mck reads the budgets (`kubectl get pdb -A -o json`) and the node's pods
  and matches their selectors.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

FORCE_FLAG = "--force-drain"  # mck's flag that passes --force to kubectl drain

# The reasons of filters.go, as mck words them (kubectl's own words name kubectl's flags).
UNMANAGED = "Pods that declare no controller (use --force to override)"
DAEMONSET = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
LOCAL_STORAGE = "Pods with local storage (use --delete-emptydir-data to override)"
_REASONS = {
    UNMANAGED: "no controller would recreate them",
    DAEMONSET: "DaemonSet pods",
    LOCAL_STORAGE: "they keep data in emptyDir volumes",
}
# remove_node.yml: the drain, and its rescue's reads of what can name a blocking budget.
DRAIN_TASK = "Drain the leaving node"
CHECK_TASK = "Check that kubectl would drain the leaving nodes"  # drain_check.yml
UNCORDON_TASK = "Uncordon the node the drain left cordoned"
BUDGETS_TASK = "Read the disruption budgets"
PODS_TASK = "Read the pods on the leaving node"
READ_TASKS = (BUDGETS_TASK, PODS_TASK)
BUDGET_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget"

_POD = r"[a-z0-9][a-z0-9.-]*/[a-z0-9][a-z0-9.-]*"
_CANNOT_DELETE = re.compile(rf"cannot delete (.+?): ({_POD}(?:, {_POD})*)")
_EVICTION = re.compile(r'error when evicting pods/"([^"]+)" -n "([^"]+)"(?: \([^)]*\))?: (.*)')
_UNABLE = re.compile(
    r'^error: unable to drain node "([^"]+)" due to error: (.*), continuing command'
)
_TERMINATING = re.compile(r'error when waiting for pod "([^"]+)" in namespace "([^"]+)"')


@dataclass(frozen=True)
class Refusal:
    """What kept kubectl drain from emptying one node."""

    refused: dict[str, tuple[str, ...]] = field(default_factory=dict)  # reason → ns/pod
    budget_blocked: tuple[str, ...] = ()  # evictions a disruption budget refused (ns/pod)
    timed_out: tuple[str, ...] = ()  # pods still there when --timeout ran out (ns/pod)

    @property
    def forcible(self) -> bool:
        """Every refusal is one `--force` lifts (no controller, or a DaemonSet that is gone)."""
        return bool(self.refused) and all(r not in (DAEMONSET, LOCAL_STORAGE) for r in self.refused)


def refusal_from(tasks: dict[str, dict[str, Any]], node: str, *, timeout: int) -> str | None:
    """remove_node.yml's results on the draining member (task name → module result) → the one
    line to stop on, or None when the drain passed or failed for a reason kubectl did not say
    (the API down, …: an ordinary task failure)."""
    drained = tasks.get(DRAIN_TASK)
    if not drained or drained.get("rc", 0) == 0:
        return None
    refusal = parse(f"{drained.get('stdout', '')}\n{drained.get('stderr', '')}")
    if refusal is None:
        return None
    budgets = blocking_budgets(
        str(tasks.get(BUDGETS_TASK, {}).get("stdout", "")),
        str(tasks.get(PODS_TASK, {}).get("stdout", "")),
        refusal.budget_blocked,
    )
    left = (
        f"{node} is schedulable again"
        if tasks.get(UNCORDON_TASK, {}).get("rc") == 0
        else f"{node} may still be cordoned (`microk8s kubectl uncordon {node}`)"
    )
    return message(node, refusal, budgets, left=left, timeout=timeout)


def still_cordoned(tasks: dict[str, dict[str, Any]], node: str) -> str | None:
    """After a drain that failed and an uncordon that failed too (the API down, …): the line
    that says so, whatever the drain's reason."""
    drained, uncordon = tasks.get(DRAIN_TASK), tasks.get(UNCORDON_TASK)
    if not drained or drained.get("rc", 0) == 0 or uncordon is None or uncordon.get("rc") == 0:
        return None
    return f"{node} may still be cordoned: run `microk8s kubectl uncordon {node}` on a member"


def refused_nodes(output: str) -> dict[str, Refusal]:
    """`kubectl drain A B --dry-run=client` (drain_check.yml) → the nodes it would not empty. A
    client dry run cordons nothing and evicts nothing, but runs every filter, and RunDrain
    reports each node it gives up on in a line of its own, which names it."""
    found = {}
    for line in output.splitlines():
        unable = _UNABLE.match(line.strip())
        refusal = parse(unable.group(2)) if unable else None
        if unable and refusal:
            found[unable.group(1)] = refusal
    return found


def parse(output: str) -> Refusal | None:
    """kubectl drain's stdout and stderr → why it failed; None when it says nothing mck knows."""
    refused: dict[str, list[str]] = {}
    budget: list[str] = []
    timed_out: list[str] = []
    for line in output.splitlines():
        for reason, pods in _CANNOT_DELETE.findall(line):
            bucket = refused.setdefault(reason, [])
            bucket.extend(p for p in pods.split(", ") if p not in bucket)
        eviction = _EVICTION.search(line)
        if eviction:
            pod = f"{eviction.group(2)}/{eviction.group(1)}"
            message = eviction.group(3)
            if BUDGET_MESSAGE.lower() in message.lower() and pod not in budget:
                budget.append(pod)
            elif "global timeout reached" in message and pod not in timed_out:
                timed_out.append(pod)
        terminating = _TERMINATING.search(line)
        if terminating:
            pod = f"{terminating.group(2)}/{terminating.group(1)}"
            if pod not in timed_out:
                timed_out.append(pod)
    if not (refused or budget or timed_out):
        return None
    return Refusal({r: tuple(p) for r, p in refused.items()}, tuple(budget), tuple(timed_out))


def blocking_budgets(pdbs_json: str, pods_json: str, blocked: tuple[str, ...]) -> list[str]:
    """The budgets (ns/name) that select a blocked pod and allow no disruption now. Without the
    pods' labels (an unreadable list), every budget in their namespaces that allows none."""
    budgets = _items(pdbs_json)
    labels = {
        f"{_meta(p).get('namespace')}/{_meta(p).get('name')}": _meta(p).get("labels") or {}
        for p in _items(pods_json)
    }
    found = []
    for budget in budgets:
        meta = _meta(budget)
        name = f"{meta.get('namespace')}/{meta.get('name')}"
        status = budget.get("status") or {}
        if int(status.get("disruptionsAllowed") or 0) > 0:
            continue
        selector = (budget.get("spec") or {}).get("selector")
        for pod in blocked:
            if pod.split("/", 1)[0] != meta.get("namespace"):
                continue
            if pod not in labels or _selects(selector, labels[pod]):
                found.append(name)
                break
    return found


def message(node: str, refusal: Refusal, budgets: list[str], *, left: str, timeout: int) -> str:
    """One line: the node, the blocking pods and budgets, what state it is left in, what to do."""
    parts = [
        f"{', '.join(pods)} ({_REASONS.get(reason, reason)})"
        for reason, pods in refusal.refused.items()
    ]
    if refusal.budget_blocked:
        which = (
            f"the disruption budget{'s' if len(budgets) > 1 else ''} {', '.join(budgets)}"
            if budgets
            else "a disruption budget"
        )
        parts.append(
            f"{', '.join(refusal.budget_blocked)} ({which} allowed no eviction for {timeout} s)"
        )
    stuck = [p for p in refusal.timed_out if p not in refusal.budget_blocked]
    if stuck:
        parts.append(f"{', '.join(stuck)} (not gone within {timeout} s)")
    advice = []
    if refusal.refused:
        advice.append(
            f"move or delete those pods, or run `mck {FORCE_FLAG}` to delete them with the node"
            if refusal.forcible
            else "fix those pods"
        )
    if refusal.budget_blocked:
        advice.append("let the budget allow a disruption (more replicas, or a lower minAvailable)")
    if stuck:  # evicted but still terminating when kubectl's --timeout ran out
        advice.append("give them longer with `mck --drain-timeout SECONDS`")
    return (
        f"kubectl drain would not empty {node}: {'; '.join(parts)}; the scale-down stopped before "
        f"any VM was destroyed and {left}; {', or '.join(advice) or 'see the log'}, then re-run mck"
    )


def _items(text: str) -> list[dict[str, Any]]:
    try:
        doc = json.loads(text)
    except ValueError:
        return []
    items = doc.get("items") if isinstance(doc, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _selects(selector: Any, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions, ANDed) against a pod's labels. A null
    selector selects nothing, an empty one every pod (policy/v1 PodDisruptionBudget)."""
    if not isinstance(selector, dict):
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True
