"""`mck upgrade` and `mck restore` hold the state lock from before their probe to their end:
probe_existing takes it when asked and never leaves it held when the probe fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mck import existing
from mck.cluster_facts import ClusterFacts
from mck.phases.context import Settings


class FakeLock:
    def __init__(self) -> None:
        self.released = 0

    def release(self) -> None:
        self.released += 1


class FakeRun:
    project = Path("/p")
    tofu = object()

    def init_tofu(self) -> None:
        pass


def _patch(monkeypatch: pytest.MonkeyPatch, lock: FakeLock, probe: Any) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(existing, "check_project", lambda project: None)
    monkeypatch.setattr(existing, "read_config", lambda project: None)
    monkeypatch.setattr(existing, "read_text", lambda path: "[all]\n")
    monkeypatch.setattr(existing.Run, "start", lambda *a, **k: FakeRun())
    monkeypatch.setattr(existing.state_lock, "hold", lambda tofu, t: waited.append(t) or lock)
    monkeypatch.setattr(existing, "_probe", probe)
    return waited


def test_the_lock_is_taken_with_the_timeout_and_kept_in_the_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lock = FakeLock()
    waited = _patch(monkeypatch, lock, lambda settings, run, config, inventory, held: held)
    held = existing.probe_existing(Settings(Path("/p"), lock_timeout=7), ui=None, hold_state=True)  # type: ignore[arg-type]
    assert held is lock and waited == [7] and lock.released == 0


def test_a_failed_probe_releases_the_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    lock = FakeLock()

    def probe(*_: Any) -> None:
        raise KeyboardInterrupt

    _patch(monkeypatch, lock, probe)
    with pytest.raises(KeyboardInterrupt):
        existing.probe_existing(Settings(Path("/p")), ui=None, hold_state=True)  # type: ignore[arg-type]
    assert lock.released == 1


def test_status_takes_no_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    lock = FakeLock()
    waited = _patch(monkeypatch, lock, lambda settings, run, config, inventory, held: held)
    assert existing.probe_existing(Settings(Path("/p")), ui=None) is None  # type: ignore[arg-type]
    assert waited == []


def test_existing_release_releases_its_lock() -> None:
    lock = FakeLock()
    found = existing.Existing(
        Path("/p"),
        None,
        ClusterFacts(),
        [],
        "mesh",
        {},
        [],
        {},
        None,
        (),
        lock,  # type: ignore[arg-type]
    )
    found.release()
    assert lock.released == 1
