"""The converge benchmark (issue 5): how much mck costs per node, measured on the lab.

    sudo .venv/bin/python bench/converge.py --nodes 3,6,12 [--json out.json] [--repeat 5]

For each size N it brings up a fresh project on the lab with the nodes spread over DigitalOcean,
Linode and AWS (so 1:1 NAT is in), then measures in one run:

- a fresh converge, and a converge adding 2 nodes (wall time);
- a no-op converge vs `ansible-playbook main.yml -i inventory` on the same inventory, run the
  same way (controller namespace, same environment, from the project directory): wall time,
  ratio. Both start with no SSH master open (ControlPersist masters of earlier runs closed),
  which is what a user sees when re-running after a minute or more. They are measured in
  --repeat pairs (a no-op run, then the raw run right after it); each pair gives a ratio, the
  median of those is reported with their lowest and highest, and the no-op and raw runs shown
  are the median pair's (for an even count, of the two middle pairs the one with the lower
  ratio), so a noisy moment on the shared cores moves one pair, not the result, and walls,
  phases and counts all come from two runs made back to back;
- per phase of the median pair's no-op converge: wall time from mck's `==> <phase>` lines,
  stamped as they arrive on stderr;
- per node: SSH connections opened and remote commands run, counted in each VM's sshd log
  (the lab runs sshd at LogLevel VERBOSE), in total and per phase (each log's offset is
  snapshotted when a phase header arrives);
- mck's own CPU time (RUSAGE_SELF at exit, see bench/mck_cpu.py: children excluded).

It prints a table and writes JSON. Needs root, like the lab. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script: make the checkout importable

from bench import metrics  # noqa: E402
from tests.e2e.harness import Project  # noqa: E402
from tests.lab.lab import Lab  # noqa: E402

CLOUDS = ("digitalocean", "linode", "aws")
GROW_BY = {"digitalocean": 1, "aws": 1}  # the add-2-nodes step: a plain node and a NAT'd one
TIMEOUT = 1800


def spread(nodes: int) -> dict[str, int]:
    """N nodes over the three clouds, as evenly as possible (AWS gets one from N=3)."""
    return {cloud: nodes // 3 + (1 if i < nodes % 3 else 0) for i, cloud in enumerate(CLOUDS)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", default="3,6,12", help="sizes, comma-separated (default 3,6,12)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="no-op/raw pairs per size; the median pair's ratio is reported",
    )
    args = parser.parse_args()
    try:
        sizes = [int(n) for n in args.nodes.split(",")]
    except ValueError:
        parser.error(f"--nodes {args.nodes!r}: give node counts like 3,6,12")
    if any(n < 3 for n in sizes) or args.repeat < 1:
        parser.error("every size must be at least 3 (one node per cloud); --repeat at least 1")
    if os.geteuid() != 0:
        print("bench: the lab needs root: run it with sudo", file=sys.stderr)
        return 2
    os.environ["CHECKPOINT_DISABLE"] = "1"

    from tests.standins.providers.install import install

    workdir = Path(tempfile.mkdtemp(prefix="mck-bench-"))
    results: list[metrics.Size] = []
    try:
        cli_config = install(workdir / "mirror")
        with Lab(workdir / "lab") as lab:
            for nodes in sizes:
                results.append(measure_size(lab, workdir / f"n{nodes}", cli_config, nodes, args))
                results.sort(key=lambda size: size.nodes)
                if args.json:  # after each size: an interrupted run keeps what it measured
                    args.json.write_text(json.dumps(metrics.to_json(results), indent=2) + "\n")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(metrics.render(results))
    if args.json:
        print(f"\nwrote {args.json}", file=sys.stderr)
    return 0


def measure_size(lab: Lab, workdir: Path, cli_config: Path, nodes: int, args: Any) -> metrics.Size:
    counts = spread(nodes)
    project = Project.create(lab, workdir, cli_config, **counts)
    bench = Bench(lab, project, workdir)
    try:
        log(f"N={nodes} {counts}: fresh converge")
        fresh = bench.mck()
        pairs: list[metrics.Pair] = []
        for round_ in range(args.repeat):
            log(f"N={nodes}: no-op converge vs raw ansible-playbook ({round_ + 1}/{args.repeat})")
            noop = bench.mck()
            raw = bench.run(["ansible-playbook", "main.yml", "-i", "inventory"])
            pairs.append(metrics.Pair(noop, raw))
            log(f"N={nodes}: {noop.wall:.1f} s vs {raw.wall:.1f} s, {pairs[-1].ratio:.2f}x")
        log(f"N={nodes}: converge adding 2 nodes")
        project.set_counts(**{c: n + GROW_BY.get(c, 0) for c, n in counts.items()})
        grow = bench.mck()
        return metrics.Size(nodes, fresh, pairs, grow)
    finally:
        log(f"N={nodes}: destroy")
        project.mck("--destroy", "--yes")


class Bench:
    """Runs commands for one project and observes them: wall time, phases, sshd logs, CPU."""

    def __init__(self, lab: Lab, project: Project, workdir: Path) -> None:
        self.lab, self.project, self.workdir = lab, project, workdir
        self.runs = 0

    def mck(self) -> metrics.Run:
        rusage = self.workdir / "rusage.json"
        rusage.unlink(missing_ok=True)
        argv = [sys.executable, str(REPO / "bench" / "mck_cpu.py"), "-C", str(self.project.path)]
        run = self.run(argv, env={"MCK_BENCH_RUSAGE": str(rusage)})
        cpu = json.loads(rusage.read_text())
        run.cpu_self = cpu["self_user"] + cpu["self_sys"]
        run.cpu_children = cpu["children_user"] + cpu["children_sys"]
        return run

    def run(self, argv: list[str], env: dict[str, str] | None = None) -> metrics.Run:
        self.close_masters()
        self.runs += 1
        marks: list[tuple[str, dict[str, int]]] = [(metrics.STARTUP, self.offsets())]
        lines: list[tuple[float, str]] = []
        load = os.getloadavg()[0]
        start = time.monotonic()
        proc = subprocess.Popen(
            self.lab.ctl_argv(argv),
            cwd=self.project.path,
            env={**self.project.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stderr is not None
        out: list[str] = []
        drain = threading.Thread(target=lambda: out.extend(proc.stdout or []), daemon=True)
        drain.start()
        for line in proc.stderr:
            stamp = time.monotonic()
            lines.append((stamp, line))
            match = metrics.PHASE.match(line)
            if match:
                marks.append((match.group(1), self.offsets()))
        rc = proc.wait(timeout=TIMEOUT)
        end = time.monotonic()
        drain.join()
        transcript = self.workdir / f"run{self.runs}.log"
        transcript.write_text(f"$ {' '.join(argv)}\n" + "".join(out) + "".join(x for _, x in lines))
        if rc != 0:
            tail = "".join(x for _, x in lines[-30:])
            raise SystemExit(f"bench: {' '.join(argv)} failed (exit {rc}):\n{tail}")
        logs = self.logs()
        by_phase = metrics.by_phase(marks, self.offsets(), logs)
        totals = {
            host: metrics.count_ssh(text[marks[0][1].get(host, 0) :]) for host, text in logs.items()
        }
        result = metrics.Run(wall=end - start, rc=rc, ssh=totals, load=load)
        if len(marks) > 1:  # an mck run: it names its phases
            result.phases = metrics.phases(lines, start, end)
            result.ssh_by_phase = by_phase
        return result

    def consoles(self) -> dict[str, Path]:
        return {h.name: h.workdir / "console.log" for h in self.lab.hosts() if h.status == "active"}

    def offsets(self) -> dict[str, int]:
        return {name: _size(path) for name, path in self.consoles().items()}

    def logs(self) -> dict[str, str]:
        # Bytes, decoded 1:1 (latin-1, no newline translation: sshd ends lines with \r\n), so
        # the byte offsets snapshotted at each phase stay valid string offsets.
        return {n: p.read_bytes().decode("latin-1") for n, p in self.consoles().items()}

    def close_masters(self) -> None:
        """Close the ControlPersist masters earlier runs left, so every run starts cold."""
        control_dir = self.project.path / ".mck" / "cp"
        for socket in control_dir.glob("*") if control_dir.is_dir() else []:
            subprocess.run(
                self.lab.ctl_argv(["ssh", "-o", f"ControlPath={socket}", "-O", "exit", "mck"]),
                capture_output=True,
                check=False,
            )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] bench: {text}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
