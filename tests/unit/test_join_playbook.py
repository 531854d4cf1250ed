"""mck/playbooks/join.yml and probe.yml, evaluated by Ansible's own templating: the join URL
carries the leader's certificate fingerprint (add-node --format token-check), a joined node
counts as seen by the leader only once the leader lists it Ready, and the probe after joins
waits for readiness while the ordinary probe does not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

PLAYBOOKS = Path(__file__).resolve().parents[2] / "mck/playbooks"
REGISTER, JOIN, LEADER_SEES = yaml.safe_load((PLAYBOOKS / "join.yml").read_text())
PROBE = yaml.safe_load((PLAYBOOKS / "probe.yml").read_text())[0]["tasks"][0]


def _template(expression: str, variables: dict[str, Any]) -> Any:
    templar = Templar(loader=DataLoader(), variables=variables)
    return templar.template(trust_as_template(expression))


def test_the_join_url_carries_the_fingerprint_add_node_printed() -> None:
    argv = REGISTER["tasks"][0]["ansible.builtin.command"]["argv"]
    assert argv[-2:] == ["--format", "token-check"] and "--token" in argv
    url = _template(
        JOIN["vars"]["mck_join_url"],
        {
            "mck_join_address": "10.77.0.1",
            "mck_leader": "lead",
            "hostvars": {"lead": {"mck_add_node": {"stdout": "t" * 32 + "/0123456789ab\n"}}},
        },
    )
    assert url == "10.77.0.1:25000/" + "t" * 32 + "/0123456789ab"
    join = JOIN["tasks"][0]
    assert join["ansible.builtin.command"]["argv"][-1] == "{{ mck_join_url }}"
    assert join["no_log"] is True and REGISTER["tasks"][0]["no_log"] is True


def _node(ready: str) -> str:
    conditions = [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": ready}]
    return json.dumps({"kind": "Node", "status": {"conditions": conditions}})


@pytest.mark.parametrize(
    ("rc", "stdout", "want"),
    [
        (0, _node("True"), True),
        (0, _node("Unknown"), False),
        (0, _node("False"), False),
        (1, "", False),  # the API refused (restarting): stdout is not even JSON
    ],
)
def test_the_leader_sees_the_joiner_only_once_it_is_ready(rc: int, stdout: str, want: bool) -> None:
    variables = {"mck_joined_node": {"rc": rc, "stdout": stdout}}
    ready = _template(LEADER_SEES["vars"]["mck_node_ready"], variables)
    assert str(ready).strip() == str(want)
    read = LEADER_SEES["tasks"][0]
    assert read["until"] == "mck_node_ready | bool" and read["ignore_errors"] is True
    assert _template(read["retries"], {"mck_join_wait": 300}) == 60  # x 5 s delay


def test_the_joiner_waits_for_its_own_readiness_first() -> None:
    wait = JOIN["tasks"][2]["ansible.builtin.command"]["argv"]
    assert wait[1:5] == ["status", "--wait-ready", "--timeout", "{{ mck_join_wait }}"]


@pytest.mark.parametrize(
    ("variables", "tail"),
    [
        ({}, []),
        ({"mck_wait_ready": 0}, []),
        ({"mck_wait_ready": 300}, ["--wait-ready", "--timeout", "300"]),
    ],
)
def test_the_probe_waits_only_when_asked(variables: dict[str, Any], tail: list[str]) -> None:
    argv = _template(PROBE["ansible.builtin.command"]["argv"], variables)
    assert argv == ["/snap/bin/microk8s", "status", "--format", "yaml", *tail]


TOKEN = "s" * 32


@pytest.mark.parametrize(
    ("stdout", "stderr", "reason"),
    [
        (
            "Contacting cluster at 10.77.0.1\nJoining cluster failed. Could not verify the"
            " identity of 10.77.0.1. Use '--skip-verify' to skip server certificate check.\n",
            "",
            "Joining cluster failed. Could not verify the identity of 10.77.0.1."
            " Use '--skip-verify' to skip server certificate check.",
        ),
        (
            "Contacting cluster at 10.77.0.1\n",
            "Traceback (most recent call last):\n  ...\nConnectionRefusedError: [Errno 111]"
            " Connection refused\n",
            "ConnectionRefusedError: [Errno 111] Connection refused",
        ),
        (
            "",
            f"Invalid connection: 10.77.0.1:25000/{TOKEN}\n",
            "Invalid connection: 10.77.0.1:25000/********",
        ),
        ("", "", "(no output)"),
    ],
)
def test_a_failed_join_reports_joins_own_reason(stdout: str, stderr: str, reason: str) -> None:
    result = {"rc": 4, "stdout_lines": stdout.splitlines(), "stderr_lines": stderr.splitlines()}
    report = JOIN["tasks"][1]
    variables = {"mck_join": result, "mck_join_token": TOKEN}
    message = _template(report["ansible.builtin.fail"]["msg"], variables)
    assert message == f"microk8s join exited 4: {reason}"


KNOWN = "Connection failed. The joining node (10.77.0.2) is already known to dqlite (504)."


@pytest.mark.parametrize(
    ("join", "failed"),
    [
        ({"rc": 0, "stdout": "Successfully joined the cluster.", "attempts": 1}, False),
        ({"rc": 6, "stdout": KNOWN, "attempts": 1}, True),  # a first try: not ours to assume
        ({"rc": 6, "stdout": KNOWN, "attempts": 2}, False),  # the exit-1 try had got in
        ({"rc": 6, "stdout": "Connection failed. Invalid token (500).", "attempts": 2}, True),
        ({"rc": 4, "stdout": "Could not verify the identity of 10.77.0.1", "attempts": 1}, True),
        ({"rc": 1, "stdout": "", "attempts": 6}, True),
    ],
)
def test_a_retried_join_the_leader_already_knows_counts_as_joined(
    join: dict[str, Any], failed: bool
) -> None:
    report = JOIN["tasks"][1]
    assert report["name"] == "Report a failed join"
    assert _template("{{ " + report["when"] + " }}", {"mck_join": join}) is failed
