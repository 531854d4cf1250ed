"""The addons declared in instances.tf (`addons = ["dns", "metallb:10.64.140.43-10.64.140.49"]`):
what they are, which names microk8s knows, and what a converge must enable or disable. Pure: no
I/O; mck/phases/addons.py reads the cluster and runs the commands.

An entry is what `microk8s enable` takes as one argument: `[core/]NAME[:ARGS]`, the arguments
after the first colon handed to the addon's enable script (microk8s scripts/wrappers/common/
utils.py, parse_xable_single_arg: `addon_name, *args = addon_arg.split(":")`).

Only addons whose state is cluster state can be declared: those whose `check_status` in
microk8s-core-addons addons.yaml is a Kubernetes object. The others (ha-cluster, helm, helm3,
host-access, community) are files on one node, so enabling them through one node would leave
the rest without; the microk8s role's `microk8s_addons` sets those on every node at install.

A converge disables only what it enabled before: the names declared at the last addon converge
(kept in the cluster's record in the state, mck/cluster_facts.py), now gone from the list and
still enabled. Addons a user enabled by hand, or the role at install (dns), are never touched
unless declared once.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Set
from dataclasses import dataclass, field
from typing import Any

from mck.errors import UsageError

# canonical/microk8s-core-addons addons.yaml, by release branch (the core repository is the one
# microk8s enables by default). Branches 1.32 to 1.35 list the same 24 addons; `main` (commit
# f689811, "bump addon versions for 1.36 release") is what the 1.36 snap ships and has dropped
# dashboard (commit 1824e87, "remove dashboard addon"). A channel newer than the table is
# checked against the newest list.
_CORE_1_32 = [
    "dns",
    "rbac",
    "dashboard",
    "ingress",
    "hostpath-storage",
    "storage",
    "registry",
    "metrics-server",
    "nvidia",
    "gpu",
    "helm",
    "helm3",
    "metallb",
    "host-access",
    "ha-cluster",
    "mayastor",
    "prometheus",
    "observability",
    "community",
    "cert-manager",
    "kube-ovn",
    "minio",
    "cis-hardening",
    "rook-ceph",
]
_CORE_1_36 = [name for name in _CORE_1_32 if name != "dashboard"]
CORE_BY_MINOR = {
    (1, 32): _CORE_1_32,
    (1, 33): _CORE_1_32,
    (1, 34): _CORE_1_32,
    (1, 35): _CORE_1_32,
    (1, 36): _CORE_1_36,
}
# check_status is a file on the node, not a Kubernetes object (addons.yaml).
NODE_LOCAL = frozenset({"ha-cluster", "helm", "helm3", "host-access", "community"})
# Addons whose disable deletes data: hostpath-storage (and its alias storage) asks to remove
# $SNAP_COMMON/default-storage with the PVs in it, or removes it given `destroy-storage`
# (addons/hostpath-storage/disable); registry's images live on such a PV (addons/registry/
# disable says to reclaim it so); mayastor removes its pools by default (--remove-storage);
# rook-ceph, minio, prometheus and observability hold their data in volumes they delete.
HOLDS_DATA = frozenset(
    {
        "hostpath-storage",
        "storage",
        "registry",
        "mayastor",
        "rook-ceph",
        "minio",
        "prometheus",
        "observability",
    }
)
# What `microk8s disable` gets for an addon whose script would otherwise ask on the terminal
# (hostpath-storage/disable: `read -p "Remove PVC storage …? (Y/N)"`, which fails without one).
# The user has already said yes to mck.
_DISABLE_ARGS = {"hostpath-storage": ["destroy-storage"], "storage": ["destroy-storage"]}


@dataclass(frozen=True)
class Addon:
    name: str  # without repository
    args: tuple[str, ...] = ()  # what followed the first colon, split as microk8s splits them
    entry: str = ""  # as declared

    def enable_argv(self) -> list[str]:
        return ["enable", ":".join((self.name, *self.args))]


def disable_argv(name: str) -> list[str]:
    return ["disable", ":".join((name, *_DISABLE_ARGS.get(name, [])))]


def core_addons(minor: tuple[int, int] | None) -> list[str]:
    """The core addon names of microk8s `minor` (the newest known list for a newer one)."""
    known = sorted(CORE_BY_MINOR)
    if minor is None:
        return CORE_BY_MINOR[known[-1]]
    older = [m for m in known if m <= minor]
    return CORE_BY_MINOR[older[-1] if older else known[0]]


def channel_minor(channel: str | None) -> tuple[int, int] | None:
    """(1, 36) for "1.36/stable"; None when the channel names no version."""
    track = (channel or "").split("/", 1)[0]
    parts = track.split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
        return None
    return int(parts[0]), int(parts[1])


def from_variable(value: Any) -> list[str]:
    """The `addons` variable as tofu gives it: a list from HCL or tfvars, a string of a list
    from TF_VAR_addons (JSON; tofu also takes HCL there, which for a list of strings is the
    same text)."""
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise UsageError(
                'TF_VAR_addons is not a list of strings: give it as ["dns", "ingress"]'
            ) from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError('addons must be a list of strings, e.g. ["dns", "ingress"]')
    return list(value)


def parse(entries: Iterable[str], channel: str | None) -> list[Addon]:
    """The declared addons, each checked against microk8s' core list of the pinned channel's
    minor; the first bad entry is one UsageError naming it and what to write instead."""
    known = core_addons(channel_minor(channel))
    version = ".".join(map(str, channel_minor(channel) or ())) or "the newest known microk8s"
    found: dict[str, Addon] = {}
    for entry in entries:
        name, *args = entry.split(":")
        repo, _, name = name.rpartition("/")
        if repo not in ("", "core"):
            raise UsageError(
                f"addon {entry!r}: only microk8s' core addons can be declared, not {repo}/…; "
                "enable other repositories' addons by hand"
            )
        if name not in known:
            nearest = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
            hint = f"did you mean {nearest[0]!r}?" if nearest else "`microk8s status` lists them"
            raise UsageError(
                f"addon {name!r} is not a core addon of microk8s {version} "
                f"(channel {channel or 'unknown'}): {hint}"
            )
        if name in NODE_LOCAL:
            raise UsageError(
                f"addon {name!r} lives on each node, not in the cluster: set it on every node "
                "with microk8s_addons in roles/microk8s/defaults/main.yml instead"
            )
        if name in found:
            raise UsageError(f"addon {name!r} is declared twice in addons: keep one entry")
        found[name] = Addon(name, tuple(args), entry)
    return list(found.values())


def enabled_from_status(text: str) -> set[str] | None:
    """The enabled addons in `microk8s status --format yaml` output (microk8s scripts/wrappers/
    status.py: an `addons` list of name/repository/…/status, only when microk8s is running);
    None when the output says microk8s is not running or is not that YAML."""
    import yaml  # only runs that declare addons need it

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        # status.py writes the YAML by hand, descriptions unquoted: one with ": " in it would
        # not parse. The entries' own lines still say what is enabled.
        return _enabled_from_lines(text)
    if not isinstance(data, dict) or not isinstance(data.get("addons"), list):
        return None
    return {
        str(a.get("name"))
        for a in data["addons"]
        if isinstance(a, dict) and str(a.get("status")) == "enabled"
    }


_ENTRY = re.compile(r"^\s*- name: (\S+)$((?:\n\s+(?!- )\w+: .*$)*)", re.M)


def _enabled_from_lines(text: str) -> set[str] | None:
    if not re.search(r"^addons:$", text, re.M):
        return None
    return {
        name
        for name, rest in _ENTRY.findall(text)
        if re.search(r"^\s+status: enabled$", rest, re.M)
    }


@dataclass(frozen=True)
class AddonPlan:
    enable: list[Addon] = field(default_factory=list)
    disable: list[str] = field(default_factory=list)  # in the order they were declared before

    @property
    def empty(self) -> bool:
        return not self.enable and not self.disable

    def lines(self) -> list[str]:
        """What `mck plan` and the converge say about it."""
        if self.empty:
            return ["addons: no change"]
        said = [f"addon {a.entry or a.name}: enable" for a in self.enable]
        said += [
            f"addon {n}: disable" + (" (deletes its data: asks first)" if n in HOLDS_DATA else "")
            for n in self.disable
        ]
        return said


def plan(declared: list[Addon], managed: Iterable[str], enabled: Set[str]) -> AddonPlan:
    """Enable each declared addon that is not enabled; disable each addon declared before
    (`managed`) that is no longer declared and still enabled."""
    wanted = {a.name for a in declared}
    return AddonPlan(
        enable=[a for a in declared if a.name not in enabled],
        disable=[n for n in dict.fromkeys(managed) if n not in wanted and n in enabled],
    )


def still_managed(declared: list[Addon], kept: Iterable[str]) -> list[str]:
    """The names to remember after a converge: the declared ones, then those whose disable was
    refused or failed (still enabled: the next converge tries again)."""
    names = [a.name for a in declared]
    return names + [n for n in dict.fromkeys(kept) if n not in names]
