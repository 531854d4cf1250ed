"""The common role's key rotation (tasks/ssh_key.yml), run by ansible itself against localhost.

The node's read (in tasks/main.yml) is given as `common_state`, its authorized_keys and the
role's record are temporary files, and the login check is replaced by `true` or `false` (it
runs ssh from the controller; tests/e2e/test_key_rotation.py runs the real one through the lab).
What is checked: the current key is added and the VM's first key kept until the current key has
logged in by itself; then the old key is removed; a key the role did not add is never touched;
a converged node changes nothing. Also the probe's key listing (the awk in tasks/main.yml).
"""

from __future__ import annotations

import getpass
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
OLD = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLDOLDOLDOLDOLDOLDOLDOLDOLDOLDOLDOLDOLDOLDOL"
NEW = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINEWNEWNEWNEWNEWNEWNEWNEWNEWNEWNEWNEWNEWNEWN"
COLLEAGUE = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCOLLEAGUECOLLEAGUECOLLEAGUE"


@pytest.fixture
def node(tmp_path: Path) -> Path:
    (tmp_path / "home" / ".ssh").mkdir(parents=True)
    (tmp_path / "id_new.pub").write_text(f"{NEW} me@laptop\n")
    return tmp_path


def _keys(node: Path, name: str) -> list[str]:
    """What the role's read reports of a key file: "type base64" per key, in file order."""
    path = node / name
    text = path.read_text() if path.exists() else ""
    return [" ".join(m) for m in re.findall(r"(ssh-\S+|ecdsa-\S+) (\S+)", text)]


def _run(
    node: Path, *, login_works: bool, key_file: bool = True
) -> subprocess.CompletedProcess[str]:
    state = {
        "ssh_home": str(node / "home"),
        "ssh_keys": _keys(node, "home/.ssh/authorized_keys"),
        "ssh_recorded": _keys(node, "record"),
    }
    playbook = node / "play.yml"
    playbook.write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.import_role:\n        name: common\n"
        "        tasks_from: ssh_key\n"
    )
    extra: dict[str, Any] = {
        "common_state": state,
        "common_ssh_record_path": str(node / "record"),
        "common_ssh_login_argv": ["true" if login_works else "false"],
        "ansible_user": getpass.getuser(),
        "ansible_python_interpreter": sys.executable,
    }
    if key_file:  # else the inventory names none (mck_ssh_public_key_file unset)
        extra["common_ssh_public_key_file"] = str(node / "id_new.pub")
    return subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", str(playbook), "-e", json.dumps(extra)],
        cwd=REPO,
        env={
            **os.environ,
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_ROLES_PATH": str(REPO / "roles"),
            "ANSIBLE_LOCAL_TEMP": str(node / "ansible-tmp"),
            "ANSIBLE_HOME": str(node / "ansible-home"),
            "ANSIBLE_FORCE_COLOR": "0",
        },
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def _changed(proc: subprocess.CompletedProcess[str]) -> int:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("localhost"))
    return int(line.split("changed=")[1].split()[0])


def test_first_run_records_the_vm_key_and_changes_nothing_after(node: Path) -> None:
    keys = node / "home/.ssh/authorized_keys"
    keys.write_text(f"{NEW} me@laptop\n")  # what the cloud put there at creation
    assert _changed(_run(node, login_works=True)) == 1  # the record, once
    assert (node / "record").read_text() == f"{NEW}\n"
    assert keys.read_text() == f"{NEW} me@laptop\n"
    assert _changed(_run(node, login_works=True)) == 0


def test_a_rotated_key_is_added_and_the_old_one_goes_once_the_new_one_logs_in(
    node: Path,
) -> None:
    keys = node / "home/.ssh/authorized_keys"
    keys.write_text(f"{OLD} me@old-laptop\n{COLLEAGUE} colleague\n")
    (node / "record").write_text(f"{OLD}\n")  # the role's first run on this node saw OLD

    # The new key cannot log in by itself yet: added, and the old one stays.
    proc = _run(node, login_works=False)
    assert _changed(proc) == 2  # the new key, the record
    assert "old key(s) stay" in proc.stdout
    assert _keys(node, "home/.ssh/authorized_keys") == [OLD, COLLEAGUE, NEW]
    assert (node / "record").read_text().split("\n")[:2] == [NEW, OLD]
    assert oct(keys.stat().st_mode & 0o777) == "0o600"

    # Now it does: the old key goes, the colleague's key (never the role's) stays.
    assert _changed(_run(node, login_works=True)) == 2  # the old key removed, the record
    assert _keys(node, "home/.ssh/authorized_keys") == [COLLEAGUE, NEW]
    assert (node / "record").read_text() == f"{NEW}\n"
    assert _changed(_run(node, login_works=True)) == 0


def test_no_key_file_leaves_keys_alone(node: Path) -> None:
    keys = node / "home/.ssh/authorized_keys"
    keys.write_text(f"{OLD} me\n")
    (node / "record").write_text(f"{OLD}\n")
    proc = _run(node, login_works=True, key_file=False)
    assert _changed(proc) == 0
    assert keys.read_text() == f"{OLD} me\n"


def test_the_read_lists_keys_without_options_or_comments(tmp_path: Path) -> None:
    tasks = yaml.safe_load((REPO / "roles/common/tasks/main.yml").read_text())
    script = tasks[0]["ansible.builtin.shell"]["cmd"]
    body = script[script.index("keys() {") : script.index("home=$(")]
    names = yaml.safe_load((REPO / "roles/common/vars/main.yml").read_text())[
        "common_ssh_key_type_names"
    ]
    types = "^(" + "|".join(n.replace(".", "[.]") for n in names) + ")$"  # as the role makes it
    body = body.replace("{{ common_ssh_key_types | quote }}", "'" + types + "'")
    assert "{{" not in body
    keys = tmp_path / "authorized_keys"
    keys.write_text(
        f"{OLD} me@laptop\n"
        f'no-port-forwarding,command="echo hi" {NEW} x\n'
        "# a comment line\n\n"
        f"{COLLEAGUE}\n"
    )
    out = subprocess.run(
        ["bash", "-c", body + f"keys {keys}; echo; keys {tmp_path / 'missing'}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert json.loads(out[0]) == [OLD, NEW, COLLEAGUE]
    assert json.loads(out[1]) == []
    assert re.fullmatch(r"\[.*\]", out[0])
