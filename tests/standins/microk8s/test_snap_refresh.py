"""The stand-in's `snap refresh`: holds, a general refresh that skips held snaps, and a specific
one that does not (snapd cmd/snap/cmd_snap_op.go). The revision switch itself is stubbed."""

from __future__ import annotations

from typing import Any, NoReturn

import pytest
from mk8s import channels, snap_refresh


class Refused(Exception):
    pass


def _error(message: str) -> NoReturn:
    raise Refused(message)


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> dict[str, dict[str, Any]]:
    monkeypatch.setattr(channels, "PUBLISHED", tmp_path / "published.json")
    (tmp_path / "published.json").write_text('{"1.36": ["v1.36.1", "8900"]}')
    switched: list[str] = []
    monkeypatch.setattr(snap_refresh, "_switch_revision", lambda old, v, rev: switched.append(rev))
    return {
        "microk8s": {
            "version": "v1.36.0",
            "revision": "8861",
            "tracking": "1.36/stable",
            "notes": "classic",
        },
        "core": {
            "version": "16",
            "revision": "17200",
            "tracking": "latest/stable",
            "notes": "core",
        },
    }


def _refresh(args: list[str], registry: dict[str, Any]) -> None:
    snap_refresh.main(args, registry, lambda _r: None, _error)


def test_a_held_snap_is_left_by_a_general_refresh(
    registry: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    _refresh(["--hold", "microk8s"], registry)
    assert capsys.readouterr().out == 'General refreshes of "microk8s" held indefinitely\n'
    _refresh([], registry)
    assert capsys.readouterr().err == "All snaps up to date.\n"
    assert registry["microk8s"]["revision"] == "8861"
    # A specific request proceeds despite the hold.
    _refresh(["microk8s"], registry)
    assert capsys.readouterr().out == "microk8s (1.36/stable) v1.36.1 from Canonical** refreshed\n"
    assert registry["microk8s"]["revision"] == "8900"


def test_without_a_hold_a_general_refresh_moves_on(
    registry: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    _refresh([], registry)
    assert "v1.36.1 from Canonical** refreshed" in capsys.readouterr().out
    _refresh(["microk8s"], registry)
    assert capsys.readouterr().err == 'snap "microk8s" has no updates available\n'


def test_hold_values_and_flags_as_snapd_checks_them(registry: dict[str, Any]) -> None:
    with pytest.raises(Refused, match="cannot use --hold with other flags"):
        _refresh(["--hold", "--classic", "microk8s"], registry)
    with pytest.raises(Refused, match="less than a second"):
        _refresh(["--hold=0s", "microk8s"], registry)
    with pytest.raises(Refused, match="must be a number of hours"):
        _refresh(["--hold=soon", "microk8s"], registry)
    with pytest.raises(Refused, match='snap "nope" is not installed'):
        _refresh(["nope"], registry)


def test_a_channel_refresh_proceeds_past_the_hold_and_keeps_it(
    registry: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    registry["microk8s"].update(version="v1.35.0", revision="8780", tracking="1.35/stable")
    _refresh(["--hold", "microk8s"], registry)
    capsys.readouterr()
    _refresh(["microk8s", "--channel=1.36/stable"], registry)
    assert capsys.readouterr().out == "microk8s (1.36/stable) v1.36.1 from Canonical** refreshed\n"
    entry = registry["microk8s"]
    assert (entry["version"], entry["revision"], entry["tracking"]) == (
        "v1.36.1",
        "8900",
        "1.36/stable",
    )
    assert entry["held"] == "forever"  # the hold stays
    assert "next_tracking" not in entry
    with pytest.raises(Refused, match=r"not available on 9\.99/stable"):
        _refresh(["--channel", "9.99", "microk8s"], registry)
    assert registry["microk8s"]["tracking"] == "1.36/stable"


def test_a_failing_store_leaves_the_node_as_it_was(
    registry: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    fails = tmp_path / "refresh-fails"
    fails.write_text("dial tcp: lookup api.snapcraft.io: Temporary failure in name resolution")
    monkeypatch.setattr(snap_refresh, "REFRESH_FAILS", fails)
    registry["microk8s"].update(version="v1.35.0", revision="8780", tracking="1.35/stable")
    before = dict(registry["microk8s"])
    with pytest.raises(Refused) as refused:
        _refresh(["--channel=1.36/stable", "microk8s"], registry)
    assert str(refused.value) == (
        "cannot perform the following tasks:\n"
        '- Download snap "microk8s" (8900) from channel "1.36/stable"'
        " (dial tcp: lookup api.snapcraft.io: Temporary failure in name resolution)"
    )
    assert registry["microk8s"] == before
