"""The lab's one time knob, MCK_LAB_TIME_SCALE: every modelled duration (a VM's boot, a join's
service restart, leave's waits) is multiplied by it. 1.0, the default, is realistic; CI may use
less for speed. A step is never skipped: at 0.1 a 10 s sleep still sleeps 1 s.

Read from the environment (the lab's own process, and anything the lab exports it to), else
from the file the lab writes into every VM, so a command started over SSH (which carries no
lab environment) sees the same value. Stdlib only: it runs inside lab hosts too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

ENV_VAR = "MCK_LAB_TIME_SCALE"
VM_FILE = Path("/etc/mck-lab/time-scale")  # written by the lab into each VM (tests/lab/hostfs.py)


def time_scale(env: Mapping[str, str] | None = None, vm_file: Path = VM_FILE) -> float:
    """The scale; a value that is not a number > 0 is an error that names the variable (0
    would remove the waits, which the knob never does)."""
    env = os.environ if env is None else env
    raw = env.get(ENV_VAR)
    if raw is None:
        try:
            raw = vm_file.read_text().strip()
        except OSError:
            return 1.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:  # also refuses nan
        raise ValueError(f"{ENV_VAR}={raw!r}: set it to a number > 0 (1 = realistic timings)")
    return value


def scaled(seconds: float) -> float:
    return seconds * time_scale()


def pause(seconds: float) -> None:
    """Sleep for `seconds` of modelled time."""
    time.sleep(scaled(seconds))
