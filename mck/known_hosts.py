"""The project's own known_hosts (`.mck/known_hosts`, filled by ssh's accept-new).

Clouds hand a destroyed VM's public IP to the next VM created, which has new host keys; ssh then
refuses it as a possible man in the middle. mck knows which VMs it just created or destroyed, so it
forgets exactly those addresses, and host-key checking stays on for everything else.
Entries may be hashed (Debian sets HashKnownHosts yes): `|1|salt|HMAC-SHA1(salt, host)`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable
from pathlib import Path


def _names(ip: str) -> set[str]:
    return {ip, f"[{ip}]:22"}


def _matches(field: str, names: set[str]) -> bool:
    for pattern in field.split(","):
        if pattern.startswith("|1|"):
            try:
                _, _, salt, digest = pattern.split("|")
                key = base64.b64decode(salt)
                want = base64.b64decode(digest)
            except ValueError:
                continue
            for name in names:
                if hmac.compare_digest(hmac.new(key, name.encode(), hashlib.sha1).digest(), want):
                    return True
        elif pattern in names:
            return True
    return False


def forget(path: Path, ips: Iterable[str]) -> int:
    """Drop the entries for `ips`; returns how many lines went. Atomic, keeps the file's mode."""
    names: set[str] = set()
    for ip in ips:
        names |= _names(ip)
    if not names or not path.is_file():
        return 0
    kept, dropped = [], 0
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        fields = line.split()
        if fields and not line.startswith("#"):
            host_field = fields[1] if fields[0].startswith("@") and len(fields) > 1 else fields[0]
            if _matches(host_field, names):
                dropped += 1
                continue
        kept.append(line)
    if dropped:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text("".join(kept), encoding="utf-8")
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    return dropped
