"""The fake cloud's non-VM objects (ssh keys, key pairs, security groups...), kept for the
Lab's lifetime so that terraform's later `read`s, in new provider processes, find them."""

from __future__ import annotations

import copy
import itertools
import threading
from typing import Any

from .api_client import LabApiError


class ObjectStore:
    def __init__(self) -> None:
        self._objects: dict[str, dict[str, dict[str, Any]]] = {}
        self._ids = itertools.count(41_000_001)  # numeric ids, like DigitalOcean's key ids
        self._lock = threading.Lock()

    def put(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Store a new object under a new id; an object carrying an existing "id" replaces it."""
        with self._lock:
            objects = self._objects.setdefault(kind, {})
            if "id" in obj:
                object_id = obj["id"]
                if not isinstance(object_id, str) or object_id not in objects:
                    raise LabApiError("not_found", f"{kind} {object_id!r} does not exist")
            else:
                object_id = str(next(self._ids))
            stored = {**copy.deepcopy(obj), "id": object_id}
            objects[object_id] = stored
            return copy.deepcopy(stored)

    def get(self, kind: str, object_id: str) -> dict[str, Any]:
        with self._lock:
            try:
                return copy.deepcopy(self._objects[kind][object_id])
            except KeyError:
                raise LabApiError("not_found", f"{kind} {object_id!r} does not exist") from None

    def delete(self, kind: str, object_id: str) -> None:
        with self._lock:
            if object_id not in self._objects.get(kind, {}):
                raise LabApiError("not_found", f"{kind} {object_id!r} does not exist")
            del self._objects[kind][object_id]

    def list(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._objects.get(kind, {}).values()))
