"""The workloads a fresh microk8s runs, and the controllers that keep their pods.

microk8s applies Calico's manifest at install (upgrade-scripts/000-switch-to-calico/resources/
calico.yaml: the calico-node DaemonSet and the calico-kube-controllers Deployment, kube-system)
and the dns addon applies CoreDNS (microk8s-resources/actions/coredns.yaml: the coredns
Deployment, k8s-app=kube-dns). What kube-controller-manager then does is done here, in the same
dqlite transaction as the change that calls for it (`reconcile`):
- the DaemonSet controller keeps one pod per Node (cordoned ones included: DaemonSet pods
  tolerate `unschedulable`), with a new pod when the template changed (`set env`, `rollout
  restart`);
- the Deployment controller keeps one ReplicaSet per Deployment (`<name>-<pod-template-hash>`),
  the ReplicaSet controller its replicas on schedulable Nodes (the scheduler's choice here: the
  node with the fewest pods, then by name), so an evicted pod comes back on another node;
- pod garbage collection deletes pods bound to a Node that is gone; a pod without a node
  (created without `spec.nodeName`) is bound to one.
Pods are Running and Ready as soon as they exist (no images are pulled, no containers run).
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
import time
from typing import Any

from . import api_objects

NAMESPACE = "kube-system"
# k8s.io/apimachinery rand.String's alphabet: generated name suffixes.
ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def suffix(n: int = 5) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def template_hash(template: dict[str, Any]) -> str:
    """A stable pod-template-hash (real: FNV of the template, safe-encoded)."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:10])


def _deployment(name: str, app: str, image: str, created: str) -> dict[str, Any]:
    labels = {"k8s-app": app}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "labels": dict(labels),
            "creationTimestamp": created,
            "generation": 1,
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": dict(labels)},
            "strategy": {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"containers": [{"name": name, "image": image}]},
            },
        },
    }


def _seed(shared: dict[str, Any]) -> None:
    """calico-kube-controllers always, coredns with the dns addon, once per datastore."""
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    wanted = [
        _deployment(
            "calico-kube-controllers",
            "calico-kube-controllers",
            "docker.io/calico/kube-controllers:v3.28.1",
            created,
        )
    ]
    if "dns" in shared.get("addons", []):
        wanted.append(_deployment("coredns", "kube-dns", "coredns/coredns:1.10.1", created))
    res = api_objects.resource("apps", "deployments")
    for obj in wanted:
        if api_objects.get(shared, res, NAMESPACE, obj["metadata"]["name"]) is None:
            api_objects.create(shared, res, obj)
    shared["workloads_seeded"] = True


def _owner(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_uid(obj: dict[str, Any]) -> str | None:
    for ref in obj["metadata"].get("ownerReferences", []):
        if ref.get("controller"):
            return str(ref["uid"])
    return None


def _pod(owner: dict[str, Any], template: dict[str, Any], node: str, labels: dict[str, str]) -> Any:
    meta = owner["metadata"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{meta['name']}-{suffix()}",
            "generateName": f"{meta['name']}-",
            "namespace": meta["namespace"],
            "labels": {**template.get("metadata", {}).get("labels", {}), **labels},
            "ownerReferences": [_owner(owner)],
        },
        "spec": {**copy.deepcopy(template.get("spec", {})), "nodeName": node},
    }
    annotations = template.get("metadata", {}).get("annotations")
    if annotations:
        pod["metadata"]["annotations"] = dict(annotations)
    return pod


def _schedulable(shared: dict[str, Any]) -> list[str]:
    return sorted(n["name"] for n in shared["nodes"] if not n.get("unschedulable"))


def _pick_node(shared: dict[str, Any], pods: list[dict[str, Any]]) -> str:
    nodes = _schedulable(shared)
    if not nodes:
        return ""
    load = {n: 0 for n in nodes}
    for p in pods:
        if p["spec"].get("nodeName") in load:
            load[p["spec"]["nodeName"]] += 1
    return min(nodes, key=lambda n: (load[n], n))


def reconcile(shared: dict[str, Any]) -> dict[str, Any]:
    """The controllers' work on `shared` (changed in place and returned)."""
    if not shared.get("workloads_seeded"):
        _seed(shared)
    pods_res = api_objects.resource("", "pods")
    rs_res = api_objects.resource("apps", "replicasets")
    node_names = {n["name"] for n in shared["nodes"]}
    # Pod GC: pods bound to a Node that no longer exists.
    for p in api_objects.items(shared, pods_res):
        node = p["spec"].get("nodeName")
        if node and node not in node_names:
            api_objects.delete(shared, pods_res, p["metadata"]["namespace"], p["metadata"]["name"])
    # DaemonSets: one pod per node with the current template.
    for ds in api_objects.items(shared, api_objects.resource("apps", "daemonsets")):
        want = template_hash(ds["spec"]["template"])
        uid = ds["metadata"]["uid"]
        have = {}
        for p in api_objects.items(shared, pods_res):
            if controller_uid(p) != uid:
                continue
            node = p["spec"].get("nodeName")
            if p["metadata"]["labels"].get("controller-revision-hash") != want or node in have:
                api_objects.delete(
                    shared, pods_res, p["metadata"]["namespace"], p["metadata"]["name"]
                )
            else:
                have[node] = p
        for node in sorted(node_names - set(have)):
            labels = {"controller-revision-hash": want, "pod-template-generation": "1"}
            api_objects.create(shared, pods_res, _pod(ds, ds["spec"]["template"], node, labels))
    # Deployments: one ReplicaSet each, for the current template.
    for dep in api_objects.items(shared, api_objects.resource("apps", "deployments")):
        want = template_hash(dep["spec"]["template"])
        name = f"{dep['metadata']['name']}-{want}"
        ns = dep["metadata"]["namespace"]
        for rs in api_objects.items(shared, rs_res):
            if controller_uid(rs) == dep["metadata"]["uid"] and rs["metadata"]["name"] != name:
                api_objects.delete(shared, rs_res, ns, rs["metadata"]["name"])
        if api_objects.get(shared, rs_res, ns, name) is None:
            template = copy.deepcopy(dep["spec"]["template"])
            template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = want
            rs = {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": name,
                    "namespace": ns,
                    "labels": dict(template["metadata"]["labels"]),
                    "ownerReferences": [_owner(dep)],
                },
                "spec": {
                    "replicas": dep["spec"].get("replicas", 1),
                    "selector": {
                        "matchLabels": {
                            **dep["spec"]["selector"].get("matchLabels", {}),
                            "pod-template-hash": want,
                        }
                    },
                    "template": template,
                },
            }
            api_objects.create(shared, rs_res, rs)
        else:
            rs = api_objects.get(shared, rs_res, ns, name)
            assert rs is not None
            if rs["spec"]["replicas"] != dep["spec"].get("replicas", 1):
                rs = {**rs, "spec": {**rs["spec"], "replicas": dep["spec"].get("replicas", 1)}}
                api_objects.put(shared, rs_res, rs)
    # ReplicaSets (orphans and pods of deleted owners go with the owner).
    live_rs = {rs["metadata"]["uid"]: rs for rs in api_objects.items(shared, rs_res)}
    live_ds = {
        d["metadata"]["uid"]
        for d in api_objects.items(shared, api_objects.resource("apps", "daemonsets"))
    }
    for p in api_objects.items(shared, pods_res):
        owner = controller_uid(p)
        if owner is not None and owner not in live_rs and owner not in live_ds:
            api_objects.delete(shared, pods_res, p["metadata"]["namespace"], p["metadata"]["name"])
    for rs in live_rs.values():
        owned = [
            p
            for p in api_objects.items(shared, pods_res)
            if controller_uid(p) == rs["metadata"]["uid"]
        ]
        for extra in owned[rs["spec"]["replicas"] :]:
            api_objects.delete(
                shared, pods_res, extra["metadata"]["namespace"], extra["metadata"]["name"]
            )
        for _ in range(rs["spec"]["replicas"] - len(owned)):
            node = _pick_node(shared, api_objects.items(shared, pods_res))
            api_objects.create(shared, pods_res, _pod(rs, rs["spec"]["template"], node, {}))
    # The scheduler: pods created without a node get one.
    for p in api_objects.items(shared, pods_res):
        if not p["spec"].get("nodeName"):
            node = _pick_node(shared, api_objects.items(shared, pods_res))
            if node:
                p = copy.deepcopy(p)
                p["spec"]["nodeName"] = node
                api_objects.put(shared, pods_res, p)
    return shared
