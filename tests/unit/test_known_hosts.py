from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

from mck.known_hosts import forget


def _hashed(host: str, salt: bytes = b"0123456789abcdefghij") -> str:
    digest = hmac.new(salt, host.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


def test_forgets_plain_and_hashed_entries_only_for_given_ips(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    lines = [
        "198.51.100.10 ssh-ed25519 AAAAold\n",
        f"{_hashed('198.51.100.10')} ecdsa-sha2-nistp256 AAAAold2\n",
        "198.51.100.11 ssh-ed25519 AAAAkeep\n",
        f"{_hashed('198.51.100.12')} ssh-ed25519 AAAAkeep2\n",
        "@cert-authority * ssh-ed25519 AAAAca\n",
    ]
    path.write_text("".join(lines))
    path.chmod(0o600)
    assert forget(path, ["198.51.100.10"]) == 2
    assert path.read_text() == "".join(lines[2:])
    assert path.stat().st_mode & 0o777 == 0o600


def test_missing_file_is_fine(tmp_path: Path) -> None:
    assert forget(tmp_path / "none", ["198.51.100.10"]) == 0
