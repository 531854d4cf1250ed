"""Ansible's per-host events turned into progress a person can follow.

On a terminal the live line shows the phase, the task and the nodes still working on it;
each finished task that changed or failed something stays as a line. Without a terminal every
finished task is one plain line naming the nodes it changed or failed on. ansible's own output
(everything, at full length) goes to the debug log, or to the screen with `-v`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mck.nodes import name_key
from mck.report import Ui

_TASK_START = ("playbook_on_task_start", "playbook_on_handler_task_start")
_DONE = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
    "runner_on_skipped": "skipped",
}


@dataclass
class PlayProgress:
    """Feed it every event of a run (`Ansible(progress=…)`); one instance serves many runs."""

    ui: Ui
    # Whole lines for finished tasks; `mck status` only wants the live line, its output is data.
    task_lines: bool = True
    # A task still running after this many seconds is a wait (microk8s' readiness, a boot, a
    # join): from then on each node that finishes it gets a line of its own, naming the nodes
    # still waited on, so that a wait shows progress even without a terminal's live line.
    slow: float = 20.0
    clock: Callable[[], float] = time.monotonic
    _started: float = field(default=0.0, init=False)
    _task: str = field(default="", init=False)
    _working: list[str] = field(default_factory=list, init=False)
    _outcomes: dict[str, str] = field(default_factory=dict, init=False)  # host → outcome

    def __call__(self, event: dict[str, Any]) -> None:
        kind = str(event.get("event", ""))
        data = event.get("event_data") or {}
        host = str(data.get("host") or "")
        if kind in _TASK_START:
            self._finish_task()
            role = data.get("role")
            self._task = f"{role} : {data.get('task', '')}" if role else str(data.get("task", ""))
            self._started = self.clock()
        elif kind == "runner_on_start" and host:
            if host not in self._working:
                self._working.append(host)
        elif kind in _DONE and host:
            outcome = _DONE[kind]
            if kind == "runner_on_ok" and (data.get("res") or {}).get("changed"):
                outcome = "changed"
            if kind == "runner_on_failed" and data.get("ignore_errors"):
                outcome = "ok"
            self._outcomes[host] = outcome
            if host in self._working:
                self._working.remove(host)
            self._slow_line(host, outcome)
        elif kind in ("playbook_on_play_start", "playbook_on_stats"):
            self._finish_task()
            return
        else:
            return
        if self._task:
            nodes = ", ".join(self._working) or "…"
            self.ui.status(f"{self._prefix()}{self._task} · {nodes}")

    def _slow_line(self, host: str, outcome: str) -> None:
        waited = self.clock() - self._started
        if not self.task_lines or not self._task or waited < self.slow:
            return
        still = f"; still waiting on {', '.join(self._working)}" if self._working else ""
        self.ui.say(f"  {self._prefix()}{self._task}: {host} {outcome} after {waited:.0f} s{still}")

    def _prefix(self) -> str:
        phase = self.ui.current_phase
        return f"[{phase}] " if phase else ""

    def _finish_task(self) -> None:
        """One line for the task that just ended: which nodes it changed or failed on."""
        task, outcomes = self._task, self._outcomes
        self._task, self._outcomes, self._working = "", {}, []
        if not task or not outcomes or not self.task_lines:
            return
        parts = []
        for outcome in ("failed", "unreachable", "changed"):
            hosts = sorted((h for h, o in outcomes.items() if o == outcome), key=name_key)
            if hosts:
                parts.append(f"{outcome} on {', '.join(hosts)}")
        if not parts:
            if self.ui.live:
                return  # nothing to remember: the live line showed it pass
            parts.append("skipped" if set(outcomes.values()) == {"skipped"} else "ok")
        self.ui.say(f"  {self._prefix()}{task}: {'; '.join(parts)}")
