"""Join tokens, as microk8s stores and checks them.

- add: scripts/wrappers/add_token.py: `token` (no TTL, the default --token-ttl -1) or
  `token|<unix expiry>` appended to credentials/cluster-tokens.txt.
- consume: microk8s-cluster-agent pkg/snap/snap.go ConsumeClusterToken + pkg/util/token.go:
  persistent tokens (launch configuration) always pass; a token without TTL is single-use and
  removed on use; a token with TTL stays valid, and reusable, until it expires. The FIRST line
  carrying the token decides. The agent consumes the token before any other check, so a join
  that is then refused has still used up a single-use token.
- certificate-request tokens (`<token>-kubelet`, `<token>-proxy`) let a joining worker get its
  certificates signed; they work the same way and are single use.
"""

from __future__ import annotations

import time
from pathlib import Path

from . import paths

MIN_LENGTH = 32  # TOKEN_MIN_LEN in scripts/wrappers/common/cluster/utils.py


def cluster_tokens_file() -> Path:
    return paths.credentials("cluster-tokens.txt")


def add(token: str, ttl: int) -> None:
    path = cluster_tokens_file()
    with path.open("a+") as fp:
        if ttl != -1:
            fp.write(f"{token}|{round(time.time()) + ttl}\n")
        else:
            fp.write(f"{token}\n")


def _check(token: str, path: Path) -> tuple[bool, bool]:
    """(valid, has_ttl) like util.IsValidToken."""
    token = token.strip()
    if not token or not path.is_file():
        return False, False
    for line in path.read_text().split("\n"):
        parts = line.strip().split("|", 1)
        if parts[0] != token:
            continue
        if len(parts) == 1:
            return True, False
        try:
            return time.time() < int(parts[1]), True
        except ValueError:
            return False, True
    return False, False


def _remove(token: str, path: Path) -> None:
    lines = path.read_text().split("\n")
    for idx, line in enumerate(lines):
        if line.startswith(token):
            del lines[idx]
            path.write_text("\n".join(lines))
            return


def consume_cluster_token(token: str) -> bool:
    if _check(token, paths.credentials("persistent-cluster-tokens.txt"))[0]:
        return True
    path = cluster_tokens_file()
    valid, has_ttl = _check(token, path)
    if valid and not has_ttl:
        _remove(token, path)
    return valid


def add_certificate_request_token(token: str) -> None:
    with paths.credentials("certs-request-tokens.txt").open("a") as fp:
        fp.write(f"{token}\n")


def consume_certificate_request_token(token: str) -> bool:
    path = paths.credentials("certs-request-tokens.txt")
    valid, has_ttl = _check(token, path)
    if valid and not has_ttl:
        _remove(token, path)
    return valid
