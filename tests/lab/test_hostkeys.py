"""The lab can change a VM's SSH host keys under a client's feet and put them back
(tests/lab/hostkeys.py): a client that pinned the old key is refused, the lab's CA still vouches
for the new one, and afterwards the old key is served again."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .hostkeys import replaced_host_keys
from .lab import Lab

pytestmark = pytest.mark.lab

CHANGED = "REMOTE HOST IDENTIFICATION HAS CHANGED"
SHOW_KEY = "cat /etc/ssh/ssh_host_ed25519_key.pub"


def _ssh(lab: Lab, known_hosts: Path, ip: str, strict: str) -> subprocess.CompletedProcess[str]:
    argv = ["ssh", "-o", "BatchMode=yes", "-o", f"StrictHostKeyChecking={strict}",
            "-o", f"UserKnownHostsFile={known_hosts}", "-o", "ConnectTimeout=10",
            "-i", str(lab.ssh_key), f"root@{ip}", SHOW_KEY]  # fmt: skip
    return subprocess.run(lab.ctl_argv(argv), capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)  # fmt: skip


def test_replaced_host_keys_are_served_at_once_refused_by_a_pinned_client_and_put_back(
    lab: Lab, tmp_path: Path
) -> None:
    host = lab.create_host("linode", "labtest-hostkeys", [lab.ssh_pubkey], wait_for_ssh=True)
    pinned = tmp_path / "known_hosts"
    try:
        first = _ssh(lab, pinned, host.public_ip, "accept-new")  # learns the VM's key
        assert first.returncode == 0, first.stderr
        with replaced_host_keys(lab, host) as (old, new):
            assert len(old) == len(new) == 1 and old != new
            assert " ".join(first.stdout.split()[:2]) == old[0]
            refused = _ssh(lab, pinned, host.public_ip, "accept-new")
            assert refused.returncode == 255 and CHANGED in refused.stderr, refused.stderr
            certified = _ssh(lab, lab.known_hosts, host.public_ip, "yes")
            assert certified.returncode == 0, certified.stderr
            assert " ".join(certified.stdout.split()[:2]) == new[0]
        again = _ssh(lab, pinned, host.public_ip, "accept-new")
        assert again.returncode == 0, again.stderr
        assert " ".join(again.stdout.split()[:2]) == old[0]
    finally:
        lab.delete_host(host.id)
