"""Calico's FelixConfiguration `default` as microk8s serves it: a crd.projectcalico.org/v1 object.

microk8s ships Calico with the Kubernetes datastore, so Felix's settings are the custom resource
`felixconfigurations.crd.projectcalico.org`; calico-node creates `default` when it first starts
(spec bpfLogLevel "", floatingIPs Disabled, logSeverityScreen Info, reportingInterval 0s).
Encryption is turned on with a JSON merge patch of `spec.wireguardEnabled` (projectcalico docs,
"Encrypt in-cluster pod traffic"). The object is cluster state: it lives in the shared
state in dqlite (store.py) under "felix", so a patch on one member is what every member reads.

Pure functions only: the merge patch (RFC 7386, what the API server does for
--type merge), the CRD's structural-schema checks the stand-in knows, and kubectl's views.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from typing import Any

GROUP = "crd.projectcalico.org"
API_VERSION = f"{GROUP}/v1"
KIND = "FelixConfiguration"
PLURAL = f"felixconfigurations.{GROUP}"
SINGULAR = f"felixconfiguration.{GROUP}"
# How kubectl may name the resource (the CRD has no short names).
NAMES = (
    "felixconfiguration",
    "felixconfigurations",
    SINGULAR,
    PLURAL,
    f"felixconfiguration.v1.{GROUP}",
    f"felixconfigurations.v1.{GROUP}",
)
DEFAULT_SPEC: dict[str, Any] = {
    "bpfLogLevel": "",
    "floatingIPs": "Disabled",
    "logSeverityScreen": "Info",
    "reportingInterval": "0s",
}
# Spec fields the stand-in knows the schema type of; the CRD prunes fields it does not know.
SPEC_TYPES: dict[str, type] = {
    "bpfLogLevel": str,
    "floatingIPs": str,
    "logSeverityScreen": str,
    "reportingInterval": str,
    "wireguardEnabled": bool,
    "wireguardEnabledV6": bool,
    "wireguardInterfaceName": str,
    "wireguardListeningPort": int,
    "wireguardMTU": int,
}

_SCHEMA_TYPE = {bool: "boolean", str: "string", int: "integer"}


class Invalid(Exception):
    """The API server's 422: the patched object does not satisfy the CRD's schema."""


def current(cluster: dict[str, Any]) -> dict[str, Any]:
    """The cluster's object: as last patched, else the one calico-node created at the start
    (its uid derived from the cluster id, so every member and every read agree on it)."""
    stored: dict[str, Any] | None = cluster.get("felix")
    if stored is not None:
        return stored
    created = min((n["created"] for n in cluster.get("nodes", [])), default=0.0)
    return default_object(created, str(uuid.uuid5(uuid.NAMESPACE_OID, cluster["cluster_id"])))


def default_object(created: float, uid: str) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "creationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created)),
            "generation": 1,
            "name": "default",
            "resourceVersion": "1",
            "uid": uid,
        },
        "spec": dict(DEFAULT_SPEC),
    }


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def patched(current: dict[str, Any], patch: Any) -> tuple[dict[str, Any], list[str]]:
    """The object after a merge patch, and the API server's warnings (pruned unknown fields).

    Identity fields (apiVersion, kind, metadata.name) cannot be changed; a changed object gets
    a new resourceVersion and generation, an unchanged one is returned as it was.
    """
    if not isinstance(patch, dict):
        raise Invalid("the patch must be a JSON object")
    new = merge_patch(current, patch)
    for field in ("apiVersion", "kind"):
        if new.get(field) != current[field]:
            raise Invalid(
                f"{field}: Invalid value: {json.dumps(new.get(field))}: field is immutable"
            )
    if new.get("metadata", {}).get("name") != "default":
        raise Invalid('metadata.name: Invalid value: "default": field is immutable')
    spec = new.get("spec")
    if not isinstance(spec, dict):
        raise Invalid(
            f'spec: Invalid value: "{_json_type(spec)}": spec in body must be of type object'
        )
    warnings = []
    for key in sorted(spec):
        want = SPEC_TYPES.get(key)
        if want is None:
            warnings.append(f'unknown field "spec.{key}"')
            del spec[key]
        elif type(spec[key]) is not want:
            name = _SCHEMA_TYPE[want]
            raise Invalid(
                f'spec.{key}: Invalid value: "{_json_type(spec[key])}": '
                f"spec.{key} in body must be of type {name}: {json.dumps(_go_text(spec[key]))}"
            )
    for key in sorted(k for k in new if k not in ("apiVersion", "kind", "metadata", "spec")):
        warnings.append(f'unknown field "{key}"')
        del new[key]
    new["metadata"] = dict(current["metadata"])
    if new != current:
        meta = new["metadata"]
        meta["resourceVersion"] = str(int(meta["resourceVersion"]) + 1)
        if new["spec"] != current["spec"]:
            meta["generation"] = int(meta["generation"]) + 1
        return new, warnings
    return current, warnings


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number" if isinstance(value, float) else "integer"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "null"


def _go_text(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value
