"""mck.ansible against a real ansible-playbook on localhost (connection local): how extra vars
reach a play, and that reading ansible's output in batches loses nothing."""

from __future__ import annotations

import io
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest

from mck.ansible import Ansible
from mck.progress import PlayProgress
from mck.report import Ui
from mck.runner_process import READ_SIZE, batched_reads

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


def test_batched_reads_lose_nothing_of_a_run(tmp_path: Path) -> None:
    """ansible's output is read in batches (see READ_DELAY): every event still arrives whole
    and in order, whatever its size, and the progress lines and failures are the same."""
    hosts = "".join(
        f"n{i} ansible_connection=local ansible_python_interpreter={sys.executable}\n"
        for i in (1, 2, 3)
    )
    (tmp_path / "inventory").write_text(f"[all]\n{hosts}")
    (tmp_path / "ansible.cfg").write_text("[defaults]\nretry_files_enabled = false\nforks = 5\n")
    big = READ_SIZE * 3  # one result far larger than a read
    (tmp_path / "play.yml").write_text(
        "- name: Batches\n  hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - name: Print a lot\n"
        f"      ansible.builtin.command: python3 -c 'print(\"x\" * {big})'\n"
        "      changed_when: false\n"
        "    - name: Change n1\n"
        "      ansible.builtin.set_fact:\n        done: true\n"
        "      changed_when: inventory_hostname == 'n1'\n"
        "    - name: Skip everywhere\n"
        "      ansible.builtin.set_fact:\n        never: true\n"
        "      when: false\n"
        "    - name: Fail on n2\n"
        "      ansible.builtin.fail:\n        msg: n2 says no\n"
        "      when: inventory_hostname == 'n2'\n"
    )
    stream = io.StringIO()
    ui = Ui(stream)
    ui.phase("configure")
    wrapped: list[bool] = []
    progress = PlayProgress(ui)

    def on_event(event: dict[str, Any]) -> None:
        wrapped.append(pexpect.spawn.__name__ == "batched")
        progress(event)

    spawn = pexpect.spawn
    result = Ansible(tmp_path, echo=lambda _: None, progress=on_event).playbook(
        tmp_path / "play.yml", capture={"Print a lot"}
    )

    assert wrapped and all(wrapped) and pexpect.spawn is spawn  # in batches, then restored
    assert [result.captured[h]["Print a lot"]["stdout"] for h in ("n1", "n2", "n3")] == [
        "x" * big
    ] * 3
    assert [(f.host, f.task, f.message) for f in result.failures] == [
        ("n2", "Fail on n2", "n2 says no")
    ]
    assert {h: (s.ok, s.changed, s.failed, s.skipped) for h, s in result.hosts.items()} == {
        "n1": (2, 1, 0, 2),
        "n2": (2, 0, 1, 1),
        "n3": (2, 0, 0, 2),
    }
    assert stream.getvalue().splitlines()[1:] == [
        "  [configure] Print a lot: ok",
        "  [configure] Change n1: changed on n1",
        "  [configure] Skip everywhere: skipped",
        "  [configure] Fail on n2: failed on n2",
    ]


def test_batched_reads_put_pexpect_back_after_a_failure() -> None:
    spawn = pexpect.spawn
    with pytest.raises(RuntimeError), batched_reads():
        assert pexpect.spawn is not spawn
        raise RuntimeError("ansible-runner failed")
    assert pexpect.spawn is spawn


def test_ansible_output_has_no_colour_codes_even_on_a_colour_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ansible writes to ansible-runner's pty, which it takes for a terminal; with TERM set it
    # would colour the PLAY RECAP that mck shows and the debug log keeps.
    monkeypatch.setenv("TERM", "xterm-256color")
    (tmp_path / "inventory").write_text(
        f"[all]\nlocalhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    )
    (tmp_path / "ansible.cfg").write_text("[defaults]\nretry_files_enabled = false\n")
    (tmp_path / "play.yml").write_text(PLAY.replace("{{ mck_token }}", "x"))
    shown: list[str] = []

    result = Ansible(tmp_path, echo=shown.append, verbosity=1).playbook(tmp_path / "play.yml")

    assert result.ok, result
    assert "PLAY RECAP" in "".join(shown)
    assert "\x1b" not in "".join(shown)


ENV_PLAY = """\
- name: Look for the credential where ansible-runner writes
  hosts: all
  gather_facts: false
  tasks:
    - name: Read ansible's environment
      ansible.builtin.command: env
      changed_when: false
    - name: Search the temporary directory while ansible-runner runs
      ansible.builtin.shell: grep -rl -- "$NEEDLE_PART$NEEDLE_REST" {{ tmp | quote }} || true
      changed_when: false
      environment:
        NEEDLE_PART: "{{ needle[:8] }}"
        NEEDLE_REST: "{{ needle[8:] }}"
"""


def test_ansible_runner_never_receives_the_tofu_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ansible-runner copies os.environ into `artifacts/*/command`: a TF_VAR_ credential must
    be in neither ansible's environment nor any file of the run, and is back for tofu after."""
    import tempfile

    (tmp_path / "inventory").write_text(
        f"[all]\nlocalhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    )
    (tmp_path / "ansible.cfg").write_text("[defaults]\nretry_files_enabled = false\n")
    (tmp_path / "play.yml").write_text(ENV_PLAY)
    token = secrets.token_hex(16)
    monkeypatch.setenv("TF_VAR_do_token", token)
    tmp = tempfile.gettempdir()
    result = Ansible(tmp_path, echo=lambda _: None).playbook(
        tmp_path / "play.yml",
        extravars={"needle": token, "tmp": tmp},  # the extravars file itself holds it: 0600
        capture={
            "Read ansible's environment",
            "Search the temporary directory while ansible-runner runs",
        },
    )
    assert result.ok, result
    captured = result.captured["localhost"]
    assert "ANSIBLE_CONFIG=" in captured["Read ansible's environment"]["stdout"]
    assert "TF_VAR_" not in captured["Read ansible's environment"]["stdout"]
    found = captured["Search the temporary directory while ansible-runner runs"]["stdout"]
    # Only the extra vars file mck wrote on purpose (0600 in a 0700 dir) may hold the value.
    assert [line for line in found.splitlines() if not line.endswith("/env/extravars")] == []
    assert dict(os.environ).get("TF_VAR_do_token") == token  # back for tofu
