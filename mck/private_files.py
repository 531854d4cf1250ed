"""Files that hold secrets stay private to the user: directories 0700, files 0600.

`.mck/` holds the saved plan (every `TF_VAR_` credential in clear text), SSH host keys and the
debug logs, so it is 0700 whatever an older mck made it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mck.errors import MckError

PRIVATE_DIR = 0o700


def private_dir(path: Path) -> Path:
    """Make `path` (and any missing parent) a directory only its owner can enter."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
        if stat.S_IMODE(path.stat().st_mode) != PRIVATE_DIR:
            os.chmod(path, PRIVATE_DIR)
    except OSError as exc:
        raise MckError(f"cannot make {path} private: {exc.strerror}") from exc
    return path
