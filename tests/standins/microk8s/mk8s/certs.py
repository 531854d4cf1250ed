"""Certificates, made with the openssl CLI like microk8s' `produce_certs` / `init_cluster`.

The cluster agent serves TLS with certs/server.crt, and `microk8s add-node` prints the first
12 hex digits of the SHA-256 of that certificate's DER (utils.sh `server_cert_check`); `join`
compares them with the certificate the agent presents. dqlite's cluster.crt/key are shared by
every member (the join response carries them) and only members hold them, so the stand-in
derives the secret that authenticates member-to-member calls from cluster.key.
Deviation: EC P-256 keys instead of RSA, because key generation time matters on 2 cores.
"""

from __future__ import annotations

import hashlib
import ipaddress
import ssl
import subprocess
import tempfile
from pathlib import Path

from . import paths


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _new_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _openssl(
        "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path)
    )
    path.chmod(0o600)


def make_ca() -> None:
    key, crt = paths.certs("ca.key"), paths.certs("ca.crt")
    _new_key(key)
    _openssl(
        "req", "-x509", "-new", "-sha256", "-nodes", "-days", "3650", "-key", str(key),
        "-subj", "/CN=10.152.183.1", "-out", str(crt),
    )  # fmt: skip


def make_server_cert(hostname: str, ips: list[str], extra_sans: list[str]) -> None:
    """certs/server.crt signed by the CA, with the SANs the real csr.conf would list."""
    key, crt = paths.certs("server.key"), paths.certs("server.crt")
    if not key.exists():
        _new_key(key)
    alt = [f"DNS:{name}" for name in ("kubernetes", "kubernetes.default", hostname.lower())]
    alt += [f"IP:{ip}" for ip in ("127.0.0.1", "10.152.183.1", *ips)]
    alt += [f"IP:{s}" if _looks_like_ip(s) else f"DNS:{s}" for s in extra_sans]
    with tempfile.TemporaryDirectory() as tmp:
        csr, ext = Path(tmp) / "server.csr", Path(tmp) / "ext.cnf"
        ext.write_text(f"[v3_ext]\nsubjectAltName={','.join(dict.fromkeys(alt))}\n")
        _openssl(
            "req", "-new", "-sha256", "-key", str(key), "-subj", "/CN=127.0.0.1", "-out", str(csr)
        )
        _openssl(
            "x509", "-req", "-sha256", "-in", str(csr), "-CA", str(paths.certs("ca.crt")),
            "-CAkey", str(paths.certs("ca.key")), "-CAcreateserial", "-days", "365",
            "-out", str(crt), "-extfile", str(ext), "-extensions", "v3_ext",
        )  # fmt: skip


def make_client_cert() -> None:
    """certs/client.crt for the admin kubeconfig: CN=admin, O=system:masters, signed by the CA."""
    key, crt = paths.certs("client.key"), paths.certs("client.crt")
    if not key.exists():
        _new_key(key)
    with tempfile.TemporaryDirectory() as tmp:
        csr = Path(tmp) / "client.csr"
        _openssl(
            "req", "-new", "-sha256", "-key", str(key), "-subj", "/CN=admin/O=system:masters",
            "-out", str(csr),
        )  # fmt: skip
        _openssl(
            "x509", "-req", "-sha256", "-in", str(csr), "-CA", str(paths.certs("ca.crt")),
            "-CAkey", str(paths.certs("ca.key")), "-CAcreateserial", "-days", "3650",
            "-out", str(crt),
        )  # fmt: skip


def make_cluster_cert(directory: Path) -> None:
    """A fresh dqlite identity: cluster.crt/key (init_cluster, leave's reinit_cluster)."""
    key, crt = directory / "cluster.key", directory / "cluster.crt"
    _new_key(key)
    _openssl(
        "req", "-x509", "-new", "-sha256", "-nodes", "-days", "3650", "-key", str(key),
        "-subj", "/CN=k8s", "-out", str(crt),
    )  # fmt: skip


def fingerprint() -> str:
    """`server_cert_check`: sha256 of the server certificate's DER, first 12 hex digits."""
    return der_fingerprint(ssl.PEM_cert_to_DER_cert(paths.certs("server.crt").read_text()))[:12]


def der_fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def cluster_secret(directory: Path | None = None) -> str:
    """Shared by holders of the cluster key only; authenticates the stand-in's dqlite calls."""
    key = (directory or paths.backend()) / "cluster.key"
    return hashlib.sha256(key.read_bytes()).hexdigest()


def _looks_like_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
