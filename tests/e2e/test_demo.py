"""`scripts/demo`, run as a newcomer runs it (`sudo bash scripts/demo`), once: it goes through
every step and leaves nothing behind, neither when it finishes nor when it is interrupted."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.harness import REPO

pytestmark = pytest.mark.lab

DEMO = REPO / "scripts" / "demo"
DEMO_TIMEOUT = 1800  # the whole demo at MCK_LAB_TIME_SCALE=0.2 takes a few minutes


def _env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # The shortest directory pytest gives: ssh's control sockets, under the project the demo
    # makes there, must fit in 108 bytes (sun_path); the demo refuses a TMPDIR too deep.
    return {
        **os.environ,
        "TMPDIR": str(tmp_path_factory.getbasetemp()),
        "MCK_LAB_TIME_SCALE": os.environ.get("MCK_LAB_TIME_SCALE", "0.2"),
    }


def _leftovers(lab_id: str, workdir: str) -> tuple[list[str], list[str]]:
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    procs = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return (
        [n for n in namespaces.splitlines() if n.startswith(f"mck{lab_id}-")],
        [p for p in procs.splitlines() if workdir in p],
    )


def _lab(output: str) -> tuple[str, str]:
    workdir = re.search(r"^==> demo: starting the lab in (\S+) ", output, re.M)
    lab = re.search(r"^lab ([0-9a-f]{4}) is up", output, re.M)
    assert workdir and lab, output
    return lab.group(1), workdir.group(1)


def test_the_demo_runs_every_step_and_leaves_nothing_behind(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    proc = subprocess.run(
        ["bash", str(DEMO)],
        env=_env(tmp_path_factory),
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    lab_id, workdir = _lab(output)
    # mck status: every node of the three clouds in the cluster and ready, the NAT'd one too.
    for node in ("mck-k8s-do-0", "mck-k8s-linode-0", "mck-k8s-aws-0"):
        assert re.search(
            rf"^{node}\s+\S+\s+\S+(?: \(NAT\))?\s+10\.77\.\S+\s+voter\s+yes", output, re.M
        ), output
    # The real kubectl lists every node Ready with its mesh address as InternalIP.
    for node in ("mck-k8s-do-0", "mck-k8s-linode-0", "mck-k8s-aws-0"):
        assert re.search(rf"^{node}\s+Ready\s+.*\s10\.77\.\d+\.\d+\s", output, re.M), output
    assert "orphan node mck-k8s-do-1 will join" in output
    assert re.search(r"^node/mck-k8s-do-1 drained$", output, re.M), output
    assert "removing mck-k8s-do-1 (" in output
    assert "==> demo: done" in output
    assert _leftovers(lab_id, workdir) == ([], []), output
    assert not Path(workdir).exists()
    assert re.search(r"left behind: 0 namespaces .* 0 processes .* its directory removed", output)


def test_an_interrupted_demo_takes_the_lab_down(tmp_path_factory: pytest.TempPathFactory) -> None:
    """^C reaches the whole foreground process group: the script, the lab, mck."""
    proc = subprocess.Popen(
        ["bash", str(DEMO)],
        env=_env(tmp_path_factory),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + 600
    for line in proc.stdout:  # interrupt mck in the middle of its first converge
        seen.append(line)
        if line.startswith("==> boot:") or time.monotonic() > deadline:
            break
    os.killpg(proc.pid, signal.SIGINT)
    rest, _ = proc.communicate(timeout=300)
    output = "".join(seen) + rest
    assert proc.returncode == 130, output
    lab_id, workdir = _lab(output)
    assert _leftovers(lab_id, workdir) == ([], []), output
    assert not Path(workdir).exists(), output
