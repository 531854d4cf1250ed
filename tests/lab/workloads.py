"""Workloads a test puts on a lab cluster, through a member's `microk8s kubectl` (the real
kubectl against the stand-in's API server): a pod no controller owns, bound to a node, and a
PodDisruptionBudget. What a user's own workloads would make `kubectl drain` refuse or wait on.

`--validate=false`: kubectl validates against the server's OpenAPI documents, which the
stand-in does not serve (tests/standins/microk8s/README.md, Deviations).
"""

from __future__ import annotations

import json
from typing import Any

from tests.lab.host import Host

KUBECTL = ["/snap/bin/microk8s", "kubectl"]


def create(member: Host, obj: dict[str, Any]) -> str:
    """`kubectl create -f -` of one object through `member`; its output (`pod/x created`)."""
    run = member.run(
        [*KUBECTL, "create", "--validate=false", "-f", "-"],
        input=json.dumps(obj),
        check=False,
        timeout=60,
    )
    if run.returncode != 0:
        raise RuntimeError(f"kubectl create on {member.name} failed: {run.stderr.strip()}")
    return run.stdout.strip()


def add_unmanaged_pod(
    member: Host, node: str, name: str, *, namespace: str = "default", empty_dir: bool = False
) -> str:
    """A pod that declares no controller, bound to Kubernetes node `node`: drain refuses it
    without --force (and without --delete-emptydir-data when it has an emptyDir volume)."""
    spec: dict[str, Any] = {
        "nodeName": node,
        "containers": [{"name": "main", "image": "registry.k8s.io/pause:3.9"}],
    }
    if empty_dir:
        spec["volumes"] = [{"name": "scratch", "emptyDir": {}}]
        spec["containers"][0]["volumeMounts"] = [{"name": "scratch", "mountPath": "/scratch"}]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": spec,
    }
    return create(member, pod)


def add_pod_disruption_budget(
    member: Host,
    name: str,
    selector: dict[str, str],
    *,
    namespace: str = "default",
    min_available: int | str = 1,
) -> str:
    """A policy/v1 PodDisruptionBudget over the pods `selector` matches in `namespace`."""
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"minAvailable": min_available, "selector": {"matchLabels": selector}},
    }
    return create(member, pdb)


def pods_on(member: Host, node: str) -> list[str]:
    """`namespace/name` of every pod bound to `node`, as the API server lists them."""
    run = member.run(
        [*KUBECTL, "get", "pods", "-A", "--field-selector", f"spec.nodeName={node}", "-o", "json"],
        timeout=60,
    )
    items = json.loads(run.stdout)["items"]
    return [f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in items]
