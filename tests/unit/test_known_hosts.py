from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

from mck.ansible import PlayResult, _record
from mck.known_hosts import CHANGED_KEY, changed_key, forget, keys_of, trust


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


def test_keys_of_reads_plain_and_hashed_entries_of_one_address(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(
        "198.51.100.10 ssh-ed25519 AAAAone\n"
        f"{_hashed('198.51.100.10')} ecdsa-sha2-nistp256 AAAAtwo\n"
        "198.51.100.11 ssh-ed25519 AAAAother\n"
        "@cert-authority 198.51.100.10 ssh-ed25519 AAAAca\n"
    )
    assert keys_of(path, "198.51.100.10") == ("ecdsa-sha2-nistp256 AAAAtwo", "ssh-ed25519 AAAAone")
    assert keys_of(path, "198.51.100.12") == ()
    assert keys_of(tmp_path / "none", "198.51.100.10") == ()


def test_trust_makes_the_file_hold_exactly_the_recorded_keys(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(
        f"{_hashed('198.51.100.10')} ssh-ed25519 AAAAaccepted\n"  # what a first contact accepted
        "198.51.100.11 ssh-ed25519 AAAArecorded\n"
        "198.51.100.12 ssh-ed25519 AAAAunrelated\n"
    )
    recorded = {
        "198.51.100.10": ("ssh-ed25519 AAAArecorded0",),
        "198.51.100.11": ("ssh-ed25519 AAAArecorded",),
        "198.51.100.13": ("ssh-ed25519 AAAAnew",),
    }
    assert trust(path, recorded) == ["198.51.100.10", "198.51.100.13"]
    for ip, keys in recorded.items():
        assert keys_of(path, ip) == keys
    assert keys_of(path, "198.51.100.12") == ("ssh-ed25519 AAAAunrelated",)
    assert path.stat().st_mode & 0o777 == 0o600
    before = path.read_text()
    assert trust(path, recorded) == []  # nothing to change: the file is not rewritten
    assert path.read_text() == before


def test_trust_creates_the_file(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    assert trust(path, {"198.51.100.10": ("ssh-ed25519 AAAAk",)}) == ["198.51.100.10"]
    assert path.read_text() == "198.51.100.10 ssh-ed25519 AAAAk\n"


def test_a_changed_host_key_is_told_in_words_not_at_signs() -> None:
    banner = (
        "Failed to connect to the host via ssh: "
        "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
        "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
        "Host key verification failed."
    )
    assert changed_key(banner)
    assert not changed_key("Failed to connect to the host via ssh: Connection refused")
    result = PlayResult("failed", 4)
    event = {
        "event": "runner_on_unreachable",
        "event_data": {"host": "do-0", "res": {"msg": banner}},
    }
    _record(result, event, set(), [])
    assert result.failures[0].message == CHANGED_KEY
