"""Launch configuration (microk8s 1.27+): read at install, applied before the node first starts.

Checked against microk8s `snap/hooks/install` (which file is used: the first that exists of
/etc/microk8s.yaml, $SNAP_USER_COMMON/.microk8s.yaml, $SNAP_COMMON/.microk8s.yaml, else the
snap's bundled microk8s.default.yaml) and microk8s-cluster-agent `pkg/k8sinit/schema.go`
(multi-document files, empty documents skipped, unknown fields only warned about, version
must be semantic and within 0.1.0..0.2.0) and `pkg/k8sinit/apply.go` (extra*Args rewrite the
service args files, a null value deletes the argument; extraSANs feed the server certificate;
persistentClusterToken is a reusable join token; addons are enabled/disabled at first start).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import miniyaml, paths, svcargs

# The snap's bundled default (microk8s-resources/microk8s.default.yaml, 1.32): used only when
# the user provided no file at all, so a user file without `dns` gets no DNS addon.
DEFAULT_CONFIG = """\
# Default launch configuration for MicroK8s.
---
version: 0.1.0
extraKubeletArgs:
  --cluster-domain: cluster.local
  --cluster-dns: 10.152.183.10
addons:
  - name: dns
"""

MIN_VERSION = (0, 1, 0)
MAX_VERSION = (0, 2, 0)

# Configuration key -> args file it rewrites (apply.go's table).
ARG_FILES = {
    "extraKubeAPIServerArgs": "kube-apiserver",
    "extraKubeletArgs": "kubelet",
    "extraKubeProxyArgs": "kube-proxy",
    "extraKubeControllerManagerArgs": "kube-controller-manager",
    "extraKubeSchedulerArgs": "kube-scheduler",
    "extraKubeliteEnv": "kubelite-env",
    "extraContainerdArgs": "containerd",
    "extraContainerdEnv": "containerd-env",
    "extraDqliteArgs": "k8s-dqlite",
    "extraDqliteEnv": "k8s-dqlite-env",
    "extraMicroK8sClusterAgentArgs": "cluster-agent",
    "extraMicroK8sClusterAgentEnv": "cluster-agent-env",
    "extraMicroK8sAPIServerProxyArgs": "apiserver-proxy",
    "extraMicroK8sAPIServerProxyEnv": "apiserver-proxy-env",
    "extraEtcdArgs": "etcd",
    "extraEtcdEnv": "etcd-env",
    "extraFlanneldArgs": "flanneld",
    "extraFlanneldEnv": "flanneld-env",
    "extraCNIEnv": "cni-env",
    "extraFIPSEnv": "fips-env",
}
OTHER_KEYS = {
    "version",
    "addonRepositories",
    "addons",
    "extraSANs",
    "containerdRegistryConfigs",
    "extraConfigFiles",
    "persistentClusterToken",
    "join",
}


class LaunchConfigError(Exception):
    """The configuration cannot be used; the install fails (it is a user error upstream too)."""


@dataclass
class Addon:
    name: str
    disable: bool = False
    args: list[str] = field(default_factory=list)


@dataclass
class Part:
    version: str
    args: dict[str, dict[str, str | None]] = field(default_factory=dict)
    extra_sans: list[str] | None = None
    addons: list[Addon] = field(default_factory=list)
    config_files: dict[str, str] = field(default_factory=dict)
    persistent_token: str = ""


def find() -> tuple[Path | None, str]:
    """(path, text) of the configuration the install hook would use; path None = bundled default."""
    for candidate in paths.LAUNCH_CONFIG_CANDIDATES:
        if candidate.is_file():
            return candidate, candidate.read_text()
    return None, DEFAULT_CONFIG


def parse(text: str) -> list[Part]:
    try:
        docs = miniyaml.load_all(text)
    except ValueError as err:
        raise LaunchConfigError(f"could not parse configuration: yaml: {err}") from None
    parts = []
    for doc in docs:
        if doc is None or doc == {}:
            continue
        if not isinstance(doc, dict):
            raise LaunchConfigError("could not parse configuration: document is not a mapping")
        part = _part(doc)
        if part is not None:
            parts.append(part)
    return parts


def _part(doc: dict[str, Any]) -> Part | None:
    unknown = sorted(set(doc) - OTHER_KEYS - set(ARG_FILES))
    if unknown:
        print(
            f"WARNING: configuration may contain unknown fields ({', '.join(unknown)}).",
            file=sys.stderr,
        )
    if all(not doc.get(k) for k in OTHER_KEYS | set(ARG_FILES)):
        return None  # isZero(): an empty object is skipped, not an error
    version = _str(doc.get("version"), "version")
    _check_version(version)
    part = Part(version=version)
    for key, service in ARG_FILES.items():
        if doc.get(key) is not None:
            part.args[service] = _arg_map(doc[key], key)
    if doc.get("extraSANs") is not None:
        sans = doc["extraSANs"]
        if not isinstance(sans, list):
            raise LaunchConfigError("could not parse configuration: extraSANs must be a list")
        part.extra_sans = [_str(s, "extraSANs") for s in sans]
    for item in doc.get("addons") or []:
        if not isinstance(item, dict) or not item.get("name"):
            raise LaunchConfigError("could not parse configuration: addons need a name")
        args = item.get("args") or []
        part.addons.append(
            Addon(str(item["name"]), bool(item.get("disable")), [str(a) for a in args])
        )
    for name, contents in (doc.get("extraConfigFiles") or {}).items():
        if "/" in name:
            raise LaunchConfigError(f'file name "{name}" must not contain any slashes')
        part.config_files[name] = _str(contents, "extraConfigFiles")
    part.persistent_token = _str(doc.get("persistentClusterToken") or "", "persistentClusterToken")
    join = doc.get("join") or {}
    if isinstance(join, dict) and join.get("url"):
        raise LaunchConfigError(
            "join in the launch configuration is not implemented by the microk8s stand-in"
        )
    return part


def _check_version(version: str) -> None:
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?", version)
    if match is None:
        raise LaunchConfigError(
            f'could not parse config file version "{version}": illegal version string "{version}"'
        )
    parsed = (int(match[1]), int(match[2]), int(match[3]))
    if parsed > MAX_VERSION:
        raise LaunchConfigError(
            f"config file version is {version} but the maximum version supported is 0.2.0"
        )
    if parsed < MIN_VERSION:
        raise LaunchConfigError(
            f"config file version is {version} but the minimum version required is 0.1.0"
        )


def _str(value: Any, key: str) -> str:
    # yaml.v2 decodes any scalar into a Go string; lists and maps are type errors.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    raise LaunchConfigError(f"could not parse configuration: {key}: expected a string")


def _arg_map(value: Any, key: str) -> dict[str, str | None]:
    if not isinstance(value, dict):
        raise LaunchConfigError(f"could not parse configuration: {key} must be a mapping")
    return {str(k): (None if v is None else _str(v, key)) for k, v in value.items()}


def apply(parts: list[Part]) -> tuple[list[str] | None, list[Addon]]:
    """Write what the parts configure; returns (extra SANs, addons to reconcile at first start).

    The SANs are None when no part sets extraSANs (the shipped csr.conf.template stays)."""
    sans: list[str] | None = None
    addons: list[Addon] = []
    for part in parts:
        for service, mapping in part.args.items():
            # apply.go runs *-env files through UpdateServiceArguments too (`KEY=value` lines).
            set_args = {k: v for k, v in mapping.items() if v is not None}
            svcargs.update(service, set_args, [k for k, v in mapping.items() if v is None])
        for name, contents in part.config_files.items():
            paths.args_file(name).write_text(contents)
        if part.extra_sans is not None:
            sans = list(part.extra_sans)
        if part.persistent_token:
            token_file = paths.credentials("persistent-cluster-tokens.txt")
            with token_file.open("a") as fp:
                fp.write(part.persistent_token + "\n")
        addons.extend(part.addons)
    return sans, addons
