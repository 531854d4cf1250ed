"""`mck status --json` against its documented JSON Schema (mck/status.schema.json): every kind
of report the code can produce validates, broken documents do not, and the schema's lists of
clouds, encryption modes and states are the code's own."""

from __future__ import annotations

import copy
import json
import re
from importlib.resources import files
from pathlib import Path
from typing import Any, get_args

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from mck import cluster, node_status, versions
from mck.cluster import Probe
from mck.encryption import MODES
from mck.node_status import Member, Status
from mck.nodes import CLOUDS, Node
from mck.status import Report, node_statuses, problems, warnings_for

SCHEMA = json.loads(files("mck").joinpath("status.schema.json").read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=FormatChecker())
README = Path(__file__).resolve().parents[2] / "README.md"

DO0 = Node("mck-k8s-do-0", "digitalocean", "198.51.100.10", "198.18.0.10", "root", False, "d0")
DO1 = Node("mck-k8s-do-1", "digitalocean", "198.51.100.11", "198.18.0.11", "root", False, "d1")
AWS = Node("mck-k8s-aws-0", "aws", "203.0.113.10", "192.0.2.10", "admin", True, "a0")
LIN = Node("mck-k8s-linode-0", "linode", "198.51.100.12", None, "root", False, "l0")
LIN1 = Node("mck-k8s-linode-1", "linode", "198.51.100.13", None, "root", False, "l1")
DO2 = Node("mck-k8s-do-2", "digitalocean", "198.51.100.14", None, "root", False, "d2")
NODES = [DO0, DO1, AWS, LIN]
MESH = {n.name: f"10.77.0.{i}" for i, n in enumerate([*NODES, LIN1, DO2], start=1)}


def _members(*pairs: tuple[Node, str]) -> tuple[Member, ...]:
    return tuple(Member(MESH[n.name], role) for n, role in pairs)


def _report(probes: list[Probe], nodes: list[Node] = NODES, mode: str = "mesh") -> dict[str, Any]:
    mesh_ips = MESH if mode == "mesh" else {}
    plan = cluster.plan(probes, nat_ok=mode == "mesh")
    statuses = node_statuses(nodes, probes, mesh_ips)
    report = Report("mck-k8s", mode, statuses, problems(plan), warnings_for(statuses))
    doc: dict[str, Any] = json.loads(json.dumps(report.to_json()))  # as printed
    return doc


def _in(node: Node, members: tuple[Member, ...], state: str = "ready") -> Probe:
    return Probe(node, True, Status(state, members), None, MESH[node.name])  # type: ignore[arg-type]


FOUR = _members((DO0, "voter"), (DO1, "voter"), (AWS, "voter"), (LIN, "standby"))


def _healthy() -> dict[str, Any]:
    return _report([_in(n, FOUR) for n in NODES])


def _unreachable() -> dict[str, Any]:
    dead = Probe(LIN, False, None, "ssh: connect to host 198.51.100.12 port 22: timed out", None)
    return _report([*(_in(n, FOUR) for n in NODES[:3]), dead])


def _split() -> dict[str, Any]:
    a = _members((DO0, "voter"), (DO1, "voter"))
    b = _members((LIN, "voter"), (LIN1, "voter"))
    return _report([_in(DO0, a), _in(DO1, a), _in(LIN, b), _in(LIN1, b)], [DO0, DO1, LIN, LIN1])


def _mixed() -> dict[str, Any]:
    """Not installed, stopped, not ready, a worker: every state the probe reads."""
    local = (Member("127.0.0.1", "voter"),)
    return _report(
        [
            _in(DO0, local),
            Probe(DO1, True, Status("stopped", (), "microk8s is not running"), None, None),
            Probe(AWS, True, Status("not_installed"), None, None),
            Probe(LIN, True, Status("worker"), None, None),
        ],
        mode="none",
    )


def _one_cloud() -> dict[str, Any]:
    """Healthy, but every voter on DigitalOcean while the nodes span three clouds."""
    nodes = [DO0, DO1, DO2, AWS, LIN]
    roles = ["voter", "voter", "voter", "standby", "standby"]
    members = _members(*zip(nodes, roles, strict=True))
    return _report([_in(n, members) for n in nodes], nodes)


def _older_channel() -> dict[str, Any]:
    """Versions read, one node on an older channel than the project pins: a notice."""
    snaps = {n.name: versions.Snap("v1.36.0", "1.36/stable") for n in NODES}
    snaps[AWS.name] = versions.Snap("v1.32.9", "1.32/stable")
    probes = [_in(n, FOUR) for n in NODES]
    report = Report(
        "mck-k8s",
        "mesh",
        node_statuses(NODES, probes, MESH, snaps),
        problems(cluster.plan(probes, nat_ok=True)),
        notices=versions.notices(snaps, "1.36/stable"),
    )
    doc: dict[str, Any] = json.loads(json.dumps(report.to_json()))
    return doc


REPORTS = {
    "healthy": _healthy,
    "unreachable": _unreachable,
    "split": _split,
    "mixed": _mixed,
    "voters on one cloud": _one_cloud,
    "older channel": _older_channel,
}


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_every_kind_of_report_validates(name: str) -> None:
    doc = REPORTS[name]()
    errors = [e.message for e in VALIDATOR.iter_errors(doc)]
    assert errors == [], errors


def test_the_reports_are_the_cases_they_claim_to_be() -> None:
    assert _healthy()["healthy"] is True
    assert [n["state"] for n in _unreachable()["nodes"]][-1] == "unreachable"
    assert any("separate clusters" in p for p in _split()["problems"])
    older = _older_channel()
    assert older["healthy"] is True and len(older["notices"]) == 1
    assert older["nodes"][2]["version"] == "v1.32.9"
    assert older["nodes"][2]["channel"] == "1.32/stable"
    states = {n["state"] for n in _mixed()["nodes"]}
    assert states == {"ready", "stopped", "not_installed", "worker"}
    assert _healthy()["warnings"] == []
    assert [v["cloud"] for v in _healthy()["voters"]] == ["digitalocean", "digitalocean", "aws"]
    one_cloud = _one_cloud()
    assert one_cloud["healthy"] is True  # a warning, not a problem: exit 0
    assert {v["cloud"] for v in one_cloud["voters"]} == {"digitalocean"}
    assert len(one_cloud["warnings"]) == 1 and "on digitalocean" in one_cloud["warnings"][0]


def _broken() -> dict[str, Any]:
    breaks: dict[str, Any] = {}
    doc = _healthy()

    def mutate(label: str, change: Any) -> None:
        broken = copy.deepcopy(doc)
        change(broken)
        breaks[label] = broken

    mutate("future schema", lambda d: d.update(schema=3))
    mutate("schema 1", lambda d: d.update(schema=1))
    mutate("no voters", lambda d: d.pop("voters"))
    mutate("no warnings", lambda d: d.pop("warnings"))
    mutate("warning not a string", lambda d: d.update(warnings=[{"text": "x"}]))
    mutate("voter in an unknown cloud", lambda d: d["voters"][0].update(cloud="gcp"))
    mutate("voter without a cloud", lambda d: d["voters"][0].pop("cloud"))
    mutate("missing field", lambda d: d.pop("healthy"))
    mutate("extra field", lambda d: d.update(leader="mck-k8s-do-0"))
    mutate("unknown encryption", lambda d: d.update(encryption="ipsec"))
    mutate("problem not a string", lambda d: d.update(problems=[{"reason": "x"}]))
    mutate("unknown role", lambda d: d["nodes"][0].update(role="leader"))
    mutate("unknown cloud", lambda d: d["nodes"][0].update(cloud="gcp"))
    mutate("not an address", lambda d: d["nodes"][0].update(public_ip="999.1.2.3"))
    mutate("node field missing", lambda d: d["nodes"][0].pop("mesh_ip"))
    mutate("ready as a string", lambda d: d["nodes"][0].update(ready="yes"))
    unreachable = {"reachable": False, "state": "unreachable"}
    mutate("unreachable yet ready", lambda d: d["nodes"][0].update(unreachable))
    mutate("ready in a not-ready state", lambda d: d["nodes"][0].update(state="stopped"))
    return breaks


@pytest.mark.parametrize("label", sorted(_broken()))
def test_a_broken_document_is_rejected(label: str) -> None:
    assert not VALIDATOR.is_valid(_broken()[label]), label


def test_the_schema_is_valid_and_lists_what_the_code_produces() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    node = SCHEMA["$defs"]["node"]["properties"]
    assert node["cloud"] == {"$ref": "#/$defs/cloud"}
    assert set(SCHEMA["$defs"]["cloud"]["enum"]) == set(CLOUDS)
    assert set(SCHEMA["properties"]["encryption"]["enum"]) == set(MODES)
    assert set(node["state"]["enum"]) == {*get_args(node_status.State), "unreachable"}


def test_the_readme_example_validates() -> None:
    text = README.read_text(encoding="utf-8")
    example = re.search(r'^```\n(\{"schema": 2.*?)^```', text, re.MULTILINE | re.DOTALL)
    assert example, "README lost its `mck status --json` example"
    doc = json.loads(example.group(1))
    assert VALIDATOR.is_valid(doc), [e.message for e in VALIDATOR.iter_errors(doc)]
