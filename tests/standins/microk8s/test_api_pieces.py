"""The API server's pure pieces: strategic merge patch (what kubectl sends for set env and
cordon), JSON patch, a budget's disruption arithmetic, label selectors and the controllers."""

from __future__ import annotations

import pytest
from mk8s import api_meta, api_objects, api_patch, api_views, store, workloads

POD_SPEC = {
    "containers": [
        {"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]},
        {"name": "b"},
    ]
}


def test_strategic_merge_merges_lists_by_their_merge_key() -> None:
    patch = {
        "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
        "containers": [
            {"$setElementOrder/env": [{"name": "X"}, {"name": "Y"}], "name": "a",
             "env": [{"name": "Y", "value": "3"}]},
        ],
    }  # fmt: skip
    new = api_patch.strategic(POD_SPEC, patch)
    assert new["containers"][0]["env"] == [{"name": "X", "value": "1"}, {"name": "Y", "value": "3"}]
    assert new["containers"][1] == {"name": "b"}
    assert POD_SPEC["containers"][0]["env"][1]["value"] == "2"  # input untouched
    gone = api_patch.strategic(POD_SPEC, {"containers": [{"name": "b", "$patch": "delete"}]})
    assert [c["name"] for c in gone["containers"]] == ["a"]
    assert (
        api_patch.strategic({"spec": {"unschedulable": True}}, {"spec": {"unschedulable": None}})[
            "spec"
        ]
        == {}
    )


def test_patch_forms_by_content_type() -> None:
    obj = {"spec": {"a": [1, 2]}}
    assert api_patch.apply(obj, api_patch.MERGE, {"spec": {"a": [3]}}, False) == {
        "spec": {"a": [3]}
    }
    ops = [{"op": "add", "path": "/spec/a/-", "value": 3}, {"op": "remove", "path": "/spec/a/0"}]
    assert api_patch.apply(obj, api_patch.JSON_PATCH, ops, True) == {"spec": {"a": [2, 3]}}
    with pytest.raises(api_meta.ApiError) as refused:
        api_patch.apply(obj, api_patch.STRATEGIC, {}, True)  # a custom resource
    assert refused.value.code == 415


def _cluster() -> dict[str, object]:
    nodes = [store.node_entry(n, "10.0.0.1", "x", "v1.32.9", worker=False) for n in ("a", "b")]
    shared = store.fresh_shared(nodes[0], ["dns"])
    shared["nodes"].append(nodes[1])
    return workloads.reconcile(shared)


def test_controllers_keep_one_calico_pod_per_node_and_replace_an_evicted_pod() -> None:
    shared = _cluster()
    pods = api_objects.resource("", "pods")
    on = {p["metadata"]["name"]: p["spec"]["nodeName"] for p in api_objects.items(shared, pods)}
    assert sorted(n for name, n in on.items() if name.startswith("calico-node-")) == ["a", "b"]
    dns = next(name for name in on if name.startswith("coredns-"))
    shared["nodes"][[n["name"] for n in shared["nodes"]].index(on[dns])]["unschedulable"] = True
    api_objects.delete(shared, pods, "kube-system", dns)
    shared = workloads.reconcile(shared)
    again = {p["metadata"]["name"]: p["spec"]["nodeName"] for p in api_objects.items(shared, pods)}
    new = next(name for name in again if name.startswith("coredns-"))
    assert new != dns and again[new] != on[dns]  # elsewhere, a new name
    shared["nodes"] = [{**n, "unschedulable": True} for n in shared["nodes"] if n["name"] == "a"]
    shared = workloads.reconcile(shared)
    left = {p["metadata"]["name"]: p["spec"]["nodeName"] for p in api_objects.items(shared, pods)}
    # b gone (pod GC), a cordoned: the ReplicaSet's next pod waits unscheduled.
    assert [n for name, n in left.items() if name.startswith("coredns-")] == [""]
    shared["nodes"][0]["unschedulable"] = False
    shared = workloads.reconcile(shared)
    assert {p["spec"]["nodeName"] for p in api_objects.items(shared, pods)} == {"a"}


def test_a_budgets_disruptions_allowed() -> None:
    shared = _cluster()
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "b", "namespace": "kube-system", "generation": 1},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"k8s-app": "calico-node"}}},
    }
    assert api_views.pdb_status(shared, pdb)["disruptionsAllowed"] == 1  # 2 healthy, 1 needed
    pdb["spec"] = {"maxUnavailable": "0%", "selector": pdb["spec"]["selector"]}
    status = api_views.pdb_status(shared, pdb)
    assert (status["disruptionsAllowed"], status["desiredHealthy"]) == (0, 2)


def test_label_and_field_selectors() -> None:
    terms = api_views.parse_label_query("app=x,tier!=db,keep,!skip")
    assert api_views.query_matches(terms, {"app": "x", "keep": ""})
    assert not api_views.query_matches(terms, {"app": "x", "keep": "", "skip": "1"})
    assert not api_views.label_matches(
        {"matchExpressions": [{"key": "a", "operator": "In", "values": ["1"]}]}, {"a": "2"}
    )
    with pytest.raises(api_meta.ApiError):
        api_views.check_fields("Pod", api_views.parse_label_query("spec.hostname=x"))
