"""The stand-in's `microk8s enable|disable` pieces that need no daemon: the modelled duration of
each addon's script, and hostpath-storage's question before it deletes the PVs' directory
(microk8s-core-addons addons/hostpath-storage/disable: `read -p … (Y/N)`, exit 1 unless yes)."""

from __future__ import annotations

import io
import sys

import pytest

from tests.standins.microk8s.mk8s import addons, cmd_misc


def test_dns_takes_its_scripts_time_and_others_a_few_seconds() -> None:
    assert addons.seconds("dns", "enable") == 10.0
    assert addons.seconds("dns", "disable") == 35.0
    assert addons.seconds("ingress", "enable") == addons.DEFAULT_SECONDS > 0


@pytest.mark.parametrize(("answer", "exits"), [("", True), ("N\n", True), ("y\n", False)])
def test_hostpath_storage_asks_on_stdin(
    monkeypatch: pytest.MonkeyPatch, answer: str, exits: bool
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(answer))
    if exits:
        with pytest.raises(SystemExit) as stopped:
            cmd_misc._ask_to_remove_storage([])
        assert stopped.value.code == 1
    else:
        cmd_misc._ask_to_remove_storage([])


def test_destroy_storage_does_not_ask(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    cmd_misc._ask_to_remove_storage(["destroy-storage"])  # no question, no exit
    assert "hostpath-storage" in addons.ASKS_ON_DISABLE and "storage" in addons.ASKS_ON_DISABLE
