"""The API server on 16443: HTTPS with certs/server.crt, client certificates checked against
certs/ca.crt, and the Kubernetes API a real kubectl uses (api_router.py: discovery, nodes,
pods and their eviction, workloads, ConfigMaps, PodDisruptionBudgets, FelixConfiguration).

What real microk8s does here (microk8s-resources/default-args/kube-apiserver, 1.28-1.36):
`--tls-cert-file=certs/server.crt`, `--client-ca-file=certs/ca.crt`,
`--authorization-mode=AlwaysAllow`. kube-apiserver turns anonymous auth off when the authorizer
is AlwaysAllow ("AnonymousAuth is not allowed with the AlwaysAllow authorizer"), so a request
without a client certificate the CA signed gets 401 Unauthorized, and an authenticated one is
never forbidden. The admin kubeconfig `microk8s config` prints carries exactly such a
certificate (CN=admin, O=system:masters). Errors are `Status` objects, as the apiserver sends.

Deviation: kube-apiserver asks for a client certificate and verifies it after the handshake
(an untrusted certificate then gets 401); Python's ssl verifies during the handshake, so a
certificate from another CA makes the handshake fail instead. Both refuse the request.
The certificate files are re-read whenever they change (join and leave replace them).
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import api_meta, api_router, paths


class _Contexts:
    """The TLS context, rebuilt when server.crt, server.key or ca.crt change on disk."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple[float, ...] = ()
        self._context: ssl.SSLContext | None = None

    def get(self) -> ssl.SSLContext:
        files = [paths.certs(n) for n in ("server.crt", "server.key", "ca.crt")]
        stamp = tuple(os.stat(f).st_mtime_ns for f in files)
        with self._lock:
            if self._context is None or stamp != self._stamp:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(str(files[0]), str(files[1]))
                context.load_verify_locations(str(files[2]))
                context.verify_mode = ssl.CERT_OPTIONAL  # asked for, not required: 401 without
                self._context, self._stamp = context, stamp
            return self._context


def _handler(backend: api_router.Backend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            conn = self.connection
            peer = conn.getpeercert() if isinstance(conn, ssl.SSLSocket) else None
            extra: dict[str, str] = {}
            if not peer:
                code, body = 401, api_meta.status_object(401, "Unauthorized", "Unauthorized")
            else:
                headers = {k.lower(): v for k, v in self.headers.items()}
                code, body, extra = api_router.handle(
                    self.command, self.path, headers, raw, backend
                )
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            for key, value in extra.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], backend: api_router.Backend) -> None:
        self.contexts = _Contexts()
        super().__init__(address, _handler(backend))

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        sock.settimeout(10)
        wrapped = self.contexts.get().wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False
        )
        return wrapped, addr

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.do_handshake()  # in the handler thread: a slow client cannot stall accept()
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # failed handshakes and port probes are not worth a traceback


def serve(host: str, port: int, backend: api_router.Backend) -> ThreadingHTTPServer:
    """Start serving in a thread; raises OSError when the port cannot be bound."""
    server = _Server((host, port), backend)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
    ).start()
    return server
