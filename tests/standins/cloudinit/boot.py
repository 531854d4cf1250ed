#!/usr/bin/python3
"""What cloud-init's boot stages leave behind in a lab VM: `boot.py start DATASOURCE` when the
VM powers on (the `init` stage running), `boot.py done DATASOURCE` when the last stage has
finished. The lab's VM start script runs them (tests/lab/host.py); the timing is the lab's."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from files import ENABLED, RESULT, STATUS, status_v1, write_json


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[0] not in ("start", "done"):
        sys.exit("usage: boot.py start|done DATASOURCE")
    step, datasource = argv
    now = time.time()
    if step == "start":
        # cloud-init-generator's mark on a systemd boot: `boot_status_code: enabled-by-generator`.
        ENABLED.parent.mkdir(parents=True, exist_ok=True)
        ENABLED.touch()
        write_json(STATUS, {"v1": status_v1(None, now, now, done=False)})
        return
    started = now
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        started = float(json.loads(STATUS.read_text())["v1"]["init-local"]["start"])
    write_json(STATUS, {"v1": status_v1(datasource, started, now, done=True)})
    write_json(RESULT, {"v1": {"datasource": datasource, "errors": []}})


if __name__ == "__main__":
    main(sys.argv[1:])
