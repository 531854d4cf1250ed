"""`labd`: the lab's fake cloud API, JSON lines on a unix socket, served from threads of the
process that owns the Lab (so VMs stay its children). Requests are checked as strictly as a
real cloud API checks them: unknown ops, missing, mistyped or unexpected fields are errors."""

from __future__ import annotations

import json
import logging
import socketserver
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .api_client import LabApiError

log = logging.getLogger(__name__)
MAX_LINE = 1 << 20

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    # terraform creates instances in parallel: each connection gets its own thread.
    daemon_threads = True
    # A client's connect fails at once (EAGAIN) when the backlog is full, and a loaded machine
    # accepts slowly: room for terraform's parallelism (10) per provider, three providers.
    request_queue_size = 64
    handle_request_line: Handler


class _Connection(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        while True:
            line = self.rfile.readline(MAX_LINE + 1)
            if not line:
                return
            response = self._answer(line)
            self.wfile.write(json.dumps(response).encode() + b"\n")
            self.wfile.flush()

    def _answer(self, line: bytes) -> dict[str, Any]:
        try:
            if len(line) > MAX_LINE:
                raise LabApiError("bad_request", f"request line longer than {MAX_LINE} bytes")
            try:
                request = json.loads(line)
            except ValueError as exc:
                raise LabApiError("bad_request", f"not JSON: {exc}") from None
            if not isinstance(request, dict):
                raise LabApiError("bad_request", "a request is a JSON object")
            return self.server.handle_request_line(request)
        except LabApiError as exc:
            return {"error": exc.code, "message": exc.message}
        except Exception as exc:  # a lab bug must reach the caller, not kill the connection
            log.exception("labd: request failed")
            return {"error": "internal", "message": f"{type(exc).__name__}: {exc}"}


class ApiServer:
    def __init__(self, socket_path: Path, handler: Handler) -> None:
        self.socket_path = socket_path
        self._handler = handler
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        server = _Server(str(self.socket_path), _Connection)
        server.handle_request_line = self._handler
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="labd", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.socket_path.unlink(missing_ok=True)
