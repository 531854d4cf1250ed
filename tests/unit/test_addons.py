"""The addon planning (mck/addons.py): parsing the declared entries against microk8s' core list
of the pinned channel, reading `microk8s status --format yaml`, and what to enable/disable."""

from __future__ import annotations

import pytest

from mck import addons
from mck.errors import UsageError

STATUS = """microk8s:
  running: True
high-availability:
  enabled: True
  nodes:
    - address: 10.0.0.1:19001
      role: voter
addons:
  - name: dns
    repository: core
    description: CoreDNS
    version: 1.13.1
    status: enabled
  - name: ha-cluster
    repository: core
    description: Configure high availability on the current node
    version: 0.1.0
    status: enabled
  - name: hostpath-storage
    repository: core
    description: Storage class; allocates storage from host directory
    version: 1.5.0
    status: enabled
  - name: ingress
    repository: core
    description: Ingress controller for external access
    version: 3.6.2
    status: disabled
"""


def test_parse_splits_args_as_microk8s_enable_does() -> None:
    found = addons.parse(
        ["dns", "metallb:10.64.140.43-10.64.140.49", "core/ingress"], "1.36/stable"
    )
    assert [(a.name, a.args) for a in found] == [
        ("dns", ()),
        ("metallb", ("10.64.140.43-10.64.140.49",)),
        ("ingress", ()),
    ]
    assert found[1].enable_argv() == ["enable", "metallb:10.64.140.43-10.64.140.49"]


def test_unknown_name_is_refused_naming_the_nearest() -> None:
    with pytest.raises(UsageError, match=r"'ingres' is not a core addon.*did you mean 'ingress'"):
        addons.parse(["dns", "ingres"], "1.36/stable")


def test_the_list_follows_the_pinned_channel() -> None:
    # dashboard left microk8s-core-addons on main (the 1.36 list); 1.35 still has it.
    assert addons.parse(["dashboard"], "1.35/stable")[0].name == "dashboard"
    with pytest.raises(UsageError, match=r"microk8s 1\.36"):
        addons.parse(["dashboard"], "1.36/stable")
    # A newer channel than the table is checked against the newest list.
    assert addons.core_addons((1, 40)) == addons.core_addons((1, 36))


@pytest.mark.parametrize(
    ("entries", "said"),
    [
        (["ha-cluster"], "lives on each node"),
        (["community/argocd"], "only microk8s' core addons"),
        (["dns", "dns:1.1.1.1"], "declared twice"),
    ],
)
def test_other_refusals(entries: list[str], said: str) -> None:
    with pytest.raises(UsageError, match=said):
        addons.parse(entries, "1.36/stable")


def test_variable_from_tf_var_json_or_list() -> None:
    assert addons.from_variable('["dns", "ingress"]') == ["dns", "ingress"]
    assert addons.from_variable(["dns"]) == ["dns"]
    assert addons.from_variable(None) == []
    with pytest.raises(UsageError, match="TF_VAR_addons"):
        addons.from_variable("dns")


def test_enabled_from_status() -> None:
    assert addons.enabled_from_status(STATUS) == {"dns", "ha-cluster", "hostpath-storage"}
    not_running = "microk8s:\n  running: False\nhigh-availability:\n  enabled: True\n"
    assert addons.enabled_from_status(not_running + "  message: not running\n") is None
    assert addons.enabled_from_status("microk8s is not running.") is None
    # A description with ": " in it (status.py does not quote them) breaks the YAML, not us.
    broken = STATUS.replace("description: CoreDNS", "description: CoreDNS: the DNS: server")
    assert addons.enabled_from_status(broken) == {"dns", "ha-cluster", "hostpath-storage"}


def test_plan_enables_the_missing_and_disables_only_what_was_declared_before() -> None:
    enabled = {"dns", "ha-cluster", "hostpath-storage", "metrics-server"}
    declared = addons.parse(["dns", "ingress"], "1.36/stable")
    # metrics-server was enabled by hand: never declared, never disabled.
    plan = addons.plan(declared, ["dns", "hostpath-storage", "registry"], enabled)
    assert [a.name for a in plan.enable] == ["ingress"]
    assert plan.disable == ["hostpath-storage"]  # registry is not enabled any more
    assert plan.lines() == [
        "addon ingress: enable",
        "addon hostpath-storage: disable (deletes its data: asks first)",
    ]


def test_plan_of_a_converged_cluster_is_empty() -> None:
    declared = addons.parse(["dns", "hostpath-storage"], "1.36/stable")
    plan = addons.plan(declared, ["dns", "hostpath-storage"], {"dns", "hostpath-storage"})
    assert plan.empty and plan.lines() == ["addons: no change"]


def test_disable_of_hostpath_storage_does_not_ask_on_the_node() -> None:
    # addons/hostpath-storage/disable reads Y/N from the terminal unless given destroy-storage.
    assert addons.disable_argv("hostpath-storage") == [
        "disable",
        "hostpath-storage:destroy-storage",
    ]
    assert addons.disable_argv("ingress") == ["disable", "ingress"]


def test_still_managed_keeps_refused_removals() -> None:
    declared = addons.parse(["dns"], "1.36/stable")
    assert addons.still_managed(declared, ["hostpath-storage", "dns"]) == [
        "dns",
        "hostpath-storage",
    ]
