"""mck/versions.py: each node's microk8s from `snap list`, read by tasks that run anyway, and
the notice for a node on another channel than the project pins (mck never refreshes one)."""

from __future__ import annotations

from pathlib import Path

import yaml

from mck import versions
from mck.ansible import PlayResult

REPO = Path(__file__).resolve().parents[2]
LISTING = (
    "Name      Version  Rev   Tracking     Publisher    Notes\n"
    "microk8s  {v}  8511  {c}  canonical**  classic,held\n"
)


def _listing(version: str, channel: str) -> dict[str, object]:
    return {"rc": 0, "stdout": LISTING.format(v=version, c=channel)}


def test_snaps_come_from_the_captured_listing() -> None:
    result = PlayResult(
        "successful",
        0,
        captured={
            "a": {versions.CHECK_TASK: _listing("v1.32.9", "1.32/stable")},
            "b": {versions.CHECK_TASK: _listing("v1.36.0", "1.36/stable")},
            "c": {
                versions.CHECK_TASK: {"rc": 0, "stdout": ""},  # not installed yet: the install
                versions.INSTALL_TASK: {
                    "rc": 0,
                    "stdout": "microk8s (1.36/stable) v1.36.0 from Canonical** installed",
                },
            },
            "d": {versions.CHECK_TASK: {"rc": 1, "stdout": "", "stderr": "error: no snapd"}},
        },
    )
    snaps = versions.from_result(result, versions.CHECK_TASK, versions.INSTALL_TASK)
    assert snaps == {
        "a": versions.Snap("v1.32.9", "1.32/stable"),
        "b": versions.Snap("v1.36.0", "1.36/stable"),
        "c": versions.Snap("v1.36.0", "1.36/stable"),
    }
    assert versions.notices(snaps, "1.36/stable") == (
        "a runs microk8s v1.32.9 from 1.32/stable, and the project pins 1.36/stable for new "
        "nodes: mck does not refresh a running node",
    )
    assert versions.notices(snaps, None) == ()
    # snapd leaves plain stable out of its install line.
    plain = versions.parse("microk8s v1.32.9 from Canonical✓ installed\n")
    assert plain == versions.Snap("v1.32.9", "latest/stable")


def test_the_reads_are_tasks_that_run_anyway() -> None:
    # A converge reads the microk8s role's installed check: no command of its own.
    tasks = yaml.safe_load((REPO / "roles/microk8s/tasks/main.yml").read_text())
    check = next(t for t in tasks if t["name"] == versions.CHECK_TASK)
    assert "snap list microk8s" in check["ansible.builtin.shell"]["cmd"]
    # status and plan: the probe play's second task, in the same run as the status read.
    probe = yaml.safe_load((REPO / "mck/playbooks/probe.yml").read_text())[0]["tasks"]
    read = next(t for t in probe if t["name"] == versions.PROBE_TASK)
    assert read["ansible.builtin.command"] == "snap list microk8s"
    assert read["failed_when"] is False and read["changed_when"] is False


def test_the_pinned_channel_is_the_roles(tmp_path: Path) -> None:
    assert versions.pinned_channel(REPO) == "1.36/stable"
    assert versions.pinned_channel(tmp_path) is None
