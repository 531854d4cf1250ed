"""A lab VM boots like a cloud VM: the API says active at power-on, sshd answers after a boot
delay, and cloud-init reports `running`, then `done` (tests/standins/cloudinit/)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from .fixtures import require_lab
from .lab import Lab

pytestmark = pytest.mark.lab


@pytest.fixture(autouse=True)
def _lab_available() -> None:
    require_lab()


def _listens_on_22(lab: Lab, address: str) -> bool:
    """A TCP connection from the controller, as ssh would open it."""
    probe = f"import socket; socket.create_connection(('{address}', 22), timeout=2)"
    argv = lab.ctl_argv(["python3", "-c", probe])
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def test_active_before_sshd_and_cloud_init_running_then_done(tmp_path: Path) -> None:
    with Lab(tmp_path) as lab:
        lab.time_scale = 0.1  # 1.5-4.5 s to sshd: long enough to see each state
        vm = lab.create_host("digitalocean", "boot-0", [lab.ssh_pubkey])
        assert vm.to_api()["status"] == "active"
        assert vm.ssh_delay >= 1.5 and vm.cloud_init_delay > vm.ssh_delay
        # Powered on, not answering SSH yet, cloud-init at work.
        assert not _listens_on_22(lab, vm.public_ip)
        running = vm.run(["cloud-init", "status"], check=False)
        assert (running.returncode, running.stdout) == (0, "status: running\n")
        long = vm.run(["cloud-init", "status", "--long"]).stdout
        assert long.startswith("status: running\nboot_status_code: enabled-by-generator\n")
        assert "detail:\nRunning in stage: init\n" in long
        vm.wait_for_ssh(30)
        assert _listens_on_22(lab, vm.public_ip)
        started = time.monotonic()
        waited = vm.run(["cloud-init", "status", "--wait"], timeout=60)
        assert waited.returncode == 0
        assert waited.stdout.endswith("\nstatus: done\n") and set(waited.stdout[:-14]) <= {"."}
        assert time.monotonic() - started < 30
        doc = json.loads(vm.run(["cloud-init", "status", "--format", "json"]).stdout)
        assert doc["status"] == "done" and doc["datasource"] == "digitalocean"
        assert doc["schemas"]["1"]["status"] == "done" and doc["_schema_version"] == "1"
        assert doc["errors"] == [] and doc["last_update"].endswith("+0000")
        unknown = vm.run(["cloud-init", "clean"], check=False)
        assert unknown.returncode == 2 and "does not implement" in unknown.stderr
