"""The pods' `eviction` subresource (policy/v1 Eviction), as kube-apiserver's eviction REST
handler does it (pkg/registry/core/pod/storage/eviction.go): the pod's PodDisruptionBudgets
decide. No budget: the pod is deleted. One budget with `disruptionsAllowed` 0: 429
TooManyRequests "Cannot evict pod as it would violate the pod's disruption budget." with a
DisruptionBudget cause naming the budget, and kubectl drain retries every 5 s until its
timeout. More than one budget: 500 (the subresource does not support it). A pod that is not
running (Pending, Succeeded, Failed) is deleted whatever the budgets say. Success is a 201
`Status` Success.
"""

from __future__ import annotations

from typing import Any

from . import api_meta, api_objects, api_views


def evict(shared: dict[str, Any], namespace: str, name: str, body: Any) -> dict[str, Any]:
    """Runs inside the commit: deletes the pod (the ReplicaSet controller replaces it)."""
    pods = api_objects.resource("", "pods")
    pod = api_objects.get(shared, pods, namespace, name)
    if pod is None:
        raise api_meta.not_found(pods, name)
    if not isinstance(body, dict) or body.get("kind") != "Eviction":
        raise api_meta.bad_request("the body of an eviction must be a policy/v1 Eviction")
    if (body.get("metadata") or {}).get("name") not in (None, name):
        raise api_meta.bad_request("name in URL does not match name in Eviction object")
    phase = pod.get("status", {}).get("phase")
    if phase == "Running" and pod["spec"].get("nodeName"):
        budgets = api_views.pdbs_for(shared, pod)
        if len(budgets) > 1:
            raise api_meta.ApiError(
                500,
                "InternalError",
                "Internal error occurred: This pod has more than one PodDisruptionBudget, which "
                "the eviction subresource does not support.",
                {
                    "causes": [
                        {
                            "message": "This pod has more than one PodDisruptionBudget, which "
                            "the eviction subresource does not support."
                        }
                    ]
                },
            )
        if budgets:
            budget = budgets[0]
            status = api_views.pdb_status(shared, budget)
            if status["disruptionsAllowed"] <= 0:
                cause = (
                    f"The disruption budget {budget['metadata']['name']} needs "
                    f"{status['desiredHealthy']} healthy pods and has "
                    f"{status['currentHealthy']} currently"
                )
                raise api_meta.ApiError(
                    429,
                    "TooManyRequests",
                    "Cannot evict pod as it would violate the pod's disruption budget.",
                    {"causes": [{"reason": "DisruptionBudget", "message": cause}]},
                )
    api_objects.delete(shared, pods, namespace, name)
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
