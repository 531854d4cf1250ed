"""mck.ansible against a real ansible-playbook on localhost (connection local): how extra vars
reach a play."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from mck.ansible import Ansible

PLAY = """\
- name: Show what the process table shows
  hosts: all
  gather_facts: false
  tasks:
    - name: Read every command line on the machine
      ansible.builtin.command: ps -eo args
      changed_when: false
    - name: Echo the token
      ansible.builtin.command: printf %s "{{ mck_token }}"
      changed_when: false
"""


def test_extra_vars_reach_the_play_but_not_the_process_table(tmp_path: Path) -> None:
    (tmp_path / "inventory").write_text(
        f"[all]\nlocalhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    )
    (tmp_path / "ansible.cfg").write_text("[defaults]\nretry_files_enabled = false\n")
    (tmp_path / "play.yml").write_text(PLAY)
    token = secrets.token_hex(16)

    result = Ansible(tmp_path, echo=lambda _: None).playbook(
        tmp_path / "play.yml",
        extravars={"mck_token": token},
        capture={"Read every command line on the machine", "Echo the token"},
    )

    assert result.ok, result
    captured = result.captured["localhost"]
    assert captured["Echo the token"]["stdout"] == token  # the play got it
    table = captured["Read every command line on the machine"]["stdout"]
    assert "ansible-playbook" in table  # the table was read while ansible ran
    assert token not in table  # and no command line carried it


def test_then_runs_a_second_playbook_after_the_first_in_one_run(tmp_path: Path) -> None:
    (tmp_path / "inventory").write_text(
        f"[all]\nlocalhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    )
    (tmp_path / "ansible.cfg").write_text("[defaults]\nretry_files_enabled = false\n")
    for name in ("first", "second"):
        (tmp_path / f"{name}.yml").write_text(
            f"- name: {name}\n  hosts: all\n  gather_facts: false\n  tasks:\n"
            f"    - name: Run {name}\n"
            f"      ansible.builtin.command: python3 -c 'import time; print(time.monotonic())'\n"
            "      changed_when: false\n"
        )

    result = Ansible(tmp_path, echo=lambda _: None).playbook(
        tmp_path / "first.yml", then=tmp_path / "second.yml", capture={"Run first", "Run second"}
    )

    assert result.ok, result
    ran = result.captured["localhost"]
    assert float(ran["Run first"]["stdout"]) < float(ran["Run second"]["stdout"])
    assert result.hosts["localhost"].ok == 2  # one PLAY RECAP for both playbooks
