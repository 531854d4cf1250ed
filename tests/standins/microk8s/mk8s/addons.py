"""The addons `microk8s status` lists: the `core` repository of microk8s 1.32.

Names, descriptions and versions are canonical/microk8s-core-addons branch 1.32 `addons.yaml`
(only `core` is enabled by default: microk8s build-scripts/addons/repositories.sh). status.py
sorts them by (repository, name) and decides "enabled" from a check_status string: a file path
for node-local addons (ha-cluster's lock, the helm binaries the snap ships, host-access' lock),
a Kubernetes object for the rest, which therefore is cluster-wide.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import paths


@dataclass(frozen=True)
class Addon:
    name: str
    description: str
    version: str
    local: bool = False  # enabled-ness lives on the node, not in the cluster
    repository: str = "core"


CORE = [
    Addon("cert-manager", "Cloud native certificate management", "1.8.0"),
    Addon("cis-hardening", "Apply CIS K8s hardening", "1.0.0"),
    Addon("community", "The community addons repository", ""),
    Addon("dashboard", "The Kubernetes dashboard", "2.6.0"),
    Addon("dns", "CoreDNS", "1.10.1"),
    Addon("gpu", "Alias to nvidia add-on", "22.9.1"),
    Addon("ha-cluster", "Configure high availability on the current node", "0.1.0", local=True),
    Addon("helm", "Helm - the package manager for Kubernetes", "3.9.1", local=True),
    Addon("helm3", "Helm 3 - the package manager for Kubernetes", "3.9.1", local=True),
    Addon("host-access", "Allow Pods connecting to Host services smoothly", "1.0.0", local=True),
    Addon("hostpath-storage", "Storage class; allocates storage from host directory", "1.4.2"),
    Addon("ingress", "Ingress controller for external access", "1.8.0"),
    Addon("kube-ovn", "An advanced network fabric for Kubernetes", "1.10.0-alpha1"),
    Addon("mayastor", "OpenEBS MayaStor", "2.0.0-microk8s-1"),
    Addon("metallb", "Loadbalancer for your Kubernetes cluster", "0.13.3"),
    Addon("metrics-server", "K8s Metrics Server for API access to service metrics", "0.6.3"),
    Addon("minio", "MinIO object storage", "4.5.1"),
    Addon(
        "nvidia",
        "NVIDIA hardware (GPU and network) support",
        "gpu=22.9.1/network=23.7.0/microk8s-1",
    ),
    Addon(
        "observability", "A lightweight observability stack for logs, traces and metrics", "0.57.0"
    ),
    Addon("prometheus", "Prometheus operator for monitoring and logging", "v0.8.0"),
    Addon("rbac", "Role-Based Access Control for authorisation", ""),
    Addon("registry", "Private image registry exposed on localhost:32000", "2.8.1"),
    Addon("rook-ceph", "Distributed Ceph storage using Rook", "1.11.9"),
    Addon("storage", "Alias to hostpath-storage add-on, deprecated", "1.4.0"),
]
BY_NAME = {a.name: a for a in CORE}
# The helm binaries ship inside the snap, so their check_status path always exists.
ALWAYS_ON = {"helm", "helm3"}


# Seconds an enable or disable takes, from the core addons' scripts (microk8s-core-addons main):
# xable waits for readiness around each (common/utils.py unprotected_xable); dns/enable applies
# CoreDNS, sleeps 5 s and restarts kubelet on a clustered node; dns/disable waits for CoreDNS to
# go, sleeps 15 s, restarts kubelet and sleeps 15 s more; the others apply or delete manifests
# (a few seconds each against a ready API server).
_SECONDS = {("dns", "enable"): 10.0, ("dns", "disable"): 35.0}
DEFAULT_SECONDS = 3.0
# hostpath-storage/disable asks before it deletes the PVs' directory (storage is its alias).
ASKS_ON_DISABLE = frozenset({"hostpath-storage", "storage"})


def seconds(name: str, action: str) -> float:
    return _SECONDS.get((name, action), DEFAULT_SECONDS)


def find(name: str) -> Addon | None:
    repo, _, addon = name.rpartition("/")
    found = BY_NAME.get(addon)
    return found if found and repo in ("", found.repository) else None


def local_enabled(addon: Addon) -> bool:
    if addon.name in ALWAYS_ON:
        return True
    if addon.name == "ha-cluster":
        return paths.has_lock("ha-cluster")
    return paths.has_lock(f"standin-addon-{addon.name}")


def split(cluster_addons: list[str]) -> tuple[list[Addon], list[Addon]]:
    """(enabled, disabled), each in status.py's order."""
    enabled, disabled = [], []
    for addon in CORE:
        on = local_enabled(addon) if addon.local else addon.name in cluster_addons
        (enabled if on else disabled).append(addon)
    return enabled, disabled
