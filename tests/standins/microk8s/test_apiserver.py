"""The stand-in's API server on its own with the real kubectl (/usr/bin/kubectl): TLS and the
SAN check, client-certificate auth (401), discovery, nodes (table, wide, JSON), Status errors
and the 504 without dqlite quorum. No root needed; a few seconds."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from apitest import MemoryBackend, kubeconfig, kubectl, node, serve
from mk8s import certs, paths
from mk8s import kubeconfig as admin_config


@pytest.fixture(scope="module")
def snap_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("snap_data")
    mp = pytest.MonkeyPatch()
    mp.setenv("SNAP_DATA", str(path))
    certs.make_ca()
    # 127.0.0.1 is always a SAN; the name localhost is deliberately not one.
    certs.write_csr_template(["node-a.example"])
    certs.make_server_cert([])
    admin_config.write_client_config()
    yield path
    mp.undo()


@pytest.fixture
def backend(snap_data: Path) -> MemoryBackend:
    found = MemoryBackend([node("node-a", "10.77.0.1", 7200), node("node-b", "10.77.0.2", 30)], [])
    found.ready["node-b"] = False
    return found


@pytest.fixture
def config(backend: MemoryBackend, tmp_path: Path) -> Iterator[Path]:
    server = serve(backend)
    yield kubeconfig(tmp_path, server.server_address[1])
    server.shutdown()
    server.server_close()


def test_real_kubectl_lists_nodes_with_the_admin_kubeconfig(config: Path) -> None:
    run = kubectl(config, "get", "nodes")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert lines[1].split() == ["node-a", "Ready", "<none>", "120m", "v1.32.9"]
    assert lines[2].split()[:3] == ["node-b", "NotReady", "<none>"]
    wide = kubectl(config, "get", "nodes", "-o", "wide", "--no-headers").stdout.splitlines()
    assert [line.split()[5] for line in wide] == ["10.77.0.1", "10.77.0.2"]
    run = kubectl(config, "get", "node", "node-a", "ghost")
    assert run.returncode == 1
    assert run.stdout.split()[5] == "node-a"
    assert 'Error from server (NotFound): nodes "ghost" not found' in run.stderr
    one = json.loads(kubectl(config, "get", "node", "node-b", "-o", "json").stdout)
    assert one["kind"] == "Node"
    ready = one["status"]["conditions"][0]
    assert (ready["type"], ready["status"]) == ("Ready", "Unknown")


def test_discovery_answers_what_kubectl_asks(config: Path) -> None:
    run = kubectl(config, "api-resources", "--no-headers")
    assert run.returncode == 0, run.stderr
    names = {line.split()[0] for line in run.stdout.splitlines()}
    assert {"nodes", "pods", "daemonsets", "poddisruptionbudgets", "felixconfigurations"} <= names
    version = json.loads(kubectl(config, "version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == "v1.32.9"
    run = kubectl(config, "get", "--raw", "/apis/foo/v1")
    assert run.returncode == 1 and "NotFound" in run.stderr


def test_without_dqlite_quorum_reads_time_out_and_writes_fail(
    backend: MemoryBackend, config: Path
) -> None:
    backend.quorum = False
    run = kubectl(config, "get", "nodes")
    assert run.returncode == 1
    assert "Timeout" in run.stderr, run.stderr
    run = kubectl(config, "cordon", "node-a")
    assert run.returncode == 1


def test_kubectl_refuses_an_address_the_certificate_does_not_cover(
    backend: MemoryBackend, tmp_path: Path
) -> None:
    server = serve(backend)
    try:
        # `localhost` reaches the same listener but is not among server.crt's SANs.
        stray = kubeconfig(tmp_path, server.server_address[1], "localhost")
        run = kubectl(stray, "get", "nodes")
    finally:
        server.shutdown()
        server.server_close()
    assert run.returncode == 1
    assert "x509: certificate is valid for" in run.stderr, run.stderr
    assert "not localhost" in run.stderr


def test_server_demands_a_client_certificate_from_its_ca(
    snap_data: Path, config: Path, tmp_path: Path
) -> None:
    port = int(config.read_text().split("https://127.0.0.1:", 1)[1].split()[0])
    context = ssl.create_default_context(cafile=str(paths.certs("ca.crt")))
    with (
        socket.create_connection(("127.0.0.1", port)) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(b"GET /api/v1/nodes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := tls.recv(65536):
            reply += chunk
    head, body = reply.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 401")
    assert json.loads(body)["reason"] == "Unauthorized"
    # Real kubectl with a bearer token instead of the certificate (no prompt: it has a credential).
    lines = [
        "  user: {token: not-a-cluster-token}" if line == "  user:" else line
        for line in config.read_text().splitlines()
        if "client-" not in line
    ]
    anon = tmp_path / "anon"
    anon.write_text("\n".join(lines) + "\n")
    run = kubectl(anon, "get", "nodes")
    assert run.returncode == 1
    assert "You must be logged in to the server" in run.stderr, run.stderr


def test_kubeconfig_holds_the_admin_client_certificate(snap_data: Path) -> None:
    text = paths.credentials("client.config").read_text()
    cert = next(line for line in text.splitlines() if "client-certificate-data" in line)
    pem = base64.b64decode(cert.split(":", 1)[1].strip()).decode()
    path = snap_data / "check.crt"
    path.write_text(pem)
    subject = subprocess.run(
        ["openssl", "x509", "-in", str(path), "-noout", "-subject"], capture_output=True, text=True
    ).stdout
    assert "CN = admin" in subject and "O = system:masters" in subject


def test_a_client_certificate_from_another_ca_is_refused(config: Path, tmp_path: Path) -> None:
    key, crt = tmp_path / "x.key", tmp_path / "x.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(crt), "-subj", "/CN=admin/O=system:masters",
         "-days", "1"],
        check=True, capture_output=True,
    )  # fmt: skip
    lines = []
    for line in config.read_text().splitlines():
        if "client-certificate-data" in line:
            line = f"    client-certificate-data: {base64.b64encode(crt.read_bytes()).decode()}"
        elif "client-key-data" in line:
            line = f"    client-key-data: {base64.b64encode(key.read_bytes()).decode()}"
        lines.append(line)
    forged = tmp_path / "forged"
    forged.write_text("\n".join(lines) + "\n")
    run = kubectl(forged, "get", "nodes")
    assert run.returncode == 1
    assert run.stdout == ""
