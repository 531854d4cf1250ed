"""The project's HCL, parsed at most once: a converge with no .tf or .tfvars file changed since
the last run needs neither python-hcl2 nor lark (importing them and parsing the shipped files
costs ~0.2 s of CPU, a third of what mck itself spends on a no-op converge).

Within a process each file's content is parsed once, however often preflight, the debug log and
the variable look-ups read it. Across runs, what was parsed is kept in
`<project>/.mck/hcl-cache.json`: per file (its path relative to the project), the sha256 of its
bytes and python-hcl2's output.
The whole cache holds only for the python-hcl2 version and serialization options it was written
with. It is mode 0600 (tfvars may hold tokens) and lists only files that exist when it is
written. A cache that is unreadable, corrupt or written for another version is ignored and
rewritten, never an error; a file that does not parse is never cached, so it fails the same way
every run.

The cache is only ever written into an existing `.mck/` (a converge makes it once past
preflight): reading a directory never creates anything in it, and bad input leaves nothing
behind.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
from pathlib import Path
from typing import Any

from mck.errors import MckError, UsageError
from mck.files import write_atomic

CACHE_FILE = Path(".mck") / "hcl-cache.json"
FORMAT = 1  # of the cache file itself
# python-hcl2's SerializationOptions as mck uses them (part of the cache's key).
OPTIONS: dict[str, Any] = {"strip_string_quotes": True, "with_comments": False}


class HclCache:
    """The parsed HCL files of one project (`for_project` gives the process's one instance)."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.path = project / CACHE_FILE
        self.parses = 0  # files python-hcl2 parsed (or tried to) in this process
        self._entries: dict[str, dict[str, Any]] | None = None  # loaded on first use
        self._dirty = False

    def parse(self, file: Path) -> dict[str, Any]:
        """`file` as python-hcl2 reads it. The result is shared: callers must not change it.
        A file that cannot be read or parsed is one UsageError naming it."""
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise _parse_error(file, exc) from exc
        digest = hashlib.sha256(data).hexdigest()
        entries = self._load()
        key = os.path.relpath(file, self.project)
        entry = entries.get(key)
        if entry is not None and entry["sha256"] == digest:
            parsed: dict[str, Any] = entry["parsed"]
            return parsed
        self.parses += 1
        parsed = _parse(file, data)
        entries[key] = {"sha256": digest, "parsed": parsed}
        self._dirty = True
        return parsed

    def save(self) -> None:
        """Write what changed since the cache was read, when the project has a `.mck/`."""
        if not self._dirty or self._entries is None or not self.path.parent.is_dir():
            return
        entries = {k: v for k, v in self._entries.items() if (self.project / k).is_file()}
        text = json.dumps({**_key(), "entries": entries}, separators=(",", ":"))
        try:
            write_atomic(self.path, text, mode=0o600)
        except MckError:
            return  # not writable: only slower next time
        self._dirty = False

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._entries is None:
            self._entries = _read(self.path)
            # Entries of files gone since: written out again without them at the next save.
            self._dirty = any(not (self.project / k).is_file() for k in self._entries)
        return self._entries


_CACHES: dict[Path, HclCache] = {}


def for_project(project: Path) -> HclCache:
    """The cache of `project`, one per process: what one caller parsed, the next one reuses."""
    project = project.resolve()
    cache = _CACHES.get(project)
    if cache is None:
        cache = _CACHES[project] = HclCache(project)
    return cache


def _read(path: Path) -> dict[str, dict[str, Any]]:
    """The entries of a cache file written with today's key; nothing for anything else."""
    try:
        raw = json.loads(path.read_bytes())
    except (OSError, ValueError):  # missing, unreadable, not JSON, not UTF-8
        return {}
    if not isinstance(raw, dict) or any(raw.get(k) != v for k, v in _key().items()):
        return {}
    entries = raw.get("entries")
    if not isinstance(entries, dict):
        return {}
    return {
        name: entry
        for name, entry in entries.items()
        if isinstance(entry, dict)
        and isinstance(entry.get("sha256"), str)
        and isinstance(entry.get("parsed"), dict)
    }


def _key() -> dict[str, Any]:
    return {"format": FORMAT, "hcl2": parser_version(), "options": OPTIONS}


_VERSION = re.compile(r"""^__version__\s*=\s*(?:version\s*=\s*)?['"]([^'"]+)['"]""", re.M)
_parser_version: str | None = None


def parser_version() -> str:
    """python-hcl2's version, without importing it (or importlib.metadata, ~0.03 s): from the
    version.py its packaging writes, else from the installed distribution's metadata."""
    global _parser_version
    if _parser_version is None:
        spec = importlib.util.find_spec("hcl2")
        version = None
        if spec is not None and spec.origin:
            try:
                text = (Path(spec.origin).parent / "version.py").read_text(encoding="utf-8")
            except OSError:
                text = ""
            match = _VERSION.search(text)
            version = match.group(1) if match else None
        if version is None:
            from importlib.metadata import PackageNotFoundError
            from importlib.metadata import version as installed

            try:
                version = installed("python-hcl2")
            except PackageNotFoundError:
                version = "unknown"
        _parser_version = version
    return _parser_version


def _parse(file: Path, data: bytes) -> dict[str, Any]:
    """python-hcl2's reading of `data` (the bytes of `file`), as JSON gives it back: a parse
    and a cache hit return the same thing."""
    try:
        import hcl2  # only here: importing it (and lark) costs ~0.07 s
        from hcl2.utils import SerializationOptions

        # Universal newlines, as reading the file as text would give.
        text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
        parsed = hcl2.loads(text, serialization_options=SerializationOptions(**OPTIONS))
    except Exception as exc:  # python-hcl2 raises lark errors of many kinds
        raise _parse_error(file, exc) from exc
    result: dict[str, Any] = json.loads(json.dumps(parsed))
    return result


def _parse_error(file: Path, exc: Exception) -> UsageError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return UsageError(f"cannot parse {file.name}: {first}; fix the HCL and retry")
