"""`snap refresh`: holds, and what a refresh then does to microk8s.

From snapd cmd/snap/cmd_snap_op.go (2.58+, where `--hold`/`--unhold` arrived, "many: support
refresh hold/unhold to API and CLI" in packaging/ubuntu-16.04/changelog) and error.go:

- `snap refresh --hold[=DURATION|forever] NAME…` holds the named snaps' general refreshes and
  auto-refreshes: prints `General refreshes of "NAME" held indefinitely` (or `until <time>`).
  Without names it holds only auto-refreshes of every snap (`Auto-refresh of all snaps held …`).
- `snap refresh --unhold [NAME…]`: `Removed general refresh hold of "NAME"`.
- `snap refresh` without names (a general refresh, which is also what snapd's auto-refresh does
  every few hours) refreshes every snap with a newer revision on its channel except held ones;
  nothing to do: `All snaps up to date.` on stderr.
- `snap refresh NAME` is a specific request: it proceeds even when NAME is held; nothing newer:
  `snap "NAME" has no updates available` on stderr, exit 0.
- A refreshed snap prints `NAME (CHANNEL) VERSION from Canonical** refreshed`.
- `snap list` shows `held` in the notes of a held snap (cmd/snap/notes.go, after `classic`).
- `snap refresh --channel=C NAME` (or `--channel C`; `--classic` accepted as snapd does) is a
  specific request too: the hold stays in place and the refresh proceeds (cmd_snap_op.go
  cmdRefresh.Execute passes the channel to refreshOne; snapd's overlord/snapstate only skips
  held snaps in auto-refreshes and general refreshes). The snap then tracks C, and a newer
  track's revision replaces the running one.
- A refresh downloads the revision before it touches the running snap (overlord/snapstate
  snapstate.go: the "download-snap" task, `Download snap "NAME" (REV) from channel "C"`, comes
  first). When the store cannot be reached the change fails there and nothing on the node
  changed: the stand-in does that when REFRESH_FAILS exists on the host (its text is the
  store error), which is how a lab test makes one node's refresh fail.

The store's newer revisions come from channels.published() (a lab test publishes one). A
refresh of microk8s lays out the new revision, moves its data to it (snapd copies SNAP_DATA to
the new revision) and restarts the services, as snapd does.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from . import channels, install, paths, service

Registry = dict[str, dict[str, Any]]
# A lab test writes this on a host to make its next refreshes fail as an unreachable store does.
REFRESH_FAILS = Path("/var/lib/snapd/standin-refresh-fails")


def main(
    args: list[str],
    registry: Registry,
    save: Callable[[Registry], None],
    error: Callable[[str], NoReturn],
) -> None:
    args, channel = _take_channel(args, error)
    hold = next((a for a in args if a == "--hold" or a.startswith("--hold=")), None)
    unhold = "--unhold" in args
    if hold is None and not unhold:
        args = [a for a in args if a != "--classic"]  # a refresh takes it; microk8s is classic
    names = [a for a in args if not a.startswith("-")]
    others = [a for a in args if a.startswith("-") and a != hold and a != "--unhold"]
    if channel is not None and (hold is not None or unhold):
        error(
            "cannot use --hold with other flags" if hold else "cannot use --unhold with other flags"
        )
    if hold is not None and (unhold or others):
        error("cannot use --hold with other flags")
    if unhold and others:
        error("cannot use --unhold with other flags")
    missing = [n for n in names if n not in registry]
    if missing:
        error(f'snap "{missing[0]}" is not installed')
    if hold is not None:
        _hold(hold.partition("=")[2] or "forever", names, registry, save, error)
    elif unhold:
        for name in names:
            registry[name].pop("held", None)
        save(registry)
        if names:
            print(f"Removed general refresh hold of {_quoted(names)}")
        else:
            print("Removed auto-refresh hold on all snaps")
    elif others:
        error(f"unknown flag `{others[0].lstrip('-').split('=')[0]}'")
    elif names:
        for name in names:
            if channel is not None:
                _switch_channel(name, channel, registry, error)
            if not _refresh(name, registry, save, error):
                print(f'snap "{name}" has no updates available', file=sys.stderr)
    else:
        refreshed = [n for n in sorted(registry) if not registry[n].get("held")]
        if not [n for n in refreshed if _refresh(n, registry, save, error)]:
            print("All snaps up to date.", file=sys.stderr)


def _hold(
    value: str,
    names: list[str],
    registry: Registry,
    save: Callable[[Registry], None],
    error: Callable[[str], NoReturn],
) -> None:
    if value == "forever":
        shown = "indefinitely"
    else:
        seconds = _duration(value)
        if seconds is None:
            error(
                'hold value must be a number of hours, minutes or seconds, or "forever": '
                f'time: invalid duration "{value}"'
            )
        if seconds < 1:
            error(f"cannot hold refreshes for less than a second: {value}")
        until = datetime.now(UTC) + timedelta(seconds=seconds)
        shown = f"until {until.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    if not names:
        print(f"Auto-refresh of all snaps held {shown}")
        return
    for name in names:
        registry[name]["held"] = value
    save(registry)
    print(f"General refreshes of {_quoted(names)} held {shown}")


def _duration(text: str) -> float | None:
    """Go's time.ParseDuration for the units a hold takes (h, m, s), e.g. `72h` or `1h30m`."""
    units = {"h": 3600, "m": 60, "s": 1}
    total, number = 0.0, ""
    for char in text:
        if char.isdigit() or char == ".":
            number += char
        elif char in units and number:
            total += float(number) * units[char]
            number = ""
        else:
            return None
    return total if text and not number else None


def _quoted(names: list[str]) -> str:
    # strutil.Quoted: each name in double quotes, joined by commas.
    return ",".join(f'"{name}"' for name in names)


def _take_channel(
    args: list[str], error: Callable[[str], NoReturn]
) -> tuple[list[str], channels.Channel | None]:
    """`--channel=C` / `--channel C` out of args, parsed as snapd does."""
    rest: list[str] = []
    text: str | None = None
    it = iter(args)
    for arg in it:
        if arg.startswith("--channel="):
            text = arg.partition("=")[2]
        elif arg == "--channel":
            text = next(it, "")
        else:
            rest.append(arg)
    if text is None:
        return rest, None
    try:
        return rest, channels.parse_channel(text)
    except ValueError as err:
        error(f"cannot parse channel: {err}")


def _switch_channel(
    name: str, channel: channels.Channel, registry: Registry, error: Callable[[str], NoReturn]
) -> None:
    """Check the store has `name` on `channel` (snapd's error otherwise); tracking changes only
    with the refresh that follows, as snapd records it in the same change."""
    if name != "microk8s":
        return
    try:
        channels.microk8s_release(channel)
    except ValueError as err:
        error(str(err))
    registry[name]["next_tracking"] = channel.full if not channel.branch else channel.name


def _refresh(
    name: str,
    registry: Registry,
    save: Callable[[Registry], None],
    error: Callable[[str], NoReturn],
) -> bool:
    """Refresh `name` to its channel's newest revision; False when it has that already."""
    entry = registry[name]
    if name != "microk8s":
        return False
    tracking = entry.pop("next_tracking", entry["tracking"])
    channel = channels.parse_channel(tracking)
    version, revision = channels.microk8s_release(channel)
    if int(revision) <= int(entry["revision"]):
        if tracking != entry["tracking"]:
            entry["tracking"] = tracking
            save(registry)
            # cmd_snap_op.go showDone for a channel switch without a new revision.
            print(f'"{name}" switched to the "{tracking}" channel')
            return True
        return False
    if REFRESH_FAILS.is_file():
        detail = REFRESH_FAILS.read_text().strip() or "persistent network error"
        error(
            "cannot perform the following tasks:\n"
            f'- Download snap "{name}" ({revision}) from channel "{channel.full}" ({detail})'
        )
    entry["tracking"] = tracking
    _switch_revision(entry["revision"], version, revision)
    entry.update(version=version, revision=revision)
    save(registry)
    shown = "" if channel.name == "stable" else f" ({channel.name})"
    print(f"{name}{shown} {version} from Canonical** refreshed")
    return True


def _switch_revision(old: str, version: str, revision: str) -> None:
    """snapd's refresh of a running snap: stop its services, mount the new revision, copy the
    data of the old one to it, point `current` at both, start the services again."""
    running = service.pid() is not None
    if running:
        service.stop()
    old_data = paths.SNAP_DATA_ROOT / old
    new_data = paths.SNAP_DATA_ROOT / revision
    if old_data.is_dir() and not new_data.exists():
        shutil.copytree(old_data, new_data, symlinks=True)
    data_current = paths.SNAP_DATA_ROOT / "current"
    data_current.unlink(missing_ok=True)
    data_current.symlink_to(revision)
    install.write_snap(version, revision)
    if running:
        service.start()
