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
import re
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
_TIMESTAMP = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([Tt ].*)?$")
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


def jsonpath(obj: Any, template: str) -> str:
    """kubectl -o jsonpath for plain field paths (`{.spec.wireguardEnabled}`), text around them
    kept. Missing fields print nothing (kubectl's --allow-missing-template-keys defaults to
    true); maps and lists print as JSON, strings and numbers as they are. Filters, ranges and
    wildcards are refused with ValueError instead of being guessed at."""
    out, rest = [], template
    while rest:
        start = rest.find("{")
        if start < 0:
            out.append(rest)
            break
        end = rest.find("}", start)
        if end < 0:
            raise ValueError(f"unclosed action in {template!r}")
        out.append(rest[:start])
        out.append(_field(obj, rest[start + 1 : end].strip(), template))
        rest = rest[end + 1 :]
    return "".join(out)


def _field(obj: Any, path: str, template: str) -> str:
    if path in ("", "."):
        value = obj
    else:
        if not path.startswith(".") or any(c in path for c in "[]*?@()=$ ,"):
            raise ValueError(f"the stand-in's jsonpath does not implement {template!r}")
        value = obj
        for key in path[1:].split("."):
            if not isinstance(value, dict) or key not in value:
                return ""
            value = value[key]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else str(value)


def to_yaml(value: Any, indent: int = 0) -> str:
    """sigs.k8s.io/yaml's layout: keys sorted, two-space indent, list items not indented."""
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for key in sorted(value):
            item = value[key]
            if isinstance(item, dict) and item:
                lines.append(f"{pad}{key}:\n{to_yaml(item, indent + 2)}")
            elif isinstance(item, list) and item:
                lines.append(f"{pad}{key}:\n{to_yaml(item, indent)}")
            else:
                lines.append(f"{pad}{key}: {_yaml_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            body = to_yaml(item, indent + 2).lstrip() if isinstance(item, dict | list) else None
            lines.append(f"{pad}- {body if body is not None else _yaml_scalar(item)}")
    return "\n".join(lines)


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    try:
        float(text)
        numeric = True
    except ValueError:
        numeric = False
    plain = (
        not numeric
        and not _TIMESTAMP.match(text)  # go-yaml quotes what would read back as a timestamp
        and text
        and text.strip() == text
        and text.lower() not in ("true", "false", "yes", "no", "on", "off", "null", "~", "y", "n")
        and text[0] not in "-?:,[]{}#&*!|>'\"%@`"
        and ": " not in text
        and " #" not in text
    )
    return text if plain else json.dumps(text)
