"""Reconfiguring an installed stand-in node the way real microk8s is reconfigured.

Pure parts: csr.conf.template as the snap ships it and as the launch configuration's extraSANs
rewrite it (cluster-agent util.GenerateCSRConf), its rendering with the node's addresses
(utils.sh render_csr_conf). The `lab` test
installs one VM and changes its settings on the running node: args/kubelet `--node-ip` then a
kubelite restart (InternalIP follows), an extra SAN in csr.conf.template then `microk8s
refresh-certs --cert server.crt` (the certificate lists it), args/ha-conf read at restart.
"""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mk8s import certs

from tests.lab.host import Host
from tests.lab.lab import Lab

# ---------------------------------------------------------------------------------------------
# Pure parts
# ---------------------------------------------------------------------------------------------


def test_launch_configuration_sans_rewrite_the_template_like_generate_csr_conf() -> None:
    text = certs.generate_csr_template(["10.77.0.1", "203.0.113.5", "api.example.com"])
    alt = text.split("[ alt_names ]\n")[1].split("#MOREIPS")[0]
    assert alt == (
        "DNS.0 = kubernetes\nDNS.1 = kubernetes.default\nDNS.2 = kubernetes.default.svc\n"
        "DNS.3 = kubernetes.default.svc.cluster\nDNS.4 = kubernetes.default.svc.cluster.local\n"
        "DNS.5 = api.example.com\n\n"
        "IP.0 = 127.0.0.1\nIP.1 = 10.152.183.1\nIP.2 = 10.77.0.1\nIP.3 = 203.0.113.5\n"
    )
    assert text.startswith("\n[ req ]\n")  # the Go template's leading newline
    assert text.endswith(certs.SHIPPED_CSR_TEMPLATE.split("#MOREIPS")[1])


def test_rendering_numbers_node_addresses_after_the_template_entries() -> None:
    template = certs.generate_csr_template(["10.77.0.1"])  # uses IP.0 .. IP.2
    rendered = certs.render_csr_conf(template, ["198.51.100.7", "10.77.0.1"])
    assert "IP.3 = 198.51.100.7\nIP.4 = 10.77.0.1\n" in rendered
    shipped = certs.render_csr_conf(certs.SHIPPED_CSR_TEMPLATE, ["198.51.100.7"])
    assert "IP.2 = 10.152.183.1\nIP.3 = 198.51.100.7\n" in shipped
    assert "#MOREIPS" not in certs.render_csr_conf(certs.SHIPPED_CSR_TEMPLATE, [])


def test_rendered_template_makes_a_certificate_with_those_sans(tmp_path: Path) -> None:
    conf = tmp_path / "csr.conf"
    conf.write_text(certs.render_csr_conf(certs.generate_csr_template(["10.77.0.9"]), ["1.2.3.4"]))
    run = ["openssl", "req", "-new", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt"]
    run += ["ec_paramgen_curve:P-256", "-keyout", str(tmp_path / "k"), "-config", str(conf)]
    run += ["-extensions", "v3_ext", "-out", str(tmp_path / "c")]
    # v3_ext's authorityKeyIdentifier needs an issuer; self-signed, drop it for this check.
    conf.write_text(conf.read_text().replace("authorityKeyIdentifier=keyid,issuer:always\n", ""))
    subprocess.run(run, check=True, capture_output=True)
    sans = subprocess.run(
        ["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", str(tmp_path / "c")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "IP Address:10.77.0.9" in sans and "IP Address:1.2.3.4" in sans, sans
    assert "DNS:kubernetes.default.svc.cluster.local" in sans, sans


# ---------------------------------------------------------------------------------------------
# Lab: one running node reconfigured
# ---------------------------------------------------------------------------------------------

PATH = "/snap/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DATA = "/var/snap/microk8s/current"


def _run(host: Host, *argv: str) -> str:
    done = host.run(["env", f"PATH={PATH}", *argv], check=False, timeout=60)
    assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def node(lab: Lab) -> Iterator[Host]:
    host = lab.create_host("digitalocean", "r" + secrets.token_hex(2), [lab.ssh_pubkey])
    try:
        _run(host, "snap", "install", "microk8s", "--classic", "--channel=1.32/stable")
        yield host
    finally:
        lab.delete_host(host.id)


def _internal_ip(host: Host) -> str:
    out = _run(host, "microk8s", "kubectl", "get", "nodes", "-o", "wide", "--no-headers")
    return out.split()[5]


def _sans(host: Host) -> str:
    return _run(host, "openssl", "x509", "-noout", "-ext", "subjectAltName", "-in",
                f"{DATA}/certs/server.crt")  # fmt: skip


@pytest.mark.lab
def test_shipped_template_and_node_addresses_in_the_certificate(node: Host) -> None:
    template = node.read_file(f"{DATA}/certs/csr.conf.template")
    assert template == certs.SHIPPED_CSR_TEMPLATE
    assert node.read_file("/snap/microk8s/current/certs/csr.conf.template") == template
    assert f"IP Address:{node.public_ip}" in _sans(node)
    assert node.read_file(f"{DATA}/args/ha-conf") == "failure-domain=1\n"


@pytest.mark.lab
def test_node_ip_changes_when_kubelite_restarts(node: Host) -> None:
    assert _internal_ip(node) == node.public_ip
    _run(node, "sed", "-i", "$a --node-ip=10.99.0.7", f"{DATA}/args/kubelet")
    assert _internal_ip(node) == node.public_ip  # read at start only, like kubelet
    assert "Restarted." in _run(node, "snap", "restart", "microk8s.daemon-kubelite")
    _run(node, "microk8s", "status", "--wait-ready", "--timeout", "20")
    deadline = time.monotonic() + 10
    while _internal_ip(node) != "10.99.0.7" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert _internal_ip(node) == "10.99.0.7"


@pytest.mark.lab
def test_refresh_certs_regenerates_the_server_certificate_from_the_template(node: Host) -> None:
    _run(node, "sed", "-i", "s/^#MOREIPS/IP.9 = 192.0.2.77\\n#MOREIPS/",
         f"{DATA}/certs/csr.conf.template")  # fmt: skip
    assert "192.0.2.77" not in _sans(node)
    out = _run(node, "microk8s", "refresh-certs", "--cert", "server.crt")
    assert "Taking a backup of the current certificates under /var/snap/microk8s/" in out
    assert "Restarting service kubelite." in out and "Restarting service cluster-agent." in out
    sans = _sans(node)
    assert "IP Address:192.0.2.77" in sans and f"IP Address:{node.public_ip}" in sans, sans
    _run(node, "microk8s", "status", "--wait-ready", "--timeout", "20")
    bad = node.run(["env", f"PATH={PATH}", "microk8s", "refresh-certs", "--cert", "x.crt"],
                   check=False)  # fmt: skip
    assert bad.returncode == 2 and "is not one of 'ca.crt', 'server.crt'" in bad.stderr
