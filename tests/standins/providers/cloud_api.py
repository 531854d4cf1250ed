"""The lab's fake cloud API (`labd`) as the stand-in providers use it.

Hosts are the lab's VMs. Everything else a cloud keeps (ssh keys, security groups, a droplet's
current name and size...) lives in labd's small KV store as *records*: JSON objects carrying the
cloud-style id the provider chose (`cloud_id`), so state survives the short-lived provider
processes exactly as a real cloud's does.
"""

from __future__ import annotations

from typing import Any

from tests.lab.api_client import LabApiError, call

from .framework import ApiError, log

Record = dict[str, Any]

# labd's error codes as the HTTP statuses a real cloud API answers with.
STATUS = {"not_found": 404, "bad_request": 400, "conflict": 409, "internal": 500}


class CloudError(ApiError):
    """The "cloud" refused a call, with an HTTP status and the API's message.

    Raised for labd's errors and for the checks the stand-ins make in the API's place (a 401 for
    an empty token, a 422 for an unknown image...); each provider module rewords it the way its
    real client library does, with the operation that failed.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message


class LabCloud:
    """One cloud's view of labd."""

    def __init__(self, cloud: str) -> None:
        self.cloud = cloud

    def _send(self, request: dict[str, Any]) -> dict[str, Any]:
        """One labd call; an error answer comes back as LabApiError (callers may expect some)."""
        log.debug("labd request: op=%s kind=%s", request.get("op"), request.get("kind"))
        try:
            return call(request)
        except LabApiError as err:
            if err.code == "unavailable":  # no lab to talk to: not something a cloud answers
                raise ApiError("The lab's cloud API is not reachable", err.message) from err
            raise

    def _call(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._send(request)
        except LabApiError as err:
            raise CloudError(STATUS.get(err.code, 500), err.message) from err

    def _call_or_none(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """Like _call, but None when labd answers not_found (a real API's 404)."""
        try:
            return self._send(request)
        except LabApiError as err:
            if err.code == "not_found":
                return None
            raise CloudError(STATUS.get(err.code, 500), err.message) from err

    # --- hosts (VMs) ---

    def create_host(self, name: str, ssh_keys: list[str]) -> dict[str, Any]:
        request = {"op": "create_host", "cloud": self.cloud, "name": name, "ssh_keys": ssh_keys}
        return self._call(request)

    def get_host(self, host_id: str) -> dict[str, Any] | None:
        """The host, or None once it is gone (deleted, or never existed)."""
        return self._call_or_none({"op": "get_host", "id": host_id})

    def delete_host(self, host_id: str) -> bool:
        """Delete the host; False when it was already gone."""
        return self._call_or_none({"op": "delete_host", "id": host_id}) is not None

    # --- records (KV store) ---

    def records(self, kind: str) -> list[Record]:
        objects: list[Record] = self._call({"op": "list", "kind": kind})["objects"]
        return objects

    def find(self, kind: str, **match: Any) -> Record | None:
        """The record of `kind` whose fields equal `match`, or None.

        When a replace raced this read, both revisions exist for a moment: the newest wins.
        """
        found = [r for r in self.records(kind) if all(r.get(k) == v for k, v in match.items())]
        return max(found, key=lambda r: int(r.get("revision", 0))) if found else None

    def insert(self, kind: str, record: Record) -> Record:
        stored: Record = self._call({"op": "put", "kind": kind, "object": record})["object"]
        return stored

    def replace(self, kind: str, old: Record, new: Record) -> Record:
        """Store `new` in place of `old` (labd has no update: put the new one, drop the old)."""
        fresh = {k: v for k, v in new.items() if k != "id"}
        fresh["revision"] = int(old.get("revision", 0)) + 1
        stored = self.insert(kind, fresh)
        self.remove(kind, old)
        return stored

    def remove(self, kind: str, record: Record) -> None:
        """Delete the record; one already gone is fine (the end state is the same)."""
        self._call_or_none({"op": "delete", "kind": kind, "id": record["id"]})

    # --- what resources do with their records ---

    def save(self, kind: str, old: Record | None, new: Record) -> Record:
        """Store `new` as an object's record, in place of `old` when labd holds that one.

        An `old` without a labd `id` was made up from what the API would report (a VM the lab
        made without the provider): there is nothing to replace yet.
        """
        if old is None or "id" not in old:
            return self.insert(kind, new)
        return self.replace(kind, old, new)

    def change(self, kind: str, changes: Record, **match: Any) -> Record | None:
        """The record matching `match` with `changes` made to it; None when there is none."""
        record = self.find(kind, **match)
        return None if record is None else self.replace(kind, record, {**record, **changes})

    def forget(self, kind: str, **match: Any) -> None:
        """Drop the record matching `match`, if any: its object is gone from the cloud."""
        record = self.find(kind, **match)
        if record is not None:
            self.remove(kind, record)

    def vm(self, kind: str, vm_id: str) -> tuple[dict[str, Any], Record | None] | None:
        """The VM and the record (of `kind`) of what the API knows of it.

        None once the VM is gone: its record goes with it, as the API forgets a deleted VM.
        """
        host = self.get_host(vm_id)
        if host is None:
            self.forget(kind, cloud_id=vm_id)
            return None
        return host, self.find(kind, cloud_id=vm_id)
