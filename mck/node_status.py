"""What `microk8s status --format yaml` says about one node: its state, its datastore members
and their roles, or the sentence it printed instead.

Facts about microk8s' output were checked against canonical/microk8s 1.28-1.36:
`scripts/wrappers/status.py` (print_yaml), `microk8s-resources/wrappers/microk8s-status.wrapper`
(the worker sentence, exit 0) and `scripts/wrappers/common/utils.py` (exit_if_stopped, exit 0).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

State = Literal["ready", "not_ready", "stopped", "worker", "not_installed", "unknown"]

LOOPBACK = "127.0.0.1"  # the dqlite address of a node that never clustered

# Sentences microk8s prints instead of YAML, both with exit code 0.
_WORKER = "This MicroK8s deployment is acting as a node in a cluster."
_STOPPED = "microk8s is not running, try microk8s start"

_RUNNING = re.compile(r"\s+running:\s*(\S*)\s*")
_MESSAGE = re.compile(r"\s+message:\s*(.*?)\s*")
_ADDRESS = re.compile(r"\s*-\s+address:\s*(\S+)\s*")
_ROLE = re.compile(r"\s+role:\s*(\S+)\s*")


@dataclass(frozen=True)
class Member:
    address: str  # IP only, without dqlite's port
    role: str  # voter | standby | spare


@dataclass(frozen=True)
class Status:
    state: State
    members: tuple[Member, ...] = ()
    message: str | None = None


def parse_status(stdout: str, rc: int) -> Status:
    """Classify `microk8s status --format yaml` output by its content; the exit code alone
    says little (the worker and stopped sentences both exit 0)."""
    lines = [line.rstrip() for line in stdout.splitlines()]
    text = "\n".join(lines).strip()
    if rc == 127 or "command not found" in text:
        return Status("not_installed", message=first_line(text) or "microk8s: command not found")
    if _WORKER in lines:
        return Status("worker", message=_WORKER)
    if _STOPPED in lines:
        return Status("stopped", message=_STOPPED)
    if "microk8s:" not in lines:
        return Status("unknown", message=first_line(text) or f"no output (exit code {rc})")
    return _parse_yaml(lines, rc)


def _parse_yaml(lines: list[str], rc: int) -> Status:
    # Everything we read comes before the addons list, whose free-text descriptions are not
    # quoted and so need not even be valid YAML.
    head = lines[: lines.index("addons:")] if "addons:" in lines else lines
    running = _first_match(_RUNNING, head)
    message = _first_match(_MESSAGE, head)
    try:
        members = tuple(_members(head))
    except ValueError as exc:
        return Status("unknown", message=str(exc))
    if running == "False":
        return Status("not_ready", members, message or "microk8s is not running")
    if running != "True":
        return Status("unknown", members, f"microk8s status printed running: {running!r}")
    if rc != 0:
        return Status("unknown", members, f"microk8s status said running but exited {rc}")
    return Status("ready", members, message)


def _members(head: list[str]) -> Iterable[Member]:
    for i, line in enumerate(head):
        address = _ADDRESS.fullmatch(line)
        if not address:
            continue
        role = _ROLE.fullmatch(head[i + 1]) if i + 1 < len(head) else None
        if not role:
            raise ValueError(f"microk8s status listed {address[1]} without a role")
        yield Member(_host(address[1]), role[1])


def _host(address: str) -> str:
    """`10.0.0.1:19001` -> `10.0.0.1`; `[fd00::1]:19001` -> `fd00::1`."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        return address
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def _first_match(pattern: re.Pattern[str], lines: list[str]) -> str | None:
    return next((m[1] for line in lines if (m := pattern.fullmatch(line))), None)


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
