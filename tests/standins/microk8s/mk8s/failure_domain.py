"""The node's dqlite failure domain, read when the services start.

microk8s-resources/wrappers/run-kubelite-with-args copies `failure-domain=<n>` from
$SNAP_DATA/args/ha-conf (default-args: `failure-domain=1`) into the k8s-dqlite storage dir as
`failure-domain`, and k8s-dqlite reads that file when it starts and hands it to go-dqlite as
the node's metadata (app.WithFailureDomain), which go-dqlite's leader weighs when it adjusts roles.
So a change takes effect after `snap restart microk8s.daemon-kubelite` and then
`microk8s.daemon-k8s-dqlite`; the stand-in's one daemon does both steps when it (re)starts.
"""

from __future__ import annotations

from . import paths, svcargs


def at_start() -> int:
    value = svcargs.get("ha-conf", "failure-domain")
    stored = paths.backend() / "failure-domain"
    if value is not None and stored.parent.is_dir():
        stored.write_text(f"{value}\n")
    try:
        return int(stored.read_text().strip())
    except (OSError, ValueError):
        return 0  # go-dqlite's zero value when k8s-dqlite has no file
