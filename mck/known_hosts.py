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
from collections.abc import Iterable, Mapping
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


def keys_of(path: Path, ip: str) -> tuple[str, ...]:
    """The host keys `path` holds for `ip` (`type base64` each, sorted): what ssh checked or
    accepted when it reached the VM there."""
    names = _names(ip)
    found = set()
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            fields = line.split()
            if len(fields) >= 3 and not line.startswith(("#", "@")) and _matches(fields[0], names):
                found.add(f"{fields[1]} {fields[2]}")
    return tuple(sorted(found))


def trust(path: Path, recorded: Mapping[str, Iterable[str]]) -> list[str]:
    """Make `path` hold exactly the recorded keys for each IP in `recorded` (ip -> keys), so
    ssh checks a VM against the keys it showed when it was first configured, not whatever answers
    first. Returns the IPs whose entries changed. Atomic, private (0600)."""
    changed = [ip for ip, keys in recorded.items() if keys_of(path, ip) != tuple(sorted(keys))]
    if not changed:
        return []
    if path.is_file():
        forget(path, changed)
        text = path.read_text(encoding="utf-8")
    else:
        text = ""
    if text and not text.endswith("\n"):
        text += "\n"
    text += "".join(f"{ip} {key}\n" for ip in changed for key in sorted(recorded[ip]))
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return changed


# What a node refused that way is told (ansible's own message is a banner of @ signs).
CHANGED_KEY = (
    "its SSH host key is not the one recorded when mck first configured this VM (something in "
    "the middle, or a VM rebuilt outside mck): refusing to connect; if it was rebuilt on "
    "purpose, `tofu taint` its resource and run mck, which replaces it and records the new keys"
)


def changed_key(message: str) -> bool:
    """Whether ssh refused a VM because its host key is not the one known for its address."""
    return "REMOTE HOST IDENTIFICATION HAS CHANGED" in message or (
        "Host key verification failed" in message
    )
