"""Where cloud-init keeps its boot status, and what it writes there (stdlib only: runs in VMs).

cloud-init 22.4 (Debian 12's cloud images) writes `/run/cloud-init/status.json` as each boot
stage starts and finishes (`{"v1": {"datasource": ..., "stage": <running stage or null>,
"init-local": {"start": t, "finished": t|null, "errors": []}, "init": ..., "modules-config":
..., "modules-final": ...}}`) and `/run/cloud-init/result.json` when the last stage is done;
`cloud-init status` reads only those (cloudinit/cmd/status.py, get_status_details).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

RUN_DIR = Path("/run/cloud-init")
STATUS = RUN_DIR / "status.json"
RESULT = RUN_DIR / "result.json"
ENABLED = RUN_DIR / "enabled"
DISABLED_FILE = Path("/etc/cloud/cloud-init.disabled")
STAGES = ("init-local", "init", "modules-config", "modules-final")


def status_v1(datasource: str | None, started: float, now: float, done: bool) -> dict[str, Any]:
    """status.json's v1 while the `init` stage runs (done=False) or once every stage finished."""
    v1: dict[str, Any] = {"datasource": datasource if done else None, "stage": None}
    for index, stage in enumerate(STAGES):
        if done:
            v1[stage] = {"errors": [], "start": started + index, "finished": now}
        elif index == 0:
            v1[stage] = {"errors": [], "start": started, "finished": started}
        elif index == 1:
            v1[stage] = {"errors": [], "start": started, "finished": None}
            v1["stage"] = stage
        else:
            v1[stage] = {"errors": [], "start": None, "finished": None}
    return v1


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomically, as a reader polling the file must never see half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)
