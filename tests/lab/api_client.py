"""Client for the lab's fake cloud API (`labd`), used by the stand-in terraform providers.

Standard library only: providers run in their own short-lived python processes, started by
terraform, and must not depend on anything but this file. The protocol is JSON lines over the
unix socket named by the environment variable MCK_LAB_API: one request line, one response line.
"""

from __future__ import annotations

import json
import os
import socket
from typing import Any

ENV_VAR = "MCK_LAB_API"
# create_host blocks until the VM is powered on (its sshd answers later); under load (24 VMs
# on 2 cores) that takes seconds, so the timeout is generous. A stuck server still fails the
# caller eventually.
DEFAULT_TIMEOUT = 120.0


class LabApiError(Exception):
    """An error answered by the API (`not_found`, `bad_request`, `conflict`, `internal`) or
    raised by this client when the API cannot be reached (`unavailable`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def call(
    request: dict[str, Any], *, socket_path: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> dict[str, Any]:
    """Send one request, return the response object; raise LabApiError on an error answer."""
    path = socket_path or os.environ.get(ENV_VAR)
    if not path:
        raise LabApiError(
            "unavailable", f"{ENV_VAR} is not set: run this against a lab (Lab.env() provides it)"
        )
    line = json.dumps(request).encode() + b"\n"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(line)
            reply = _read_line(sock)
    except OSError as exc:
        raise LabApiError("unavailable", f"lab API at {path}: {exc}") from exc
    try:
        response = json.loads(reply)
    except ValueError as exc:
        raise LabApiError("unavailable", f"lab API sent a non-JSON line: {reply[:200]!r}") from exc
    if not isinstance(response, dict):
        raise LabApiError("unavailable", f"lab API sent a non-object: {reply[:200]!r}")
    if "error" in response:
        raise LabApiError(str(response["error"]), str(response.get("message", "")))
    return response


def _read_line(sock: socket.socket) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("lab API closed the connection without answering")
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            return b"".join(chunks)
