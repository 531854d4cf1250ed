"""What every API response shares: the resources served, `Status` objects and API errors.

Resources are described as kube-apiserver's discovery lists them (k8s.io/apimachinery
metav1.APIResource); errors as k8s.io/apimachinery/pkg/api/errors builds them (NewNotFound,
NewAlreadyExists, NewConflict, NewInvalid, NewTooManyRequests, NewMethodNotSupported).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

READ_VERBS = ["get", "list", "watch"]
ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass(frozen=True)
class Resource:
    group: str  # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool
    short: tuple[str, ...] = ()
    verbs: tuple[str, ...] = tuple(ALL_VERBS)
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = field(default=())

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """How errors name the resource: `pods`, `daemonsets.apps`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


RESOURCES = (
    Resource("", "v1", "nodes", "Node", False, ("no",)),
    Resource(
        "", "v1", "pods", "Pod", True, ("po",), categories=("all",), subresources=("eviction",)
    ),
    Resource("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    Resource("", "v1", "namespaces", "Namespace", False, ("ns",), ("get", "list", "watch")),
    Resource("apps", "v1", "daemonsets", "DaemonSet", True, ("ds",), categories=("all",)),
    Resource("apps", "v1", "deployments", "Deployment", True, ("deploy",), categories=("all",)),
    Resource("apps", "v1", "replicasets", "ReplicaSet", True, ("rs",), categories=("all",)),
    Resource("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ("pdb",)),
    Resource("crd.projectcalico.org", "v1", "felixconfigurations", "FelixConfiguration", False),
)
# The namespaces a fresh microk8s has.
NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


def find(group: str, version: str, plural: str) -> Resource | None:
    return next(
        (r for r in RESOURCES if (r.group, r.version, r.plural) == (group, version, plural)),
        None,
    )


def by_kind(api_version: str, kind: str) -> Resource | None:
    return next((r for r in RESOURCES if r.group_version == api_version and r.kind == kind), None)


class ApiError(Exception):
    """A refusal the API server answers with a Status object."""

    def __init__(self, code: int, reason: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> dict[str, Any]:
        return status_object(self.code, self.reason, self.message, self.details)


def status_object(code: int, reason: str, message: str, details: Any = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure" if code >= 300 else "Success",
        "message": message,
    }
    if reason:
        doc["reason"] = reason
    if details is not None:
        doc["details"] = details
    doc["code"] = code
    if not message:
        del doc["message"]
    return doc


def not_found(res: Resource, name: str) -> ApiError:
    details = {"name": name, "kind": res.plural}
    if res.group:
        details["group"] = res.group
    return ApiError(404, "NotFound", f'{res.qualified} "{name}" not found', details)


def already_exists(res: Resource, name: str) -> ApiError:
    details = {"name": name, "kind": res.plural}
    if res.group:
        details["group"] = res.group
    return ApiError(409, "AlreadyExists", f'{res.qualified} "{name}" already exists', details)


def invalid(res: Resource, name: str, causes: list[tuple[str, str]]) -> ApiError:
    """422 as NewInvalid words it: `<Kind>.<group> "<name>" is invalid: <field>: <detail>`."""
    kind = f"{res.kind}.{res.group}" if res.group else res.kind
    text = ", ".join(f"{f}: {d}" for f, d in causes)
    details = {
        "name": name,
        "kind": res.kind,
        "causes": [{"reason": "FieldValueInvalid", "message": d, "field": f} for f, d in causes],
    }
    if res.group:
        details["group"] = res.group
    return ApiError(422, "Invalid", f'{kind} "{name}" is invalid: {text}', details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unavailable() -> ApiError:
    """What kube-apiserver passes through when etcd (here dqlite) has no quorum for a write."""
    return ApiError(500, "", "etcdserver: request timed out")


def read_timeout() -> ApiError:
    return ApiError(
        504,
        "Timeout",
        "Timeout: request did not complete within requested timeout - context deadline exceeded",
    )
