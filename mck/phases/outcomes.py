"""What became of each node in a run, as data: a node that fails one phase is named with one
line and left alone by the phases after it, while every other node goes on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from mck import node_status
from mck.ansible import PlayResult
from mck.errors import MckError

Kind = Literal["ok", "unreachable", "task_failed", "not_ready", "join_failed"]

# How each kind reads in the node's problem line.
_SAID = {
    "unreachable": "unreachable",
    "task_failed": "configure failed",
    "not_ready": "microk8s not ready",
    "join_failed": "join failed",
}


@dataclass(frozen=True)
class NodeOutcome:
    name: str
    kind: Kind = "ok"
    reason: str = ""  # one line: what happened and, where known, what to do

    @property
    def ok(self) -> bool:
        return self.kind == "ok"

    def line(self) -> str:
        return f"{self.name}: {_SAID.get(self.kind, self.kind)}: {self.reason}"


class _HasName(Protocol):
    @property
    def name(self) -> str: ...


_Named = TypeVar("_Named", bound=_HasName)


class Outcomes:
    """Each node's outcome so far. A node's first failure is kept: it is the cause, the later
    phases only skip the node."""

    def __init__(self) -> None:
        self._failed: dict[str, NodeOutcome] = {}

    def fail(self, name: str, kind: Kind, reason: str) -> None:
        self._failed.setdefault(name, NodeOutcome(name, kind, reason))

    def of(self, name: str) -> NodeOutcome:
        return self._failed.get(name) or NodeOutcome(name)

    def failed(self) -> list[NodeOutcome]:
        return list(self._failed.values())

    def healthy(self, items: Iterable[_Named]) -> list[_Named]:
        """The items (nodes) whose node has not failed, in their order."""
        return [item for item in items if item.name not in self._failed]


def from_play(
    result: PlayResult, names: Iterable[str], *, last_task: str | None, ready_timeout: int
) -> dict[str, NodeOutcome]:
    """Each host's outcome of one run of the site playbook (pure). `last_task`: the task every
    host that finishes the play reports (the microk8s role's readiness wait), which tells a
    host that finished from one the play left behind; None when the playbook has no such task.
    """
    failures: dict[str, list[str]] = {}
    tasks: dict[str, str] = {}
    for failure in result.failures:
        failures.setdefault(failure.host, []).append(failure.message)
        tasks.setdefault(failure.host, failure.task)
    finished = {h for h, captured in result.captured.items() if last_task in captured}
    # A failed play whose host reported no failure but never got to `last_task` was stopped
    # early for it (a failure fatal to all, `any_errors_fatal`): it is not configured.
    outcomes = {}
    for name in names:
        stats = result.hosts.get(name)
        message = (failures.get(name) or [""])[0]
        if stats is not None and stats.unreachable:
            outcomes[name] = NodeOutcome(name, "unreachable", message or "no SSH answer")
        elif name in failures and tasks[name] == last_task:
            said = _status_message(result.captured.get(name, {}).get(last_task or "")) or message
            outcomes[name] = NodeOutcome(
                name,
                "not_ready",
                f"not ready within {ready_timeout} s ({said}); `microk8s inspect` on it says "
                "why; give it longer with --ready-timeout",
            )
        elif name in failures:
            outcomes[name] = NodeOutcome(name, "task_failed", f"{tasks[name]}: {message}")
        elif stats is None:
            outcomes[name] = NodeOutcome(name, "task_failed", "the playbook never reached it")
        elif not result.ok and last_task is not None and name not in finished:
            # The play ended early (another host's failure was fatal to all): not configured.
            outcomes[name] = NodeOutcome(
                name, "task_failed", "the playbook stopped before it finished on this node"
            )
        else:
            outcomes[name] = NodeOutcome(name)
    return outcomes


def _status_message(res: dict[str, Any] | None) -> str | None:
    """What the readiness wait's `microk8s status` said about a node that did not get ready."""
    if not res:
        return None
    return node_status.parse_status(str(res.get("stdout", "")), int(res.get("rc", 1))).message


def raise_for_failures(result: PlayResult, what: str) -> None:
    """For a run nothing can go on without (a removal, a cluster-wide setting): its failure
    raises, naming up to five hosts and why."""
    if result.ok:
        return
    if not result.failures:
        raise MckError(f"{what} failed (ansible-runner {result.status}, rc {result.rc})")
    shown = "; ".join(
        f"{f.host}: {'unreachable' if _unreachable(result, f.host) else f.task}: {f.message}"
        for f in result.failures[:5]
    )
    more = f" (+{len(result.failures) - 5} more)" if len(result.failures) > 5 else ""
    raise MckError(f"{what} failed on {shown}{more}")


def _unreachable(result: PlayResult, host: str) -> bool:
    stats = result.hosts.get(host)
    return stats is not None and stats.unreachable
