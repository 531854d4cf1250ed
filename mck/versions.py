"""Which microk8s each node runs, and whether that is the channel the project pins.

Read from what runs anyway: in a converge, the microk8s role's installed check (CHECK_TASK,
`snap list microk8s`) or, on a node it installs, the install's own line (INSTALL_TASK, snapd's
`microk8s (1.36/stable) v1.36.0 from Canonical✓ installed`); in `mck status` and `mck plan`,
the probe's second task (PROBE_TASK, in the same ansible run as the status read). mck never
refreshes a running node (the role holds microk8s' refreshes, and a converge installs only
where microk8s is missing), so a node on an older channel stays there until upgraded on
purpose: these notices say so. Pure, except pinned_channel() reading the role's defaults.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mck.ansible import PlayResult

CHECK_TASK = "Check whether microk8s is installed"  # roles/microk8s/tasks/main.yml
INSTALL_TASK = "Install the microk8s snap"  # roles/microk8s/tasks/install.yml
PROBE_TASK = "Read microk8s' snap"  # playbooks/probe.yml
ROLE_DEFAULTS = Path("roles") / "microk8s" / "defaults" / "main.yml"


@dataclass(frozen=True)
class Snap:
    version: str  # the snap's version: the Kubernetes release, e.g. v1.36.0
    channel: str  # what it tracks, e.g. 1.36/stable


# snapd's showDoneSnap: the channel in parentheses unless it is plain stable.
_INSTALLED = re.compile(r"^microk8s(?: \((\S+)\))? (\S+) from .* installed$", re.M)


def parse(stdout: str) -> Snap | None:
    """The microk8s row of snapd's `snap list` table (Name Version Rev Tracking Publisher
    Notes), or its `… installed` line; None when there is neither (not installed)."""
    installed = _INSTALLED.search(stdout)
    if installed:
        return Snap(installed[2], installed[1] or "latest/stable")
    for line in stdout.splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[0] == "microk8s":
            return Snap(fields[1], fields[3])
    return None


def from_result(result: PlayResult, *tasks: str) -> dict[str, Snap]:
    """Node name -> Snap, from the first of `tasks` (captured in `result`) that says."""
    snaps = {}
    for host, captured in result.captured.items():
        for task in tasks:
            res = captured.get(task)
            if res is None or res.get("skipped") or int(res.get("rc", 1)) != 0:
                continue
            snap = parse(str(res.get("stdout", "")))
            if snap is not None:
                snaps[host] = snap
                break
    return snaps


def pinned_channel(project: Path) -> str | None:
    """microk8s_channel in the project's microk8s role defaults; None when it cannot be read."""
    import yaml  # only status, plan and the converge report need it

    try:
        defaults = yaml.safe_load((project / ROLE_DEFAULTS).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    channel = defaults.get("microk8s_channel") if isinstance(defaults, dict) else None
    return channel if isinstance(channel, str) else None


def skewed(snaps: Mapping[str, Snap], pinned: str | None) -> list[tuple[str, Snap]]:
    """The nodes that track another channel than the pinned one (none when nothing is pinned)."""
    if not pinned:
        return []
    return [(name, snap) for name, snap in snaps.items() if snap.channel != pinned]


def notices(snaps: Mapping[str, Snap], pinned: str | None) -> tuple[str, ...]:
    """One sentence per node that tracks another channel than the pinned one."""
    return tuple(
        f"{name} runs microk8s {snap.version} from {snap.channel}, and the project pins "
        f"{pinned} for new nodes: mck does not refresh a running node"
        for name, snap in skewed(snaps, pinned)
    )
