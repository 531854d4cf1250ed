"""Discovery as kube-apiserver serves it: /version, /api, /apis, /api/v1, /apis/GROUP/VERSION.

Only the legacy (unaggregated) documents: client-go asks /api and /apis with the aggregated
Accept type first (`application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,…,
application/json`) and falls back to the legacy walk when the answer is a plain APIGroupList
(client-go discovery_client.go, `ServerGroupsAndResources`). kubectl drain finds the eviction
API by the `pods/eviction` entry of /api/v1 with kind Eviction, group policy, version v1
(k8s.io/kubectl pkg/drain, CheckEvictionSupport).
"""

from __future__ import annotations

import platform
from typing import Any

from .api_meta import RESOURCES, Resource


def version(git_version: str) -> dict[str, Any]:
    """/version: k8s.io/apimachinery version.Info for the node's Kubernetes release."""
    major, minor = git_version.lstrip("v").split(".")[:2]
    return {
        "major": major,
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.23.6",
        "compiler": "gc",
        "platform": f"linux/{'amd64' if platform.machine() == 'x86_64' else platform.machine()}",
    }


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _groups() -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    for r in RESOURCES:
        if r.group and (r.group, r.version) not in seen:
            seen.append((r.group, r.version))
    return seen


def group_list() -> dict[str, Any]:
    groups = []
    for group, ver in _groups():
        gv = {"groupVersion": f"{group}/{ver}", "version": ver}
        groups.append({"name": group, "versions": [gv], "preferredVersion": gv})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def group(name: str) -> dict[str, Any] | None:
    for group_name, ver in _groups():
        if group_name == name:
            gv = {"groupVersion": f"{name}/{ver}", "version": ver}
            return {
                "kind": "APIGroup",
                "apiVersion": "v1",
                "name": name,
                "versions": [gv],
                "preferredVersion": gv,
            }
    return None


def _entry(r: Resource) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": r.plural,
        "singularName": r.kind.lower(),
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": list(r.verbs),
    }
    if r.short:
        entry["shortNames"] = list(r.short)
    if r.categories:
        entry["categories"] = list(r.categories)
    return entry


def resource_list(group_version: str) -> dict[str, Any] | None:
    """/api/v1 or /apis/GROUP/VERSION; None for a group version not served."""
    items = [r for r in RESOURCES if r.group_version == group_version]
    if not items:
        return None
    resources = []
    for r in items:
        resources.append(_entry(r))
        if "eviction" in r.subresources:
            resources.append(
                {
                    "name": f"{r.plural}/eviction",
                    "singularName": "",
                    "namespaced": True,
                    "group": "policy",
                    "version": "v1",
                    "kind": "Eviction",
                    "verbs": ["create"],
                }
            )
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }
