"""The benchmark's pure part (bench/metrics.py): phases from stamped lines, sshd log counting,
the table and the targets. The benchmark itself runs on the lab and is not a test."""

from __future__ import annotations

import json

from bench import metrics
from bench.converge import spread
from bench.metrics import Run, Size, SshCounts

# What the lab's sshd (LogLevel VERBOSE, -e) writes for one connection running two commands.
SSHD_LOG = (
    'Connection from 198.51.100.1 port 46634 on 198.51.100.10 port 22 rdomain ""\r\n'
    "Accepted key ED25519 SHA256:abc found at /root/.ssh/authorized_keys:1\r\n"
    "Postponed publickey for root from 198.51.100.1 port 46634 ssh2 [preauth]\r\n"
    "Accepted publickey for root from 198.51.100.1 port 46634 ssh2: ED25519 SHA256:abc\r\n"
    "Starting session: command for root from 198.51.100.1 port 46634 id 0\r\n"
    "Close session: user root from 198.51.100.1 port 46634 id 0\r\n"
    "Starting session: command for root from 198.51.100.1 port 46634 id 0\r\n"
    "Close session: user root from 198.51.100.1 port 46634 id 0\r\n"
)


def test_count_ssh_counts_connections_and_commands_not_other_sessions() -> None:
    assert metrics.count_ssh(SSHD_LOG) == SshCounts(connections=1, commands=2)
    shell = "Starting session: shell on pts/0 for root from 198.51.100.1 port 1 id 0\r\n"
    assert metrics.count_ssh(shell) == SshCounts()


def test_phases_last_until_the_next_header_and_names_are_read_not_assumed() -> None:
    lines = [
        (10.5, "==> preflight: /p\n"),
        (11.0, "some output\n"),
        (12.0, "==> state\n"),
        (15.0, "==> probe: every node\n"),
    ]
    got = metrics.phases(lines, start=10.0, end=16.5)
    assert got == [("(start)", 0.5), ("preflight", 1.5), ("state", 3.0), ("probe", 1.5)]


def test_by_phase_splits_each_log_at_the_offsets_taken_when_phases_began() -> None:
    log = SSHD_LOG + SSHD_LOG
    half = len(SSHD_LOG)
    marks = [("(start)", {"a": 0}), ("configure", {"a": 0}), ("probe", {"a": half})]
    # host b was created during the last phase: in no snapshot, its whole log belongs to it.
    got = metrics.by_phase(marks, {"a": len(log), "b": half}, {"a": log, "b": SSHD_LOG})
    assert got["(start)"]["a"] == SshCounts()
    assert got["configure"]["a"] == SshCounts(1, 2)
    assert got["probe"]["a"] == SshCounts(1, 2)
    assert got["configure"]["b"] == SshCounts()
    assert got["probe"]["b"] == SshCounts(1, 2)


def _size(nodes: int, noop_wall: float, raw_wall: float, cpu: float, commands: int) -> Size:
    noop = Run(
        wall=noop_wall,
        rc=0,
        phases=[("(start)", 0.2), ("configure", noop_wall - 0.2)],
        ssh={"n0": SshCounts(1, commands), "n1": SshCounts(1, commands - 1)},
        ssh_by_phase={"configure": {"n0": SshCounts(1, commands), "n1": SshCounts(1, 3)}},
        cpu_self=cpu,
    )
    raw = Run(wall=raw_wall, rc=0, ssh={"n0": SshCounts(1, commands - 1)})
    return Size(nodes, fresh=Run(60.0, 0), noop=noop, raw=raw, grow=Run(40.0, 0))


def test_targets_are_judged_at_twelve_nodes() -> None:
    sizes = [_size(3, 30.0, 10.0, 0.9, 30), _size(12, 55.0, 50.0, 0.4, 17)]
    results = metrics.targets(sizes)
    assert "1.10x at 12 nodes" in results[0][1]
    assert [met for _, _, met in results] == [True, True, True, True]


def test_a_missed_target_says_by_how_much() -> None:
    (ratio, conns, cmds, cpu) = metrics.targets([_size(12, 66.0, 50.0, 0.7, 25)])
    assert not ratio[2] and "1.32x" in ratio[1]
    assert conns[2] and "max 1" in conns[1]
    assert not cmds[2] and "max 25" in cmds[1]
    assert not cpu[2] and "0.70 s" in cpu[1]


def test_render_and_json_carry_every_size() -> None:
    sizes = [_size(3, 30.0, 10.0, 0.45, 17), _size(6, 33.0, 15.0, 0.47, 17)]
    text = metrics.render(sizes)
    header, first, second = text.splitlines()[:3]
    assert header.split()[:3] == ["nodes", "fresh", "s"]
    assert first.split()[0] == "3" and "3.00" in first  # the ratio
    assert second.split()[0] == "6" and "2.20" in second
    assert "configure" in text and "[MISSED] no-op converge" in text
    data = json.loads(json.dumps(metrics.to_json(sizes)))
    assert [s["nodes"] for s in data["sizes"]] == [3, 6]
    assert data["sizes"][0]["noop"]["ssh"]["n0"] == {"connections": 1, "commands": 17}
    assert data["targets"][0]["met"] is False


def test_nodes_are_spread_over_the_three_clouds() -> None:
    assert spread(3) == {"digitalocean": 1, "linode": 1, "aws": 1}
    assert spread(12) == {"digitalocean": 4, "linode": 4, "aws": 4}
    assert spread(7) == {"digitalocean": 3, "linode": 2, "aws": 2}
