"""labd without VMs, for the providers' own tests: no root, no namespaces, no sshd.

The protocol side is the lab's own (tests/lab: ApiServer, CloudApi, ObjectStore and the create
request checks), so the providers are tested against exactly what they meet in the lab; only the
VMs are fake: create_host allocates addresses the way the lab does and starts nothing.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.lab.api_client import LabApiError
from tests.lab.api_server import ApiServer
from tests.lab.cloud_api import CloudApi
from tests.lab.object_store import ObjectStore
from tests.lab.validation import check_host_request

PRIVATE_PREFIX = {"digitalocean": "198.18.0", "linode": "198.18.1"}


@dataclass
class FakeHost:
    id: str
    name: str
    cloud: str
    public_ip: str
    private_ip: str
    ssh_keys: list[str]
    status: str = "active"

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "cloud": self.cloud,
            "public_ip": self.public_ip,
            "private_ip": self.private_ip,
            "status": self.status,
        }


@dataclass
class FakeLab:
    """The VM side of labd: addresses allocated as in the lab contract, never reused."""

    hosts_by_id: dict[str, FakeHost] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    _next_public: int = 10
    _next_aws: int = 10
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def create_host(self, cloud: str, name: str, ssh_keys: list[str]) -> FakeHost:
        check_host_request(cloud, name, ssh_keys)
        with self._lock:
            if any(h.name == name for h in self.hosts_by_id.values()):
                raise LabApiError("conflict", f"an instance named {name!r} already exists")
            if cloud == "aws":
                n, self._next_aws = self._next_aws, self._next_aws + 1
                public, private = f"203.0.113.{n}", f"192.0.2.{n}"
                host_id = "i-0" + secrets.token_hex(8)
            else:
                n, self._next_public = self._next_public, self._next_public + 1
                public, private = f"198.51.100.{n}", f"{PRIVATE_PREFIX[cloud]}.{n}"
                host_id = str(300_000_000 + secrets.randbelow(200_000_000))
            host = FakeHost(host_id, name, cloud, public, private, list(ssh_keys))
            self.hosts_by_id[host_id] = host
            return host

    def get_host(self, host_id: str) -> FakeHost:
        with self._lock:
            if host_id not in self.hosts_by_id:
                raise LabApiError("not_found", f"no instance {host_id!r}")
            return self.hosts_by_id[host_id]

    def delete_host(self, host_id: str) -> None:
        with self._lock:
            if host_id not in self.hosts_by_id:
                raise LabApiError("not_found", f"no instance {host_id!r}")
            del self.hosts_by_id[host_id]
            self.deleted.append(host_id)

    def hosts(self) -> list[FakeHost]:
        with self._lock:
            return list(self.hosts_by_id.values())

    def host(self, name: str) -> FakeHost:
        return next(h for h in self.hosts() if h.name == name)


class FakeLabd:
    """A started fake labd: `socket` is what MCK_LAB_API points at; `requests` logs every call."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket
        self.lab = FakeLab()
        self.store = ObjectStore()
        self.requests: list[dict[str, Any]] = []
        api = CloudApi(self.lab, self.store)  # type: ignore[arg-type]  # duck-typed Lab

        def handle(request: dict[str, Any]) -> dict[str, Any]:
            self.requests.append(request)
            return api.handle(request)

        self._server = ApiServer(socket, handle)
        self._server.start()

    def calls(self, op: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r.get("op") == op]

    def close(self) -> None:
        self._server.close()
