"""The stand-in's API server on its own (TLS, client-certificate auth, NodeList, Status errors)
and the host-side kubectl stand-in against it: real certificates made the way the stand-in's
install makes them, a real TLS listener on loopback, the kubeconfig `microk8s config` prints."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mk8s import apiserver, certs, kubeconfig, paths

KUBECTL = Path(__file__).resolve().parents[1] / "kubectl" / "kubectl.py"
# What the daemon's status() gives the API server, for the server fixture.
STATE: dict[str, Any] = {"dqlite_ok": True, "nodes": []}


def _nodes() -> list[dict[str, Any]]:
    """Two nodes, created 30 s and 2 h ago *now* (AGE is printed from the current time)."""
    now = time.time()
    return [
        {"name": "node-b", "ready": False, "created": now - 30, "version": "v1.32.3",
         "internal_ip": "10.77.0.2"},
        {"name": "node-a", "ready": True, "created": now - 7200, "version": "v1.32.3",
         "internal_ip": "10.77.0.1"},
    ]  # fmt: skip


@pytest.fixture(scope="module")
def snap_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("snap_data")
    mp = pytest.MonkeyPatch()
    mp.setenv("SNAP_DATA", str(path))
    certs.make_ca()
    # 127.0.0.1 is always a SAN; the name localhost is deliberately not one.
    certs.write_csr_template(["node-a.example"])
    certs.make_server_cert([])
    kubeconfig.write_client_config()
    yield path
    mp.undo()


@pytest.fixture(scope="module")
def server(snap_data: Path) -> Iterator[int]:
    STATE["nodes"] = _nodes()
    srv = apiserver.serve("127.0.0.1", 0, lambda: STATE)
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def _config(snap_data: Path, tmp: Path, port: int, host: str = "127.0.0.1") -> Path:
    text = paths.credentials("client.config").read_text().replace("16443", str(port))
    path = tmp / "config"
    path.write_text(text.replace("127.0.0.1", host))
    return path


def _kubectl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(KUBECTL), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env or {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},
    )


def test_routes_answer_like_an_apiserver() -> None:
    current = {"dqlite_ok": True, "nodes": _nodes()}
    code, body = apiserver.route("GET", "/api/v1/nodes", True, current)
    assert code == 200 and body["kind"] == "NodeList"
    assert [i["metadata"]["name"] for i in body["items"]] == ["node-a", "node-b"]
    assert "kind" not in body["items"][0]
    ready = body["items"][1]["status"]["conditions"][0]
    assert (ready["type"], ready["status"]) == ("Ready", "Unknown")
    code, body = apiserver.route("GET", "/api/v1/nodes", False, current)
    assert (code, body["kind"], body["reason"]) == (401, "Status", "Unauthorized")
    code, body = apiserver.route("GET", "/api/v1/nodes/nope", True, current)
    assert (code, body["message"]) == (404, 'nodes "nope" not found')
    assert apiserver.route("GET", "/apis/foo", True, current)[0] == 404
    assert apiserver.route("DELETE", "/api/v1/nodes/node-a", True, current)[0] == 405
    assert apiserver.route("GET", "/api/v1/nodes", True, {"dqlite_ok": False})[0] == 504


def test_kubectl_lists_nodes_with_the_admin_kubeconfig(
    snap_data: Path, server: int, tmp_path: Path
) -> None:
    STATE["nodes"] = _nodes()  # ages as of now, however long the suite took to get here
    config = _config(snap_data, tmp_path, server)
    run = _kubectl("get", "nodes", "--kubeconfig", str(config))
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert lines[1].split() == ["node-a", "Ready", "<none>", "120m", "v1.32.3"]
    assert lines[2].split()[:3] == ["node-b", "NotReady", "<none>"]
    # $KUBECONFIG is read too, and a named node that does not exist is kubectl's NotFound.
    run = _kubectl("get", "node", "node-a", "ghost", env={"KUBECONFIG": str(config)})
    assert run.returncode == 1
    assert run.stdout.split()[5] == "node-a"
    assert 'Error from server (NotFound): nodes "ghost" not found' in run.stderr


def test_kubectl_refuses_an_address_the_certificate_does_not_cover(
    snap_data: Path, server: int, tmp_path: Path
) -> None:
    # `localhost` reaches the same listener but is not among server.crt's SANs.
    config = _config(snap_data, tmp_path, server, "localhost")
    run = _kubectl("get", "nodes", "--kubeconfig", str(config))
    assert run.returncode == 1
    assert "x509: certificate is not valid for localhost" in run.stderr, run.stderr


def test_server_demands_a_client_certificate_from_its_ca(
    snap_data: Path, server: int, tmp_path: Path
) -> None:
    # No client certificate: 401 Unauthorized, the Status object real kube-apiserver sends.
    context = ssl.create_default_context(cafile=str(paths.certs("ca.crt")))
    with (
        socket.create_connection(("127.0.0.1", server)) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(b"GET /api/v1/nodes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := tls.recv(65536):
            reply += chunk
    head, body = reply.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 401")
    assert json.loads(body)["reason"] == "Unauthorized"
    # kubectl with a kubeconfig that has no user credential says what kubectl says.
    text = _config(snap_data, tmp_path, server).read_text()
    stripped = "\n".join(line for line in text.splitlines() if "client-" not in line)
    (tmp_path / "anon").write_text(stripped.replace("  user:\n", "  user: {}\n"))
    run = _kubectl("get", "nodes", "--kubeconfig", str(tmp_path / "anon"))
    assert run.returncode == 1
    assert run.stderr.strip() == "error: You must be logged in to the server (Unauthorized)"


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


def test_kubectl_refuses_other_verbs() -> None:
    run = _kubectl("apply", "-f", "x.yaml")
    assert run.returncode == 1
    assert "does not implement" in run.stderr


def test_a_client_certificate_from_another_ca_is_refused(
    snap_data: Path, server: int, tmp_path: Path
) -> None:
    key, crt = tmp_path / "x.key", tmp_path / "x.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(crt), "-subj", "/CN=admin/O=system:masters",
         "-days", "1"],
        check=True, capture_output=True,
    )  # fmt: skip
    lines = []
    for line in _config(snap_data, tmp_path, server).read_text().splitlines():
        if "client-certificate-data" in line:
            line = f"    client-certificate-data: {base64.b64encode(crt.read_bytes()).decode()}"
        elif "client-key-data" in line:
            line = f"    client-key-data: {base64.b64encode(key.read_bytes()).decode()}"
        lines.append(line)
    (tmp_path / "forged").write_text("\n".join(lines) + "\n")
    run = _kubectl("get", "nodes", "--kubeconfig", str(tmp_path / "forged"))
    assert run.returncode == 1
    assert run.stderr.startswith("Unable to connect to the server"), run.stderr
    assert run.stdout == ""
