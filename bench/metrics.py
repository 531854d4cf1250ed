"""The benchmark's pure part: from what was observed (timestamped `==>` lines, slices of the lab
VMs' sshd logs, rusage numbers) to per-phase times, per-node counts, the median no-op/raw pair,
the table and the targets.
No I/O here, so it is unit-tested (tests/unit/test_bench.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

# mck's phase headers: "==> <phase>" or "==> <phase>: <detail>". Names are read, not assumed.
PHASE = re.compile(r"^==> ([\w-]+)")
STARTUP = "(start)"  # from exec to the first phase header: interpreter start and imports
# sshd at LogLevel VERBOSE (the lab's): one line per TCP connection, one per exec/shell request.
CONNECTION = re.compile(r"^Connection from \S+ port \d+ on ", re.M)
COMMAND = re.compile(r"^Starting session: command ", re.M)

# Issue 5's targets.
RATIO_TARGET = 1.2  # no-op mck / raw ansible-playbook at 12 nodes
COMMANDS_TARGET = 20  # remote module executions per node in a no-op converge
CONNECTIONS_PER_PHASE_TARGET = 1  # per node per phase
CPU_TARGET = 0.5  # seconds of mck's own CPU per converge at 12 nodes
TARGET_NODES = 12


@dataclass(frozen=True)
class SshCounts:
    connections: int = 0
    commands: int = 0

    def __add__(self, other: SshCounts) -> SshCounts:
        return SshCounts(self.connections + other.connections, self.commands + other.commands)


def count_ssh(log: str) -> SshCounts:
    """Connections opened and remote commands run, in a slice of one VM's sshd log."""
    return SshCounts(len(CONNECTION.findall(log)), len(COMMAND.findall(log)))


def phases(lines: Iterable[tuple[float, str]], start: float, end: float) -> list[tuple[str, float]]:
    """(phase, seconds) in order, from stderr lines stamped as they arrived. A phase lasts until
    the next header (or the process's end); a phase named twice gets both stretches added."""
    marks = [(STARTUP, start)]
    for stamp, line in lines:
        match = PHASE.match(line)
        if match:
            marks.append((match.group(1), stamp))
    durations: dict[str, float] = {}
    for (name, begin), (_, until) in zip(marks, [*marks[1:], ("", end)], strict=True):
        durations[name] = durations.get(name, 0.0) + max(0.0, until - begin)
    return list(durations.items())


@dataclass
class Run:
    """One measured command."""

    wall: float
    rc: int
    phases: list[tuple[str, float]] = field(default_factory=list)
    # host -> counts over the whole run; phase -> host -> counts (phases of mck runs only)
    ssh: dict[str, SshCounts] = field(default_factory=dict)
    ssh_by_phase: dict[str, dict[str, SshCounts]] = field(default_factory=dict)
    cpu_self: float | None = None  # mck's own user+sys seconds (RUSAGE_SELF)
    cpu_children: float | None = None
    # The machine's 1-minute load average when the run started: other work on the same cores
    # (the lab's VMs share them) stretches wall times.
    load: float = 0.0

    def max_per_node(self, attr: str) -> int:
        return max((getattr(c, attr) for c in self.ssh.values()), default=0)

    def max_connections_per_phase(self) -> int:
        return max(
            (c.connections for hosts in self.ssh_by_phase.values() for c in hosts.values()),
            default=0,
        )


@dataclass
class Pair:
    """One round of the no-op/raw comparison: a no-op converge and the raw ansible-playbook run
    right after it, so both saw the machine in about the same state."""

    noop: Run
    raw: Run

    @property
    def ratio(self) -> float:
        return self.noop.wall / self.raw.wall if self.raw.wall else float("inf")


def median_pair(pairs: Sequence[Pair]) -> Pair:
    """The pair whose ratio is the median of the pairs' ratios; for an even count, of the two
    middle pairs the one with the lower ratio (so it is always a pair that was measured, never an
    average of two). Pairs with equal ratios keep their round order."""
    if not pairs:
        raise ValueError("no no-op/raw pairs")
    ranked = sorted(pairs, key=lambda pair: pair.ratio)
    return ranked[(len(ranked) - 1) // 2]


@dataclass
class Size:
    """Everything measured at one cluster size. `pairs` in round order; the no-op and raw runs
    reported (walls, phases, SSH counts, CPU) are those of the median pair."""

    nodes: int
    fresh: Run
    pairs: list[Pair]
    grow: Run

    @property
    def median(self) -> Pair:
        return median_pair(self.pairs)

    @property
    def noop(self) -> Run:
        return self.median.noop

    @property
    def raw(self) -> Run:
        return self.median.raw

    @property
    def ratio(self) -> float:
        return self.median.ratio

    @property
    def ratio_min(self) -> float:
        return min(pair.ratio for pair in self.pairs)

    @property
    def ratio_max(self) -> float:
        return max(pair.ratio for pair in self.pairs)

    def ratio_spread(self) -> str:
        """The median ratio, then the lowest-highest over the pairs and their number:
        `1.18 (1.15-1.22, n=5)`."""
        return f"{self.ratio:.2f} ({self.ratio_min:.2f}-{self.ratio_max:.2f}, n={len(self.pairs)})"


def by_phase(
    marks: Sequence[tuple[str, Mapping[str, int]]], end: Mapping[str, int], logs: Mapping[str, str]
) -> dict[str, dict[str, SshCounts]]:
    """Split each host's log at the byte offsets snapshotted when each phase began.
    `marks` = (phase, host -> offset) in order; `end` = host -> offset at exit; `logs` = host ->
    the log text (bytes decoded 1:1 as latin-1, so offsets are character offsets)."""
    out: dict[str, dict[str, SshCounts]] = {}
    # A host missing from a snapshot did not exist yet: its log was empty then (offset 0).
    full = {host: len(text) for host, text in logs.items()}
    bounds = [*marks[1:], ("", {**full, **end})]
    for (name, begin), (_, until) in zip(marks, bounds, strict=True):
        hosts = out.setdefault(name, {})
        for host, text in logs.items():
            piece = count_ssh(text[begin.get(host, 0) : until.get(host, 0)])
            hosts[host] = hosts.get(host, SshCounts()) + piece
    return out


def targets(sizes: Sequence[Size]) -> list[tuple[str, str, bool]]:
    """(target, what was measured, met?) for the largest size measured (12 when present)."""
    if not sizes:
        return []
    size = next((s for s in sizes if s.nodes == TARGET_NODES), max(sizes, key=lambda s: s.nodes))
    at = f"at {size.nodes} nodes"
    cpu = size.noop.cpu_self
    return [
        (
            f"no-op converge <= {RATIO_TARGET}x raw ansible-playbook",
            f"{size.ratio:.2f}x {at} ({size.noop.wall:.1f} s vs {size.raw.wall:.1f} s; median of "
            f"{len(size.pairs)} pairs, {size.ratio_min:.2f}-{size.ratio_max:.2f})",
            size.ratio <= RATIO_TARGET,
        ),
        (
            f"<= {CONNECTIONS_PER_PHASE_TARGET} SSH connection per node per phase",
            f"max {size.noop.max_connections_per_phase()} {at}",
            size.noop.max_connections_per_phase() <= CONNECTIONS_PER_PHASE_TARGET,
        ),
        (
            f"<= {COMMANDS_TARGET} remote module executions per node (no-op)",
            f"max {size.noop.max_per_node('commands')} {at}",
            size.noop.max_per_node("commands") <= COMMANDS_TARGET,
        ),
        (
            f"mck's own CPU <= {CPU_TARGET} s per converge",
            f"{cpu:.2f} s {at}" if cpu is not None else "not measured",
            cpu is not None and cpu <= CPU_TARGET,
        ),
    ]


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned first column, right-aligned numbers."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = []
    for line in [headers, *rows]:
        pairs = enumerate(zip(line, widths, strict=True))
        cells = [c.rjust(w) if i else c.ljust(w) for i, (c, w) in pairs]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def render(sizes: Sequence[Size]) -> str:
    """The summary table, the no-op converge's phases, and the targets."""
    headers = ["nodes", "fresh s", "add-2 s", "no-op s", "raw s", "ratio (pairs)", "cpu s",
               "conn/node", "conn/node/phase", "cmds/node", "raw cmds/node", "load"]  # fmt: skip
    summary = _table(
        headers,
        [
            [
                str(s.nodes),
                f"{s.fresh.wall:.1f}",
                f"{s.grow.wall:.1f}",
                f"{s.noop.wall:.1f}",
                f"{s.raw.wall:.1f}",
                s.ratio_spread(),
                f"{s.noop.cpu_self:.2f}" if s.noop.cpu_self is not None else "-",
                str(s.noop.max_per_node("connections")),
                str(s.noop.max_connections_per_phase()),
                str(s.noop.max_per_node("commands")),
                str(s.raw.max_per_node("commands")),
                f"{s.noop.load:.1f}",
            ]
            for s in sizes
        ],
    )
    names: list[str] = []
    for s in sizes:
        names += [name for name, _ in s.noop.phases if name not in names]
    phase_rows = []
    for name in names:
        row = [name]
        for s in sizes:
            seconds = dict(s.noop.phases).get(name)
            hosts = s.noop.ssh_by_phase.get(name, {})
            conns = max((c.connections for c in hosts.values()), default=0)
            cmds = max((c.commands for c in hosts.values()), default=0)
            row.append("-" if seconds is None else f"{seconds:.2f} s  {conns}/{cmds}")
        phase_rows.append(row)
    phase_table = _table(["no-op phase", *(f"N={s.nodes}" for s in sizes)], phase_rows)
    goals = "\n".join(
        f"[{'met' if met else 'MISSED'}] {goal}: {measured}"
        for goal, measured, met in targets(sizes)
    )
    return (
        f"{summary}\n(no-op, raw and the counts: the median pair's runs, made back to back;"
        f"\n ratio (pairs): the median of the pairs' ratios, then their lowest-highest and number;"
        f"\n load: the machine's 1-minute load average as the no-op run started)"
        f"\n\n{phase_table}\n(per phase: seconds, then max per node of SSH connections/"
        f"remote commands)\n\n{goals}"
    )


def _size_json(size: Size) -> dict[str, Any]:
    # SshCounts become {connections, commands}; phases [name, seconds] pairs. noop and raw are
    # the median pair's runs in full; every pair's walls and ratio are under "pairs".
    return {
        "nodes": size.nodes,
        "fresh": asdict(size.fresh),
        "noop": asdict(size.noop),
        "raw": asdict(size.raw),
        "grow": asdict(size.grow),
        "pairs": [{"noop": p.noop.wall, "raw": p.raw.wall, "ratio": p.ratio} for p in size.pairs],
        "ratio": size.ratio,
        "ratio_min": size.ratio_min,
        "ratio_max": size.ratio_max,
    }


def to_json(sizes: Sequence[Size]) -> dict[str, Any]:
    return {
        # 2: noop/raw are the median pair's (they were the fastest of each, from any round).
        "schema": 2,
        "sizes": [_size_json(s) for s in sizes],
        "targets": [{"target": g, "measured": m, "met": ok} for g, m, ok in targets(sizes)],
    }
