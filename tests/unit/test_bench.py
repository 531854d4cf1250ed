"""The benchmark's pure part (bench/metrics.py): phases from stamped lines, sshd log counting,
the median no-op/raw pair, the table and the targets. The benchmark itself runs on the lab and
is not a test."""

from __future__ import annotations

import json

import pytest

from bench import metrics
from bench.converge import spread
from bench.metrics import Pair, Run, Size, SshCounts

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
    return Size(nodes, fresh=Run(60.0, 0), pairs=[Pair(noop, raw)], grow=Run(40.0, 0))


def _pairs(*walls: tuple[float, float]) -> list[Pair]:
    """Pairs in round order from (no-op wall, raw wall); each run's rc tells its round."""
    return [Pair(Run(noop, rc=i), Run(raw, rc=i)) for i, (noop, raw) in enumerate(walls)]


def test_the_median_pair_is_a_real_round_not_the_fastest_of_each() -> None:
    # Fastest no-op (24 s, round 1) over fastest raw (20 s, round 0): 1.20, a ratio no round had.
    pairs = _pairs((30.0, 20.0), (24.0, 23.0), (27.0, 20.5))  # 1.50, 1.04, 1.32
    median = metrics.median_pair(pairs)
    assert median is pairs[2]
    assert (median.noop.rc, median.raw.rc) == (2, 2)  # both runs from the same round
    assert median.ratio == pytest.approx(27.0 / 20.5)
    fastest = min(p.noop.wall for p in pairs) / min(p.raw.wall for p in pairs)
    assert round(median.ratio, 2) != round(fastest, 2)


def test_an_even_count_takes_the_lower_middle_pair() -> None:
    pairs = _pairs((13.0, 10.0), (11.0, 10.0), (14.0, 10.0), (12.0, 10.0))  # 1.3 1.1 1.4 1.2
    assert metrics.median_pair(pairs) is pairs[3]
    assert metrics.median_pair(pairs[:2]) is pairs[1]


def test_one_pair_is_its_own_median_and_none_is_an_error() -> None:
    pairs = _pairs((12.0, 10.0))
    assert metrics.median_pair(pairs) is pairs[0]
    with pytest.raises(ValueError):
        metrics.median_pair([])


def test_equal_ratios_keep_their_round_order() -> None:
    pairs = _pairs((12.0, 10.0), (24.0, 20.0), (6.0, 5.0))
    assert metrics.median_pair(pairs) is pairs[1]


def test_a_size_reports_the_median_pair_and_the_spread() -> None:
    pairs = _pairs((30.0, 20.0), (24.0, 23.0), (27.0, 20.5), (26.0, 20.0), (33.0, 25.0))
    # ratios 1.50, 1.04, 1.32, 1.30, 1.32: the median is round 2's (1.317), ahead of round 4's
    size = Size(12, fresh=Run(60.0, 0), pairs=pairs, grow=Run(40.0, 0))
    assert size.noop is pairs[2].noop and size.raw is pairs[2].raw
    assert size.ratio == pytest.approx(27.0 / 20.5)
    assert size.ratio_min == pytest.approx(24.0 / 23.0)
    assert size.ratio_max == pytest.approx(1.5)
    assert size.ratio_spread() == "1.32 (1.04-1.50, n=5)"
    ratio = metrics.targets([size])[0]
    assert not ratio[2]
    assert ratio[1].startswith("1.32x at 12 nodes (27.0 s vs 20.5 s; median of 5 pairs, 1.04-1.50")
    assert "1.32 (1.04-1.50, n=5)" in metrics.render([size]).splitlines()[1]
    data = json.loads(json.dumps(metrics.to_json([size])))["sizes"][0]
    assert data["pairs"][0] == {"noop": 30.0, "raw": 20.0, "ratio": 1.5}
    assert [p["noop"] for p in data["pairs"]] == [30.0, 24.0, 27.0, 26.0, 33.0]
    assert data["noop"]["wall"] == 27.0 and data["raw"]["wall"] == 20.5
    assert data["ratio"] == pytest.approx(27.0 / 20.5)
    assert (data["ratio_min"], data["ratio_max"]) == (pytest.approx(24.0 / 23.0), 1.5)


def test_the_ratio_target_is_judged_on_the_median_pair() -> None:
    # Fastest of each would give 20/18 = 1.11 (met); the median pair is 1.30 (missed).
    pairs = _pairs((26.0, 20.0), (20.0, 25.0), (30.0, 18.0))  # 1.30, 0.80, 1.67
    size = Size(12, fresh=Run(60.0, 0), pairs=pairs, grow=Run(40.0, 0))
    ratio = metrics.targets([size])[0]
    assert not ratio[2] and ratio[1].startswith("1.30x")


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
    assert first.split()[0] == "3" and "3.00 (3.00-3.00, n=1)" in first  # the ratio
    assert second.split()[0] == "6" and "2.20 (2.20-2.20, n=1)" in second
    assert "configure" in text and "[MISSED] no-op converge" in text
    data = json.loads(json.dumps(metrics.to_json(sizes)))
    assert [s["nodes"] for s in data["sizes"]] == [3, 6]
    assert data["sizes"][0]["pairs"] == [{"noop": 30.0, "raw": 10.0, "ratio": 3.0}]
    assert data["sizes"][0]["noop"]["ssh"]["n0"] == {"connections": 1, "commands": 17}
    assert data["targets"][0]["met"] is False


def test_nodes_are_spread_over_the_three_clouds() -> None:
    assert spread(3) == {"digitalocean": 1, "linode": 1, "aws": 1}
    assert spread(12) == {"digitalocean": 4, "linode": 4, "aws": 4}
    assert spread(7) == {"digitalocean": 3, "linode": 2, "aws": 2}
