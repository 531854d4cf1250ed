"""Reading OpenTofu's JSON: the format checks, the walk over a module tree, the stored state's
instances shaped as `show -json` shows them, and typed lookups whose errors say where the
document went wrong. Pure: no I/O. Shared by mck/nodes.py and mck/eip.py."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from mck.errors import MckError


def stored_resources(state: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The stored state's resource instances, shaped as `show -json` shows them (address,
    mode, type, values, deposed_key), so that one reader serves both."""
    for resource in as_list(state.get("resources"), "resources"):
        resource = mapping(resource, "a resource")
        mode, kind = resource.get("mode"), str(resource.get("type"))
        base = f"{kind}.{resource.get('name')}"
        if mode == "data":
            base = f"data.{base}"
        if resource.get("module"):
            base = f"{resource['module']}.{base}"
        for instance in as_list(resource.get("instances"), f"{base}.instances"):
            instance = mapping(instance, f"an instance of {base}")
            key = instance.get("index_key")
            index = "" if key is None else f"[{json.dumps(key)}]"
            yield {
                "address": base + index,
                "mode": mode,
                "type": kind,
                "values": instance.get("attributes"),
                "deposed_key": instance.get("deposed"),
            }


def check_format(doc: Mapping[str, Any], command: str) -> None:
    if not isinstance(doc, Mapping) or "format_version" not in doc:
        raise MckError(
            f"expected the JSON that `{command}` prints, got something without a format_version"
        )
    version = str(doc["format_version"])
    if version.split(".")[0] != "1":
        raise MckError(
            f"`{command}` printed JSON format {version}; mck reads format 1.x: "
            "use an OpenTofu/Terraform release with JSON format 1"
        )


def resources(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Resources of a module and of all its child modules, depth first."""
    where = module.get("address") or "root_module"
    for resource in as_list(module.get("resources"), f"{where}.resources"):
        yield mapping(resource, f"a resource in {where}")
    for child in as_list(module.get("child_modules"), f"{where}.child_modules"):
        yield from resources(mapping(child, f"a child module of {where}"))


def text(values: Mapping[str, Any], path: str) -> str | None:
    """The string at a dotted path, or None when absent, null or empty."""
    value: object = values
    for step in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value if isinstance(value, str) and value else None


def mapping(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MckError(
            f"unexpected `tofu show -json` output: {where} is a {type(value).__name__}, "
            "not an object"
        )
    return value


def as_list(value: object, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MckError(
            f"unexpected `tofu show -json` output: {where} is a {type(value).__name__}, not a list"
        )
    return value
