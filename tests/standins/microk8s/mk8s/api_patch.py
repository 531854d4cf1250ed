"""The PATCH forms the API server takes, by Content-Type (k8s.io/apimachinery, apiserver
handlers/patch.go): JSON merge patch (RFC 7386), strategic merge patch (built-in kinds only;
a custom resource answers 415, as kube-apiserver does) and JSON patch (RFC 6902).

The strategic merge covers what kubectl sends: lists with a patch merge key merge by it
(containers, env, volumes… by name; ports by containerPort; conditions and addresses by type;
taints by key; ownerReferences by uid), `$patch: delete|replace`, `$setElementOrder/<list>`,
`$deleteFromPrimitiveList/<list>` and `$retainKeys`. Other lists are replaced.
"""

from __future__ import annotations

import copy
from typing import Any

from . import api_meta, felix

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "name",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "ports": "containerPort",
    "conditions": "type",
    "addresses": "type",
    "taints": "key",
    "ownerReferences": "uid",
    "hostAliases": "ip",
}


def unsupported_media(custom: bool) -> api_meta.ApiError:
    kinds = [JSON_PATCH, MERGE, APPLY] if custom else [JSON_PATCH, MERGE, STRATEGIC, APPLY]
    return api_meta.ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(kinds),
    )


def apply(obj: dict[str, Any], content_type: str, patch: Any, custom: bool) -> dict[str, Any]:
    """The object after the patch; ApiError for a form the server refuses."""
    kind = content_type.split(";", 1)[0].strip()
    if kind == MERGE:
        if not isinstance(patch, dict):
            raise api_meta.bad_request("the patch must be a JSON object")
        result: dict[str, Any] = felix.merge_patch(obj, patch)
        return result
    if kind == STRATEGIC and not custom:
        if not isinstance(patch, dict):
            raise api_meta.bad_request("the patch must be a JSON object")
        return strategic(obj, patch)
    if kind == JSON_PATCH:
        return json_patch(obj, patch)
    raise unsupported_media(custom)


def strategic(target: Any, patch: dict[str, Any]) -> Any:
    if patch.get("$patch") == "replace":
        return {k: v for k, v in copy.deepcopy(patch).items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    orders = {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/"):
            orders[key.split("/", 1)[1]] = value
        elif key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [v for v in result.get(field, []) if v not in value]
        elif key.startswith("$"):
            continue
        elif value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = strategic(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list) and key in MERGE_KEYS:
            result[key] = _merge_list(result.get(key) or [], value, MERGE_KEYS[key])
        else:
            result[key] = copy.deepcopy(value)
    for key, order in orders.items():
        if key in MERGE_KEYS and isinstance(result.get(key), list):
            mk = MERGE_KEYS[key]
            rank = {o.get(mk): i for i, o in enumerate(order) if isinstance(o, dict)}
            result[key] = sorted(result[key], key=lambda e: rank.get(e.get(mk), len(rank)))
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(current: list[Any], patch: list[Any], key: str) -> list[Any]:
    result = copy.deepcopy(current)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise api_meta.bad_request(f"map: {item} does not contain declared merge key: {key}")
        index = next((i for i, e in enumerate(result) if e.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if index is not None:
                del result[index]
        elif index is None:
            result.append({k: v for k, v in item.items() if not k.startswith("$")})
        else:
            result[index] = strategic(result[index], item)
    return result


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise api_meta.bad_request(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json_patch(obj: dict[str, Any], ops: Any) -> dict[str, Any]:
    """RFC 6902: add, remove, replace, test (move and copy are refused)."""
    if not isinstance(ops, list):
        raise api_meta.bad_request(
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
        )
    doc = copy.deepcopy(obj)
    for op in ops:
        parts = _pointer(str(op.get("path", "")))
        parent: Any = doc
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent.get(part)
            if parent is None:
                raise api_meta.ApiError(422, "Invalid", f'doc is missing path: "{op["path"]}"')
        last = parts[-1]
        kind = op.get("op")
        if kind == "test":
            have = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if have != op.get("value"):
                raise api_meta.ApiError(422, "Invalid", f"testing value {op['path']} failed")
        elif kind in ("add", "replace"):
            if isinstance(parent, list):
                if last == "-":
                    parent.append(op.get("value"))
                elif kind == "add":
                    parent.insert(int(last), op.get("value"))
                else:
                    parent[int(last)] = op.get("value")
            else:
                if kind == "replace" and last not in parent:
                    raise api_meta.ApiError(
                        422,
                        "Invalid",
                        f"replace operation does not apply: doc is missing key: {op['path']}",
                    )
                parent[last] = op.get("value")
        elif kind == "remove":
            try:
                del parent[int(last) if isinstance(parent, list) else last]
            except (KeyError, IndexError) as err:
                raise api_meta.ApiError(
                    422,
                    "Invalid",
                    f'remove operation does not apply: doc is missing path: "{op["path"]}"',
                ) from err
        else:
            raise api_meta.bad_request(f"the stand-in does not implement JSON patch op {kind!r}")
    return doc
