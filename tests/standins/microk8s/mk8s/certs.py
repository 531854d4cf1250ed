"""Certificates, made with the openssl CLI like microk8s' `produce_certs` / `init_cluster`.

The cluster agent serves TLS with certs/server.crt, and `microk8s add-node` prints the first
12 hex digits of the SHA-256 of that certificate's DER (utils.sh `server_cert_check`); `join`
compares them with the certificate the agent presents. dqlite's cluster.crt/key are shared by
every member (the join response carries them) and only members hold them, so the stand-in
derives the secret that authenticates member-to-member calls from cluster.key.
The server certificate is made the real way: certs/csr.conf.template (shipped, or rewritten
from the launch configuration's extraSANs) rendered into csr.conf with the node's addresses,
then signed with `-extfile csr.conf` (utils.sh render_csr_conf, gen_server_cert).
Deviation: EC P-256 keys instead of RSA, because key generation time matters on 2 cores.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
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


# microk8s-resources/certs/csr.conf.template, as the snap ships it (1.32).
SHIPPED_CSR_TEMPLATE = """\
[ req ]
default_bits = 2048
prompt = no
default_md = sha256
req_extensions = req_ext
distinguished_name = dn

[ dn ]
C = GB
ST = Canonical
L = Canonical
O = Canonical
OU = Canonical
CN = 127.0.0.1

[ req_ext ]
subjectAltName = @alt_names

[ alt_names ]
DNS.1 = kubernetes
DNS.2 = kubernetes.default
DNS.3 = kubernetes.default.svc
DNS.4 = kubernetes.default.svc.cluster
DNS.5 = kubernetes.default.svc.cluster.local
IP.1 = 127.0.0.1
IP.2 = 10.152.183.1
#MOREIPS

[ v3_ext ]
authorityKeyIdentifier=keyid,issuer:always
basicConstraints=CA:FALSE
keyUsage=keyEncipherment,dataEncipherment,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=@alt_names
"""
_DEFAULT_DNS = (
    "kubernetes", "kubernetes.default", "kubernetes.default.svc",
    "kubernetes.default.svc.cluster", "kubernetes.default.svc.cluster.local",
)  # fmt: skip


def generate_csr_template(extra_sans: list[str]) -> str:
    """What the launch configuration's extraSANs write (cluster-agent util.GenerateCSRConf).

    Its Go template numbers entries from 0 and leaves a leading newline and a blank line
    between the DNS and IP entries; reproduced as is.
    """
    ips = ["127.0.0.1", "10.152.183.1"] + [s for s in extra_sans if _looks_like_ip(s)]
    dns = [*_DEFAULT_DNS] + [s for s in extra_sans if not _looks_like_ip(s)]
    head, tail = SHIPPED_CSR_TEMPLATE.split("[ alt_names ]\n")
    tail = tail[tail.index("#MOREIPS") :]
    body = "".join(f"DNS.{i} = {name}\n" for i, name in enumerate(dns)) + "\n"
    body += "".join(f"IP.{i} = {ip}\n" for i, ip in enumerate(ips))
    return "\n" + head + "[ alt_names ]\n" + body + tail


def write_csr_template(extra_sans: list[str] | None) -> None:
    """Install: the shipped template, replaced by GenerateCSRConf's when extraSANs are given."""
    path = paths.certs("csr.conf.template")
    path.parent.mkdir(parents=True, exist_ok=True)
    text = SHIPPED_CSR_TEMPLATE if extra_sans is None else generate_csr_template(extra_sans)
    path.write_text(text)


def render_csr_conf(template: str, ips: list[str]) -> str:
    """utils.sh render_csr_conf: #MOREIPS becomes `IP.<n> = <ip>` for every `hostname -I`
    address, n counting from 3 and skipping numbers the template already uses."""
    if not ips:
        return template.replace("#MOREIPS", "")
    lines, n = [], 3
    for ip in ips:
        while re.search(rf"^IP\.{n}\b", template, re.MULTILINE):
            n += 1
        lines.append(f"IP.{n} = {ip}")
        n += 1
    return template.replace("#MOREIPS", "\n".join(lines))


def make_server_cert(ips: list[str]) -> None:
    """utils.sh refresh_csr_conf + gen_server_cert: csr.conf rendered from csr.conf.template,
    then certs/server.crt signed by the CA with the SANs csr.conf lists."""
    key, crt, conf = paths.certs("server.key"), paths.certs("server.crt"), paths.certs("csr.conf")
    if not key.exists():
        _new_key(key)
    template = paths.certs("csr.conf.template").read_text()
    rendered = render_csr_conf(template, ips)
    paths.certs("csr.conf.rendered").write_text(rendered)
    conf.write_text(rendered)
    csr = paths.certs("server.csr")
    _openssl("req", "-new", "-sha256", "-key", str(key), "-out", str(csr), "-config", str(conf))
    _openssl(
        "x509", "-req", "-sha256", "-in", str(csr), "-CA", str(paths.certs("ca.crt")),
        "-CAkey", str(paths.certs("ca.key")), "-CAcreateserial", "-out", str(crt),
        "-days", "365", "-extensions", "v3_ext", "-extfile", str(conf),
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
    """A fresh dqlite identity: cluster.crt/key (init_cluster, leave's reinit_cluster).

    The SANs are what csr-dqlite.conf.template gets in init_cluster (DNS = the hostname,
    IP = 127.0.0.1); go-dqlite's SimpleDialTLSConfig needs the DNS name (its ServerName)."""
    key, crt = directory / "cluster.key", directory / "cluster.crt"
    _new_key(key)
    sans = f"subjectAltName=DNS:{socket.gethostname().lower()},IP:127.0.0.1"
    _openssl(
        "req", "-x509", "-new", "-sha256", "-nodes", "-days", "3650", "-key", str(key),
        "-subj", "/CN=k8s", "-addext", sans, "-out", str(crt),
    )  # fmt: skip


def fingerprint() -> str:
    """`server_cert_check`: sha256 of the server certificate's DER, first 12 hex digits."""
    return der_fingerprint(ssl.PEM_cert_to_DER_cert(paths.certs("server.crt").read_text()))[:12]


def der_fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def _looks_like_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
