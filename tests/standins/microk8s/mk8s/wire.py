"""JSON over HTTP between the stand-in's processes: servers and clients, stdlib only.

The cluster agent, HTTPS on 0.0.0.0:25000 with certs/server.crt (join requests, worker
registration, liveness pings). dqlite traffic is the real dqlite node's own (dqlite.py); the
CLI talks to its own daemon through local_api.
"""

from __future__ import annotations

import http.client
import json
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    body: Any
    client_ip: str
    host: str  # the Host header, "ip:port" as the client addressed us
    headers: dict[str, str] = field(default_factory=dict)


Response = tuple[int, Any]
Routes = dict[tuple[str, str], Callable[[Request], Response]]


def _handler(routes: Routes) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10  # a stalled peer must not pin a server thread forever

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            route = routes.get((self.command, self.path.split("?")[0]))
            if route is None:
                self._reply(404, {"error": "404 page not found"})
                return
            try:
                body = json.loads(raw) if raw else None
            except ValueError as err:
                self._reply(400, {"error": str(err)})
                return
            client = self.client_address[0] if isinstance(self.client_address, tuple) else ""
            req = Request(
                self.command,
                self.path,
                body,
                client,
                self.headers.get("Host", ""),
                {k.lower(): v for k, v in self.headers.items()},
            )
            try:
                status, payload = route(req)
            except Exception as err:  # a bug in a handler must not kill the daemon
                status, payload = 500, {"error": f"internal error: {err!r}"}
            self._reply(status, payload)

        def _reply(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = _serve
        do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: Any, context: ssl.SSLContext) -> None:
        self.context = context
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        sock.settimeout(10)
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def finish_request(self, request: Any, client_address: Any) -> None:
        # Handshake in the handler thread, so a slow or plain-TCP client cannot stall accept().
        request.do_handshake()
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # failed handshakes (probes, plain-TCP clients) are not worth a traceback


def serve_https(host: str, port: int, routes: Routes, cert: Path, key: Path) -> ThreadingHTTPServer:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server = _TLSServer((host, port), _handler(routes), context)
    _start(server)
    return server


def _start(server: socketserver.BaseServer) -> None:
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
    ).start()


def _exchange(
    conn: http.client.HTTPConnection, method: str, path: str, body: Any, headers: dict[str, str]
) -> Response:
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json", "Accept": "application/json", **headers}
    try:
        conn.request(method, path, data, hdrs)
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    try:
        return resp.status, json.loads(raw) if raw else None
    except ValueError:
        return resp.status, None


def call(
    address: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    tls: bool = False,
    timeout: float = 3.0,
) -> Response:
    """One request to "ip:port". Raises OSError (and http.client errors) when unreachable."""
    host, port = address.rsplit(":", 1)
    conn: http.client.HTTPConnection
    if tls:
        context = ssl._create_unverified_context()  # like join.py: identity is checked by hash
        conn = http.client.HTTPSConnection(host, int(port), timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    return _exchange(conn, method, path, body, {})
