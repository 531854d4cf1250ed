"""What `snap list microk8s` says about the installed snap (the role's installed check).

snapd prints a table (cmd/snap/cmd_list.go): Name, Version, Rev, Tracking, Publisher, Notes;
the notes are comma-separated words, `held` when refreshes of the snap are held
(cmd/snap/notes.go). No output at all means microk8s is not installed (the role's check prints
nothing then).
"""

from __future__ import annotations

from typing import Any


def microk8s_snap_listing(stdout: str) -> dict[str, Any]:
    """{installed, version, revision, tracking, held} of the microk8s row."""
    for line in stdout.splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[0] == "microk8s":
            return {
                "installed": True,
                "version": fields[1],
                "revision": fields[2],
                "tracking": fields[3],
                "held": "held" in fields[-1].split(","),
            }
    return {"installed": False, "version": "", "revision": "", "tracking": "", "held": False}


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"microk8s_snap_listing": microk8s_snap_listing}
