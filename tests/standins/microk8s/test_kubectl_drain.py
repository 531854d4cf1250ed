"""`microk8s kubectl drain` in a two-VM lab cluster: the real kubectl's refusals and the
PodDisruptionBudget it waits on, with the workloads tests/lab/workloads.py adds (about 30 s)."""

from __future__ import annotations

import pytest

from tests.lab import workloads
from tests.lab.host import Host
from tests.standins.microk8s.test_felix import KUBECTL, _run, pair  # noqa: F401 (fixture)

pytestmark = pytest.mark.lab


def test_drain_refuses_an_unmanaged_pod_then_evicts_with_force(pair: list[Host]) -> None:  # noqa: F811
    h1, h2 = pair
    target = h2.hostname
    assert workloads.add_unmanaged_pod(h1, target, "lonely", empty_dir=True) == "pod/lonely created"
    assert "default/lonely" in workloads.pods_on(h2, target)  # cluster state: any member sees it
    drain = (*KUBECTL, "drain", target, "--ignore-daemonsets", "--timeout=30s")
    rc, _, err = _run(h1, *drain, "--delete-emptydir-data")
    assert rc == 1
    assert "cannot delete Pods that declare no controller (use --force to override)" in err
    rc, _, err = _run(h1, *drain, "--force")
    assert rc == 1 and "cannot delete Pods with local storage" in err
    rc, out, err = _run(h1, *drain, "--force", "--delete-emptydir-data")
    assert rc == 0, err
    assert f"node/{target} drained" in out
    assert [p for p in workloads.pods_on(h1, target) if "calico-node-" not in p] == []
    assert _run(h1, *KUBECTL, "uncordon", target)[1] == f"node/{target} uncordoned\n"


def test_a_budget_that_cannot_be_met_holds_the_drain(pair: list[Host]) -> None:  # noqa: F811
    h1, _ = pair
    rc, out, err = _run(h1, *KUBECTL, "get", "pods", "-n", "kube-system", "-o", "wide")
    assert rc == 0, err
    app = "calico-kube-controllers"  # one replica, always there (Calico's manifest)
    row = next(line.split() for line in out.splitlines() if line.startswith(f"{app}-"))
    node = row[6]
    workloads.add_pod_disruption_budget(h1, "kc-budget", {"k8s-app": app}, namespace="kube-system")
    rc, _, err = _run(h1, *KUBECTL, "drain", node, "--ignore-daemonsets", "--timeout=8s")
    assert rc == 1
    assert "Cannot evict pod as it would violate the pod's disruption budget." in err
    assert _run(h1, *KUBECTL, "uncordon", node)[0] == 0
