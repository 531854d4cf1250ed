"""The lab fixture's preconditions: skipped only on request, otherwise a failure that says
exactly what to install or change (no root needed to run these)."""

from __future__ import annotations

import os
import shutil

import pytest

from . import fixtures


def test_skip_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCK_SKIP_LAB", "1")
    with pytest.raises(pytest.skip.Exception, match="lab disabled by MCK_SKIP_LAB=1"):
        fixtures.require_lab()


def test_missing_tools_and_root_fail_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MCK_SKIP_LAB", raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    absent = {"nsenter", "/usr/sbin/sshd"}
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda tool: None if tool in absent else real_which(tool))
    with pytest.raises(pytest.fail.Exception) as failure:
        fixtures.require_lab()
    message = str(failure.value)
    assert "needs root" in message
    assert "missing nsenter, /usr/sbin/sshd" in message
    assert "apt-get install -y openssh-server util-linux" in message


def test_complete_machine_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MCK_SKIP_LAB", raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda tool: f"/usr/bin/{tool}")
    fixtures.require_lab()
