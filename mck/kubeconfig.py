"""Kubeconfig files: the admin kubeconfig `microk8s config` prints, renamed after the cluster and
pointed at an address the API certificate covers, written alone or merged into the user's own.

Pure except for reading and writing files. The rules:
- A file mck writes starts with `MARK`. mck replaces a file only when it carries that line (it
  wrote it), or when asked to (`force`); `--destroy` removes the project's `kubeconfig` only
  when it carries it. A user's own file of that name is never touched silently.
- Merging replaces only the cluster's own entries (cluster and context named after the cluster,
  user `<cluster>-admin`); every other entry stays, and so does `current-context` unless the
  caller asks to switch to the cluster (or the file had none).
- Every write is atomic (a temporary file in the same directory, fsynced, renamed over the
  target), mode 0600 (the file holds the admin's private key); a symlinked target is written
  through the link. On any error the old file stays as it was.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mck.errors import MckError, UsageError
from mck.files import write_atomic

MARK = "# Written by mck kubeconfig"
API_PORT = 16443
_KINDS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))


def user_name(cluster: str) -> str:
    return f"{cluster}-admin"


def parse_admin(text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The cluster entry (CA, server) and user entry (client cert and key) of the kubeconfig
    `microk8s config` prints. Errors never quote the text: it holds a private key."""
    import yaml  # here, not at the top: a converge or `mck --help` never reads YAML

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        raise MckError("microk8s config printed something that is not YAML") from None
    if not isinstance(doc, dict):
        raise MckError("microk8s config printed no kubeconfig")
    context_name = doc.get("current-context")
    context = _entry(doc, "contexts", "context", context_name)
    cluster = _entry(doc, "clusters", "cluster", context.get("cluster"))
    user = _entry(doc, "users", "user", context.get("user"))
    if not cluster.get("server") or not _is_ca(cluster.get("certificate-authority-data")):
        raise MckError("microk8s config printed a cluster without a CA or server")
    client_cert = user.get("client-certificate-data") and user.get("client-key-data")
    if not (client_cert or user.get("token")):
        raise MckError("microk8s config printed a user without a credential")
    return dict(cluster), dict(user)


def _entry(doc: Mapping[str, Any], kind: str, field: str, name: Any) -> dict[str, Any]:
    for item in doc.get(kind) or []:
        if (
            isinstance(item, dict)
            and item.get("name") == name
            and isinstance(item.get(field), dict)
        ):
            value: dict[str, Any] = item[field]
            return value
    raise MckError(f"microk8s config printed a kubeconfig without its {field} {name!r}")


def server_url(host: str, port: int = API_PORT) -> str:
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"


def check_server(url: str) -> str:
    """`--server`: an https URL naming a host (and port); returns the host."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number)
        valid = parts.scheme == "https" and bool(parts.hostname) and parts.path in ("", "/")
    except ValueError:
        valid = False
    if not valid or parts.query or parts.fragment or parts.username:
        raise UsageError(
            f"--server {url!r} is not an API address: give https://HOST:PORT, "
            "e.g. https://127.0.0.1:16443 through an SSH tunnel"
        )
    assert parts.hostname is not None
    return parts.hostname


def parse_sans(text: str) -> set[str]:
    """Addresses and names from `openssl x509 -noout -ext subjectAltName` output."""
    sans = set()
    for kind, value in re.findall(r"(DNS|IP Address):([^,\s]+)", text):
        sans.add(_normal(value) if kind == "IP Address" else value.lower())
    return sans


def covered(host: str, sans: set[str]) -> bool:
    """Does a certificate with these SANs cover `host` (an IP, or a name, `*.` wildcards)?"""
    try:
        return _normal(host) in sans
    except ValueError:
        pass
    host = host.lower()
    if host in sans:
        return True
    first, _, rest = host.partition(".")
    return bool(first and rest) and f"*.{rest}" in sans


def _normal(ip: str) -> str:
    return str(ipaddress.ip_address(ip.strip("[]")))


def standalone(
    name: str, server: str, cluster: Mapping[str, Any], user: Mapping[str, Any]
) -> dict[str, Any]:
    """A kubeconfig of its own: one cluster, user and context, all named after the cluster."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {**cluster, "server": server}}],
        "users": [{"name": user_name(name), "user": dict(user)}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": user_name(name)}}],
        "current-context": name,
        "preferences": {},
    }


def merge(
    existing: Mapping[str, Any] | None, new: Mapping[str, Any], *, use: bool
) -> dict[str, Any]:
    """`existing` with `new`'s entries added or replacing the entries of the same names (only
    those); current-context switches to `new`'s only with `use`, or when there was none."""
    doc: dict[str, Any] = dict(existing or {})
    doc.setdefault("apiVersion", "v1")
    doc.setdefault("kind", "Config")
    for kind, _field in _KINDS:
        ours = list(new.get(kind) or [])
        names = {e["name"] for e in ours}
        kept = [e for e in doc.get(kind) or [] if e.get("name") not in names]
        doc[kind] = kept + ours
    if use or not doc.get("current-context"):
        doc["current-context"] = new["current-context"]
    doc.setdefault("preferences", {})
    return doc


def load(path: Path) -> dict[str, Any] | None:
    """An existing kubeconfig, None when there is none (or it is empty). A file that is not a
    kubeconfig is an error naming it: merging into it could lose what it holds."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise UsageError(
            f"{path} is not valid YAML{where}: fix or move it, then run mck kubeconfig again"
        ) from None
    if doc is None:
        return None
    problem = _shape_problem(doc)
    if problem:
        raise UsageError(f"{path} is not a kubeconfig ({problem}): fix or move it, then retry")
    assert isinstance(doc, dict)
    return doc


def _shape_problem(doc: Any) -> str | None:
    if not isinstance(doc, dict):
        return "not a mapping"
    if doc.get("kind", "Config") != "Config":
        return f"kind is {doc.get('kind')!r}"
    for kind, field in _KINDS:
        entries = doc.get(kind)
        if entries is None:
            continue
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("name"), str) for e in entries
        ):
            return f"{kind} is not a list of named {field} entries"
    return None


def dump(doc: Mapping[str, Any], cluster: str, *, mark: bool = True) -> str:
    """The file's text; `mark` claims it as mck's. A merged file is the user's and never gets
    the mark, so a later plain `mck kubeconfig -o` of it cannot replace their other entries."""
    import yaml

    body = yaml.safe_dump(dict(doc), default_flow_style=False, sort_keys=False, width=1 << 20)
    if not mark:
        return body
    return f"{MARK} for cluster {cluster}; it rewrites this file, so edit a copy.\n{body}"


def written_by_mck(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as f:
            return f.readline().startswith(MARK)
    except (OSError, UnicodeDecodeError):
        return False


def check_replaceable(path: Path, *, force: bool) -> None:
    """Refuse to overwrite a file mck did not write, unless forced."""
    if force or not (path.exists() or path.is_symlink()) or written_by_mck(path):
        return
    raise UsageError(
        f"{path} exists and was not written by mck: pass --force to replace it, "
        "--merge to add the cluster to a kubeconfig, or -o to write elsewhere"
    )


def merge_target(env: Mapping[str, str], home: Path) -> Path:
    """Where kubectl writes merged changes: $KUBECONFIG's first path, else ~/.kube/config."""
    for part in (env.get("KUBECONFIG") or "").split(os.pathsep):
        if part:
            return Path(part).expanduser()
    return home / ".kube" / "config"


def write_private(path: Path, text: str) -> Path:
    """Replace `path` (through a symlink: its target) with `text` atomically, mode 0600; returns
    the path written."""
    target = Path(os.path.realpath(path))
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise MckError(f"cannot write {path}: {exc.strerror}") from exc
    write_atomic(target, text, mode=0o600)
    return target


def _is_ca(data: Any) -> bool:
    """Base64 of a PEM certificate, which is what kubectl will need."""
    try:
        return b"BEGIN CERTIFICATE" in base64.b64decode(str(data), validate=True)
    except (binascii.Error, ValueError):
        return False
