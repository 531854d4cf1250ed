"""mck/boot.py and mck/playbooks/wait_boot.yml: new VMs are waited for (SSH, then cloud-init),
all at once, bounded by one setting, and every VM that never gets there is named with why.

The playbook runs for real (ansible-playbook, connection local) against a `cloud-init` that
says done, never finishes, or reports an error."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mck import boot
from mck.ansible import Ansible, Failure, HostStats, PlayResult
from mck.cli import main
from mck.report import Ui

CLOUD_INIT = {
    "done": "#!/bin/sh\nsleep 1; printf '.\\nstatus: done\\n'\n",
    "stuck": "#!/bin/sh\nprintf .; exec sleep 60\n",
    "error": "#!/bin/sh\nprintf '\\nstatus: error\\n'; exit 1\n",
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "inventory").write_text(
        f"[k8s]\nnode-0 ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    )
    (tmp_path / "ansible.cfg").write_text("[defaults]\nretry_files_enabled = false\n")
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    return tmp_path


def _cloud_init(project: Path, behaviour: str) -> None:
    script = project / "bin" / "cloud-init"
    script.write_text(CLOUD_INIT[behaviour])
    script.chmod(0o755)


def _wait(project: Path, timeout: int) -> dict[str, str]:
    return boot.wait_for_boot(Ansible(project, echo=lambda _: None), ["node-0"], timeout, Ui())


def test_returns_once_cloud_init_is_done(project: Path) -> None:
    _cloud_init(project, "done")
    assert _wait(project, 30) == {}


def test_cloud_init_that_never_finishes_is_named_within_the_bound(project: Path) -> None:
    _cloud_init(project, "stuck")
    started = time.monotonic()
    failed = _wait(project, 3)
    assert time.monotonic() - started < 25
    assert failed == {"node-0": "cloud-init still running after 3 s"}


def test_cloud_init_error_is_reported_as_such(project: Path) -> None:
    _cloud_init(project, "error")
    assert _wait(project, 30)["node-0"].startswith("cloud-init reported an error (status: error)")


def test_no_cloud_init_on_the_image_is_nothing_to_wait_for(project: Path) -> None:
    assert _wait(project, 30) == {}  # bin/ holds no cloud-init, and neither does /usr/bin here


def _result(**failures: str) -> PlayResult:
    result = PlayResult(status="failed", rc=2)
    result.hosts = {"a": HostStats(ok=2), "b": HostStats(failed=1), "c": HostStats(failed=1)}
    result.failures = [Failure(host, task, "boom") for host, task in failures.items()]
    return result


def test_problems_name_each_vm_and_why() -> None:
    result = _result(b=boot.SSH_TASK, c=boot.CLOUD_INIT_TASK)
    result.hosts["d"] = HostStats(unreachable=True)
    result.failures.append(Failure("d", boot.SSH_TASK, "Connection refused"))
    assert boot.boot_problems(result, ["a", "b", "c", "d", "e"], 300) == [
        "b: no SSH answer (boom)",
        "c: cloud-init reported an error (boom); `cloud-init status --long` on the VM says why",
        "d: no SSH answer (Connection refused)",
        "e: did not answer",
    ]
    assert boot.boot_problems(_result(), ["a"], 300) == []


def test_boot_timeout_is_an_option_with_an_env_var_and_must_be_positive(tmp_path: Path) -> None:
    refused = CliRunner().invoke(main, ["-C", str(tmp_path), "--boot-timeout", "0"])
    assert refused.exit_code == 2 and "--boot-timeout" in refused.output
    from_env = CliRunner().invoke(main, ["-C", str(tmp_path)], env={"MCK_BOOT_TIMEOUT": "x"})
    assert from_env.exit_code == 2 and "'x' is not a valid integer" in from_env.output
