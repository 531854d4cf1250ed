"""Snap channels: snapd's parsing rules and the microk8s releases this stand-in "publishes".

Parsing follows snapd `snap/channel/channel.go` (ParseVerbatim + Clean): `[track/]risk[/branch]`,
risks stable|candidate|beta|edge, a lone word that is not a risk is a track, `latest` is the
default track and is dropped from the normalised name. Error texts are snapd's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

RISKS = ("stable", "candidate", "beta", "edge")

# track -> (snap version, revision). Versions are the Kubernetes release the track ships; the
# kubelet reports the same string (`kubectl get nodes` VERSION column).
MICROK8S_TRACKS: dict[str, tuple[str, str]] = {
    "1.28": ("v1.28.15", "7431"),
    "1.29": ("v1.29.15", "7792"),
    "1.30": ("v1.30.14", "8125"),
    "1.31": ("v1.31.13", "8350"),
    "1.32": ("v1.32.9", "8511"),
    "1.33": ("v1.33.5", "8597"),
    "1.34": ("v1.34.1", "8693"),
    "1.35": ("v1.35.0", "8780"),
    "1.36": ("v1.36.0", "8861"),
}
# What latest/stable points at in this stand-in's store.
LATEST_TRACK = "1.32"
# Revisions the store published after the lab started, {track: [version, revision]}: a test
# writes it on a host to model the store moving on (snapd's auto-refresh then picks it up).
PUBLISHED = Path("/var/lib/snapd/standin-store-published.json")

CORE_SNAP = ("16-2.61.4-20240607", "17200")


@dataclass(frozen=True)
class Channel:
    track: str  # "" means latest
    risk: str
    branch: str

    @property
    def name(self) -> str:
        """snapd's normalised name: risk, track/risk or track/risk/branch."""
        name = f"{self.track}/{self.risk}" if self.track else self.risk
        return f"{name}/{self.branch}" if self.branch else name

    @property
    def full(self) -> str:
        """Like snapd's Full(): the track is always spelt out."""
        name = f"{self.track or 'latest'}/{self.risk}"
        return f"{name}/{self.branch}" if self.branch else name


def parse_channel(text: str) -> Channel:
    """Parse like snapd; raises ValueError with snapd's message."""
    if text == "":
        raise ValueError("channel name cannot be empty")
    parts = text.split("/")
    track: str | None = None
    risk: str | None = None
    branch: str | None = None
    if len(parts) > 3:
        raise ValueError(f"channel name has too many components: {text}")
    if len(parts) == 3:
        track, risk, branch = parts
    elif len(parts) == 2:
        if parts[0] in RISKS:
            risk, branch = parts
        else:
            track, risk = parts
    elif parts[0] in RISKS:
        risk = parts[0]
    else:
        track = parts[0]
    if risk is not None and risk not in RISKS:
        raise ValueError(f"invalid risk in channel name: {text}")
    if track is not None and track == "":
        raise ValueError(f"invalid track in channel name: {text}")
    if branch is not None and branch == "":
        raise ValueError(f"invalid branch in channel name: {text}")
    return Channel(
        track="" if track in (None, "latest") else str(track),
        risk=risk or "stable",
        branch=branch or "",
    )


def microk8s_release(channel: Channel) -> tuple[str, str]:
    """(version, revision) of microk8s on `channel`; ValueError with snapd's store message."""
    if channel.track and channel.track not in MICROK8S_TRACKS:
        raise ValueError(_other_tracks_message(channel))
    if channel.branch:
        raise ValueError(
            f"requested a non-existing branch on {channel.track or 'latest'}/{channel.risk}"
            f' for snap "microk8s": {channel.branch}'
        )
    return published()[channel.track or LATEST_TRACK]


def published() -> dict[str, tuple[str, str]]:
    """Each track's newest (version, revision): the stand-in's store plus what was published."""
    tracks = dict(MICROK8S_TRACKS)
    try:
        later = json.loads(PUBLISHED.read_text())
    except (OSError, ValueError):
        later = {}
    for track, (version, revision) in later.items():
        if track in tracks:
            tracks[track] = (str(version), str(revision))
    return tracks


def _other_tracks_message(channel: Channel) -> str:
    # snapd cmd/snap error.go snapRevisionNotAvailableMessage, the "architecture:risk" case,
    # with installTable(full=True) rows indented by two spaces.
    rows = [(f"latest/{channel.risk}", f"--{channel.risk}")]
    for track in MICROK8S_TRACKS:
        name = f"{track}/{channel.risk}"
        # channelOption(): a stable channel is offered by its track alone.
        rows.append((name, f"--channel={track if channel.risk == 'stable' else name}"))
    width = max(11, max(len(name) for name, _ in rows) + 2)
    table = "\n".join(f"  {name:<{width}}snap install {opt} microk8s" for name, opt in rows)
    return (
        f'snap "microk8s" is not available on {channel.full} but is available to install on the'
        f" following tracks:\n{table}\n\n"
        "Please be mindful that different tracks may include different features.\n"
        "Get more information with 'snap info microk8s'."
    )
