"""kubectl drain's refusals → mck's one line. The texts are kubectl's own, as its source prints
them: pkg/drain/filters.go (the `cannot delete …` reasons, `PodDeleteList.errors`),
pkg/cmd/drain/drain.go (`RunDrain`: `error: unable to drain node …, continuing command...`),
pkg/drain/drain.go (`evictPods`: the retried 429 and the global timeout), and the API server's
eviction message (kubernetes pkg/registry/core/pod/storage/eviction.go)."""

from __future__ import annotations

import json

from mck import drain

NODE = "mck-k8s-do-1"
UNMANAGED_STDERR = (
    f'error: unable to drain node "{NODE}" due to error: cannot delete Pods that declare no '
    "controller (use --force to override): default/lonely, continuing command...\n"
    "There are pending nodes to be drained:\n"
    f" {NODE}\n"
    "error: cannot delete Pods that declare no controller (use --force to override): "
    "default/lonely\n"
)
TWO_REASONS = (
    f'error: unable to drain node "{NODE}" due to error: [cannot delete Pods that declare no '
    "controller (use --force to override): default/a, tools/b, cannot delete Pods with local "
    "storage (use --delete-emptydir-data to override): web/cache-0], continuing command...\n"
)
BUDGET_STDOUT = f"node/{NODE} cordoned\nevicting pod default/web-0\n"
BUDGET_STDERR = (
    'error when evicting pods/"web-0" -n "default" (will retry after 5s): Cannot evict pod as '
    "it would violate the pod's disruption budget.\n"
    * 3
    + f'error: unable to drain node "{NODE}" due to error: error when evicting pods/"web-0" -n '
    '"default": global timeout reached: 2m0s, continuing command...\n'
    f"There are pending nodes to be drained:\n {NODE}\n"
    'error: error when evicting pods/"web-0" -n "default": global timeout reached: 2m0s\n'
)


def _pdb(ns: str, name: str, selector: object, allowed: int) -> dict[str, object]:
    return {
        "metadata": {"namespace": ns, "name": name},
        "spec": {"selector": selector, "minAvailable": 1},
        "status": {"disruptionsAllowed": allowed},
    }


def _pod(ns: str, name: str, labels: dict[str, str]) -> dict[str, object]:
    return {"metadata": {"namespace": ns, "name": name, "labels": labels}}


def test_a_pod_without_controller_is_named_with_the_force_flag() -> None:
    refusal = drain.parse(f"node/{NODE} cordoned\n" + UNMANAGED_STDERR)
    assert refusal == drain.Refusal({drain.UNMANAGED: ("default/lonely",)})
    assert refusal.forcible
    line = drain.message(NODE, refusal, [], left=f"{NODE} is schedulable again", timeout=120)
    assert "\n" not in line
    assert NODE in line and "default/lonely" in line and "--force-drain" in line
    assert "before any VM was destroyed" in line and "schedulable again" in line


def test_two_reasons_in_one_aggregate_keep_their_pods_apart() -> None:
    refusal = drain.parse(TWO_REASONS)
    assert refusal is not None
    assert refusal.refused == {
        drain.UNMANAGED: ("default/a", "tools/b"),
        drain.LOCAL_STORAGE: ("web/cache-0",),
    }
    assert not refusal.forcible  # --force does not lift a local-storage refusal


def test_a_disruption_budget_is_found_by_its_selector() -> None:
    refusal = drain.parse(BUDGET_STDOUT + BUDGET_STDERR)
    assert refusal == drain.Refusal(budget_blocked=("default/web-0",), timed_out=("default/web-0",))
    pdbs = json.dumps(
        {
            "items": [
                _pdb("default", "web", {"matchLabels": {"app": "web"}}, 0),
                _pdb("default", "db", {"matchLabels": {"app": "db"}}, 0),
                _pdb("default", "roomy", {"matchLabels": {"app": "web"}}, 1),
                _pdb("other", "web", {}, 0),
            ]
        }
    )
    pods = json.dumps({"items": [_pod("default", "web-0", {"app": "web", "tier": "front"})]})
    budgets = drain.blocking_budgets(pdbs, pods, refusal.budget_blocked)
    assert budgets == ["default/web"]
    line = drain.message(NODE, refusal, budgets, left=f"{NODE} is schedulable again", timeout=120)
    assert "disruption budget default/web" in line and "120 s" in line
    assert "--force-drain" not in line  # --force does not get past a budget


def test_without_the_pods_labels_every_exhausted_budget_of_the_namespace_is_named() -> None:
    pdbs = json.dumps({"items": [_pdb("default", "web", {"matchLabels": {"app": "web"}}, 0)]})
    assert drain.blocking_budgets(pdbs, "error: the server doesn't have", ("default/web-0",)) == [
        "default/web"
    ]


def test_match_expressions_and_null_selectors() -> None:
    pods = json.dumps({"items": [_pod("ns", "p", {"app": "web", "env": "prod"})]})
    expr = {"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]}
    not_in = {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]}
    pdbs = json.dumps(
        {
            "items": [
                _pdb("ns", "in", expr, 0),
                _pdb("ns", "notin", not_in, 0),
                _pdb("ns", "null", None, 0),
            ]
        }
    )
    assert drain.blocking_budgets(pdbs, pods, ("ns/p",)) == ["ns/in"]


def test_results_of_the_playbook_become_the_line_or_nothing() -> None:
    failed = {
        drain.DRAIN_TASK: {"rc": 1, "stdout": f"node/{NODE} cordoned", "stderr": UNMANAGED_STDERR},
        drain.UNCORDON_TASK: {"rc": 1, "stdout": "", "stderr": "connection refused"},
    }
    line = drain.refusal_from(failed, NODE, timeout=120)
    assert line is not None and f"microk8s kubectl uncordon {NODE}" in line
    assert drain.refusal_from({drain.DRAIN_TASK: {"rc": 0, "stdout": ""}}, NODE, timeout=1) is None
    unknown = {drain.DRAIN_TASK: {"rc": 1, "stderr": "The connection to the server was refused"}}
    assert drain.refusal_from(unknown, NODE, timeout=1) is None


def test_a_dry_run_over_two_nodes_names_each_node_it_would_not_empty() -> None:
    other = "mck-k8s-linode-1"
    stdout = (
        f"node/{NODE} cordoned (dry run)\nnode/{other} cordoned (dry run)\n"
        "evicting pod kube-system/coredns-6f5b8d9c4b-x2vqz (dry run)\n"
        f"node/{other} drained (dry run)\n"
    )
    refused = drain.refused_nodes(stdout + UNMANAGED_STDERR)
    assert refused == {NODE: drain.Refusal({drain.UNMANAGED: ("default/lonely",)})}
    assert drain.refused_nodes(stdout) == {}


def test_a_drain_that_failed_for_another_reason_still_says_the_node_may_be_cordoned() -> None:
    down = "The connection to the server 127.0.0.1:16443 was refused"
    tasks = {
        drain.DRAIN_TASK: {"rc": 1, "stderr": down},
        drain.UNCORDON_TASK: {"rc": 1, "stderr": down},
    }
    assert drain.refusal_from(tasks, NODE, timeout=1) is None
    assert f"microk8s kubectl uncordon {NODE}" in str(drain.still_cordoned(tasks, NODE))
    tasks[drain.UNCORDON_TASK] = {"rc": 0, "stdout": f"node/{NODE} uncordoned"}
    assert drain.still_cordoned(tasks, NODE) is None


def test_pods_still_terminating_at_the_timeout_are_given_the_option_that_waits_longer() -> None:
    # The eviction went through, the pod did not go before --timeout: evictPods' waitForDelete
    # runs under the timeout's context (kubernetes/kubectl pkg/drain/drain.go).
    stderr = (
        f'error: unable to drain node "{NODE}" due to error: error when waiting for pod "web-0" '
        'in namespace "default" to terminate: context deadline exceeded, continuing command...\n'
    )
    refusal = drain.parse(f"node/{NODE} cordoned\nevicting pod default/web-0\n" + stderr)
    line = drain.message(NODE, refusal, [], left=f"{NODE} is schedulable again", timeout=10)
    assert "default/web-0 (not gone within 10 s)" in line, line
    assert "give them longer with `mck --drain-timeout SECONDS`" in line, line
