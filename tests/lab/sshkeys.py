"""SSH keys of the lab: the user's login key, a host CA, and per-VM host keys signed by it."""

from __future__ import annotations

from pathlib import Path

from .commands import run


def generate(path: Path, comment: str, key_type: str = "ed25519") -> str:
    """A new key (ssh-keygen -t `key_type`) without passphrase at `path` (+ .pub); returns the
    public key line."""
    run(["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", comment, "-f", str(path)])
    return path.with_name(path.name + ".pub").read_text().strip()


def sign_host_key(ca_key: Path, host_key: Path, identity: str, principals: list[str]) -> Path:
    """Certify `host_key`.pub for the names/addresses clients use; returns the -cert.pub path.
    One `@cert-authority` line then verifies every VM, with host-key checking left on."""
    pub = host_key.with_name(host_key.name + ".pub")
    run(
        [
            "ssh-keygen", "-q", "-s", str(ca_key), "-h", "-I", identity,
            "-n", ",".join(principals), str(pub),
        ]
    )  # fmt: skip
    return host_key.with_name(host_key.name + "-cert.pub")
