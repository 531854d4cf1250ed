"""The microk8s role's snap: the pinned channel is a supported Kubernetes, and the installed
check's reading of `snap list microk8s` (installed, version, held)."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "microk8s_snap", REPO / "roles/microk8s/filter_plugins/microk8s_snap.py"
)
assert _spec and _spec.loader
snap: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(snap)

# Upstream end of life per minor (kubernetes.io/releases/<minor>), for the tracks microk8s has.
END_OF_LIFE = {
    "1.32": date(2026, 2, 28),
    "1.33": date(2026, 6, 28),
    "1.34": date(2026, 10, 27),
    "1.35": date(2027, 2, 28),
    "1.36": date(2027, 6, 28),
}
# When this round of the project was made: the pin must outlive it by months, not days.
TODAY = date(2026, 12, 7)


def test_the_pinned_channel_is_a_kubernetes_upstream_still_supports() -> None:
    defaults = yaml.safe_load((REPO / "roles/microk8s/defaults/main.yml").read_text())
    track, _, risk = defaults["microk8s_channel"].partition("/")
    assert risk == "stable"
    assert track in END_OF_LIFE, f"{track}: not a track with a known end of life"
    assert (END_OF_LIFE[track] - TODAY).days > 90, f"{track} ends {END_OF_LIFE[track]}"


def test_snap_list_of_a_held_microk8s() -> None:
    stdout = (
        "Name      Version  Rev   Tracking     Publisher    Notes\n"
        "microk8s  v1.36.0  8861  1.36/stable  canonical**  classic,held\n"
    )
    assert snap.microk8s_snap_listing(stdout) == {
        "installed": True,
        "version": "v1.36.0",
        "revision": "8861",
        "tracking": "1.36/stable",
        "held": True,
    }


def test_snap_list_without_a_hold_and_nothing_installed() -> None:
    stdout = (
        "Name      Version  Rev   Tracking     Publisher   Notes\n"
        "microk8s  v1.32.9  8511  1.32/stable  canonical✓  classic\n"
    )
    reading = snap.microk8s_snap_listing(stdout)
    assert reading["installed"] and not reading["held"] and reading["version"] == "v1.32.9"
    assert snap.microk8s_snap_listing("") == {
        "installed": False,
        "version": "",
        "revision": "",
        "tracking": "",
        "held": False,
    }
