"""Writing the files mck generates (inventory, kubeconfig) so that nothing is ever half-written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from mck.errors import MckError


def write_atomic(path: Path, text: str, *, mode: int) -> None:
    """Replace `path` with `text` in one step: readers see the old file or the new one, never a
    part; on any failure the old file stays and no temporary file is left. The temporary file
    has `mode` before it holds a byte (mkstemp makes it 0600)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise MckError(f"cannot write {path}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), mode)
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise MckError(f"cannot write {path}: {exc.strerror}") from exc
        raise
    # Make the rename itself durable: without this a crash can bring back the old file.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
