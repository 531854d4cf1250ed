"""The join's readiness waits follow the run's `--ready-timeout`, as configure's does: a join
ends with the joiner restarting every service, and what it gets to be ready again is the
setting the user chose, not a fixed 300 s."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, cast

from mck import cluster
from mck.ansible import Ansible, PlayResult
from mck.nodes import Node
from mck.phases.act import join
from mck.phases.context import Run, Settings
from mck.report import Ui
from mck.tofu import Tofu


def _node(name: str, ip: str) -> Node:
    return Node(name, "digitalocean", ip, None, "root", False, f'x.node["{name}"]')


class _Ansible:
    """Records each playbook's extra vars; every play succeeds."""

    def __init__(self) -> None:
        self.extravars: list[dict[str, Any]] = []

    def playbook(self, playbook: Path, **kwargs: Any) -> PlayResult:
        self.extravars.append(dict(kwargs.get("extravars") or {}))
        return PlayResult(status="successful", rc=0)


def test_each_join_waits_the_ready_timeout_the_run_was_given(tmp_path: Path) -> None:
    leader, a, b = _node("n-0", "192.0.2.1"), _node("n-1", "192.0.2.2"), _node("n-2", "192.0.2.3")
    plan = cluster.ClusterPlan(
        leader, (cluster.Join(a, leader, "192.0.2.1"), cluster.Join(b, leader, "192.0.2.1"))
    )
    ansible = _Ansible()
    run = Run(
        Settings(tmp_path, env={}, ready_timeout=42),
        Ui(stream=io.StringIO()),
        tmp_path,
        cast(Tofu, None),
        cast(Ansible, ansible),
    )
    assert join(run, plan) == ["n-1", "n-2"]
    assert [v["mck_join_wait"] for v in ansible.extravars] == [42, 42]
    assert [v["mck_joiner"] for v in ansible.extravars] == ["n-1", "n-2"]
