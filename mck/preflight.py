"""Preflight: is this a project, and does it have every credential it needs? Nothing runs yet.

The HCL is read with python-hcl2, each file once (mck/hcl_cache.py keeps what was parsed), to
find which providers the configuration really uses (a provider is used when a resource or data
source of its type is declared, here or in a local child module) and which variables those
providers' blocks reference. Every such variable without a default and without a value (TF_VAR_…
in the environment, terraform.tfvars, *.auto.tfvars) is reported at once, so the user fixes them
all in one go.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mck import hcl_cache
from mck.errors import UsageError
from mck.tfvars_check import check_declared, read_tfvars, tfvars_files

_VAR_REF = re.compile(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)")


@dataclass
class Config:
    """What preflight learned from the project's HCL."""

    providers_used: set[str] = field(default_factory=set)
    # provider name → variables its provider blocks reference
    provider_vars: dict[str, set[str]] = field(default_factory=dict)
    # variable name → has a default in its declaration
    variables: dict[str, bool] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)


def check_project(project: Path) -> None:
    if not project.is_dir():
        raise UsageError(f"{project} is not a directory: run mck in your project or pass -C DIR")
    missing = [
        what
        for what, present in (
            ("*.tf files", any(project.glob("*.tf"))),
            ("main.yml", (project / "main.yml").is_file()),
            ("templates/inventory.j2", (project / "templates" / "inventory.j2").is_file()),
        )
        if not present
    ]
    if missing:
        raise UsageError(
            f"{project} is not an mck project (no {', '.join(missing)}): "
            "run mck from the directory holding instances.tf, or pass -C DIR"
        )


def read_config(project: Path) -> Config:
    """The root module and every local child module it calls (sources starting with ./ or ../),
    each .tf file parsed once."""
    config = Config()
    cache = hcl_cache.for_project(project)
    root = project.resolve()
    pending: list[Path] = [root]
    seen: set[Path] = set()
    while pending:
        module_dir = pending.pop(0)
        if module_dir in seen:
            continue
        seen.add(module_dir)
        for tf in sorted(module_dir.glob("*.tf")):
            parsed = cache.parse(tf)
            _absorb(config, parsed, root=module_dir == root)
            pending.extend(_local_modules(module_dir, parsed))
    cache.save()
    return config


def _local_modules(module_dir: Path, parsed: dict[str, Any]) -> Iterator[Path]:
    for block in _blocks(parsed.get("module", [])):
        for _name, body in block:
            source = str(body.get("source", ""))
            if source.startswith(("./", "../")) and (module_dir / source).is_dir():
                yield (module_dir / source).resolve()


def _blocks(entries: list[Any]) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    for entry in entries:
        if isinstance(entry, dict):
            yield [(key, body) for key, body in entry.items() if isinstance(body, dict)]


def _absorb(config: Config, parsed: dict[str, Any], *, root: bool) -> None:
    for kind in ("resource", "data"):
        for block in _blocks(parsed.get(kind, [])):
            for type_name, _body in block:
                config.providers_used.add(type_name.split("_", 1)[0])
    if not root:
        return  # credentials and their variables live in the root module only
    for block in _blocks(parsed.get("provider", [])):
        for name, body in block:
            refs = set(_VAR_REF.findall(json.dumps(body)))
            config.provider_vars.setdefault(name, set()).update(refs)
    for block in _blocks(parsed.get("variable", [])):
        for name, body in block:
            config.variables[name] = "default" in body
            if "default" in body:
                config.defaults[name] = body["default"]


def tfvars_values(project: Path, config: Config | None = None) -> dict[str, Any]:
    """Values from the files tofu loads by itself, in its precedence order (later wins). With
    `config`, a value for an undeclared variable is refused (mck/tfvars_check.py)."""
    values: dict[str, Any] = {}
    cache = hcl_cache.for_project(project)
    for path in tfvars_files(project):
        found = read_tfvars(path, cache)
        if config is not None:
            check_declared(path, found, config.variables)
        values.update(found)
    cache.save()
    return values


def missing_credentials(project: Path, config: Config, env: Mapping[str, str]) -> list[str]:
    """TF_VAR_… names that must be exported before tofu can talk to the providers in use."""
    given = tfvars_values(project, config)
    missing = set()
    for provider in config.providers_used:
        for var in config.provider_vars.get(provider, set()):
            if config.variables.get(var, True):
                continue  # has a default, or not declared here (tofu itself will say so)
            if env.get(f"TF_VAR_{var}") or given.get(var) not in (None, ""):
                continue
            missing.add(f"TF_VAR_{var}")
    return sorted(missing)


def variable(project: Path, config: Config, env: Mapping[str, str], name: str) -> Any:
    """A root variable's value as tofu will see it: TF_VAR_ env, then tfvars, then its default
    (None when it has none)."""
    if env.get(f"TF_VAR_{name}"):
        return env[f"TF_VAR_{name}"]
    given = tfvars_values(project)
    return given[name] if given.get(name) is not None else config.defaults.get(name)


def cluster_name(project: Path, config: Config, env: Mapping[str, str]) -> str:
    return str(variable(project, config, env, "cluster_name") or "mck-k8s")


def ssh_public_key_file(project: Path, config: Config, env: Mapping[str, str]) -> str:
    """The absolute path of the key file the .tf files give every VM (`ssh_public_key_file`,
    ~ expanded, relative to the project as tofu reads it); "" when the project has no such
    variable."""
    value = variable(project, config, env, "ssh_public_key_file")
    if not value:
        return ""
    return str(project / Path(str(value)).expanduser())


def flag(value: Any) -> bool:
    """A bool variable from any of its sources: HCL/tfvars give True/False, TF_VAR_ a string."""
    return value is True or str(value).strip().lower() == "true"


def preflight(project: Path, env: Mapping[str, str]) -> Config:
    """Fail with one line before anything runs, naming every problem and its fix."""
    check_project(project)
    config = read_config(project)
    missing = missing_credentials(project, config, env)
    if missing:
        providers = sorted(
            p
            for p in config.providers_used
            if any(f"TF_VAR_{v}" in missing for v in config.provider_vars.get(p, set()))
        )
        raise UsageError(
            f"missing credentials for {', '.join(providers)}: export "
            + " ".join(f"{name}=…" for name in missing)
            + " (or remove that provider's resources from the .tf files)"
        )
    return config
