"""How the CLI asks its own node's daemon: one JSON line each way over a unix socket.

Kept apart from the HTTP code on purpose: `microk8s status` runs on every probe of every
node, and loading http.client/ssl would cost it more than everything else it does.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

Handler = Callable[[Any], tuple[int, Any]]


def ask(path: Path, route: str, body: Any = None, timeout: float = 30.0) -> tuple[int, Any]:
    """Send one request; raises OSError when nobody listens."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(json.dumps({"route": route, "body": body}).encode() + b"\n")
        with sock.makefile("rb") as reader:
            line = reader.readline()
    if not line:
        raise ConnectionResetError("the daemon closed the connection")
    answer = json.loads(line)
    return int(answer["status"]), answer["body"]


def serve(path: Path, routes: dict[str, Handler]) -> socketserver.BaseServer:
    class Request(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            line = self.rfile.readline()
            if not line:
                return
            try:
                request = json.loads(line)
                route = routes.get(request.get("route"))
                if route is None:
                    status, body = 404, {"error": f"no route {request.get('route')!r}"}
                else:
                    status, body = route(request.get("body"))
            except Exception as err:  # a bug in a handler must not kill the daemon
                status, body = 500, {"error": f"internal error: {err!r}"}
            self.wfile.write(json.dumps({"status": status, "body": body}).encode() + b"\n")

    class Server(socketserver.ThreadingUnixStreamServer):
        daemon_threads = True

    path.unlink(missing_ok=True)
    server = Server(str(path), Request)
    path.chmod(0o600)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
    ).start()
    return server
