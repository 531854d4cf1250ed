"""The addons phase (mck/phases/addons.py) over a fake ansible: one read through one member,
one command per change, a refused removal of data without a terminal, a failed enable as a
problem line, and nothing at all for a project that never declared an addon."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, cast

from mck import addons
from mck.ansible import Ansible, Failure, HostStats, PlayResult
from mck.phases import addons as phase
from mck.phases.context import Run, Settings
from mck.report import Ui
from mck.tofu import Tofu
from tests.unit.fakes import FakeAnsible

NODE = "mck-k8s-do-0"


def _status(*enabled: str) -> str:
    names = ["dns", "hostpath-storage", "ingress", "metrics-server"]
    return "microk8s:\n  running: True\naddons:\n" + "".join(
        f"  - name: {n}\n    repository: core\n    status: "
        f"{'enabled' if n in enabled else 'disabled'}\n"
        for n in names
    )


def _read(*enabled: str) -> PlayResult:
    result = PlayResult(status="successful", rc=0, hosts={NODE: HostStats(ok=1)})
    result.captured[NODE] = {phase.READ_TASK: {"rc": 0, "stdout": _status(*enabled)}}
    return result


def _change(ok: bool = True, stderr: str = "") -> PlayResult:
    result = PlayResult(status="successful" if ok else "failed", rc=0 if ok else 2)
    result.hosts[NODE] = HostStats(ok=1)
    result.captured[NODE] = {phase.CHANGE_TASK: {"rc": 0 if ok else 1, "stderr": stderr}}
    if not ok:
        result.failures.append(Failure(NODE, phase.CHANGE_TASK, "non-zero return code"))
    return result


def _run(tmp_path: Path, *results: PlayResult, **settings: Any) -> tuple[Run, FakeAnsible]:
    (tmp_path / ".mck").mkdir(exist_ok=True)
    ansible = FakeAnsible(list(results))
    ui = Ui(stream=io.StringIO())
    run = Run(
        Settings(project=tmp_path, **settings),
        ui,
        tmp_path,
        cast(Tofu, None),
        cast(Ansible, ansible),
    )
    return run, ansible


def _declare(*entries: str) -> list[addons.Addon]:
    return addons.parse(entries, "1.36/stable")


def test_nothing_declared_ever_costs_nothing(tmp_path: Path) -> None:
    run, ansible = _run(tmp_path)
    assert phase.converge_addons(run, NODE, [], [], yes=False).problems == []
    assert ansible.calls == []


def test_converged_addons_cost_one_read(tmp_path: Path) -> None:
    run, ansible = _run(tmp_path, _read("dns", "ingress"))
    done = phase.converge_addons(run, NODE, _declare("dns", "ingress"), [], yes=False)
    assert (done.enabled, done.disabled, done.problems) == ([], [], [])
    assert [c["extravars"] for c in ansible.calls] == [{"mck_leader": NODE}]
    assert done.managed == ["dns", "ingress"]


def test_failed_enable_is_a_problem_line_and_the_others_go_on(tmp_path: Path) -> None:
    run, ansible = _run(
        tmp_path, _read("dns"), _change(ok=False, stderr="ingress: image pull failed"), _change()
    )
    done = phase.converge_addons(run, NODE, _declare("ingress", "metrics-server"), [], yes=False)
    assert done.enabled == ["metrics-server"]
    assert done.problems == [
        f"addon ingress: enable through {NODE} failed: ingress: image pull failed"
    ]
    assert [c["extravars"].get("mck_addon_argv") for c in ansible.calls] == [
        None,
        ["enable", "ingress"],
        ["enable", "metrics-server"],
    ]


def test_removal_of_data_without_a_terminal_is_refused_and_remembered(tmp_path: Path) -> None:
    run, ansible = _run(tmp_path, _read("dns", "ingress", "hostpath-storage"), _change())
    managed = ["dns", "ingress", "hostpath-storage"]
    done = phase.converge_addons(run, NODE, _declare("dns"), managed, yes=False)
    assert done.disabled == ["ingress"]
    assert len(done.problems) == 1 and done.problems[0].startswith(
        "addon hostpath-storage: not disabled: disabling it deletes its data"
    )
    assert len(ansible.calls) == 2  # the read and ingress' disable: hostpath-storage untouched
    # Still enabled: the next converge asks again.
    assert done.managed == ["dns", "hostpath-storage"]


def test_yes_or_an_answer_lets_data_go(tmp_path: Path) -> None:
    asked: list[str] = []

    def ask(question: str) -> bool:
        asked.append(question)
        return True

    run, ansible = _run(tmp_path, _read("hostpath-storage"), _change(), ask=ask)
    done = phase.converge_addons(run, NODE, [], ["hostpath-storage"], yes=False)
    assert done.disabled == ["hostpath-storage"] and asked
    assert ansible.calls[1]["extravars"]["mck_addon_argv"] == [
        "disable",
        "hostpath-storage:destroy-storage",
    ]
    assert done.managed == []
    run, ansible = _run(tmp_path, _read("hostpath-storage"), _change())
    found = phase.converge_addons(run, NODE, [], ["hostpath-storage"], yes=True)
    assert found.disabled == ["hostpath-storage"]


def test_no_ready_member_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    run, ansible = _run(tmp_path)
    done = phase.converge_addons(run, None, _declare("dns"), [], yes=False)
    assert done.problems == ["addons: not converged: no ready member to run microk8s through"]
    assert ansible.calls == []
