"""`mck plan --json` against its documented JSON Schema (mck/plan.schema.json): every kind of
plan the code can produce validates, broken documents do not, the exit codes are the documented
ones, and the CLI prints the document, and nothing else, on stdout."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator, FormatChecker

from mck import addons, cli, plan_json, preview, versions
from mck.addons import AddonPlan
from mck.cluster import Probe, plan
from mck.encryption import MODES
from mck.node_status import Member, Status
from mck.nodes import Node, NodeChanges, PlannedNode
from mck.plan_json import PlanResult
from mck.scaledown import ScaleDown, plan_scale_down
from tests.ci_pipeline import pipeline_commands

SCHEMA = json.loads(files("mck").joinpath("plan.schema.json").read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=FormatChecker())
README = Path(__file__).resolve().parents[2] / "README.md"


def vm(i: int) -> Node:
    return Node(f"n-{i}", "digitalocean", f"198.51.100.{10 + i}", f"10.0.0.{i}", "root", False, "")


NODES = [vm(i) for i in range(4)]
MESH = {n.name: f"10.77.0.{i + 1}" for i, n in enumerate(NODES)}
PINNED = "1.36/stable"


def _cluster(count: int, *, dead: tuple[str, ...] = ()) -> list[Probe]:
    roles = ["voter", "voter", "voter", "standby"][:count]
    members = tuple(Member(MESH[n.name], r) for n, r in zip(NODES, roles, strict=False))
    return [
        Probe(n, False, None, "ssh: connect timed out", MESH[n.name])
        if n.name in dead
        else Probe(n, True, Status("ready", members), None, MESH[n.name])
        for n in NODES[:count]
    ]


def _stale() -> list[Probe]:
    """Three members, and the cluster also lists 10.77.0.9, which no node owns."""
    probes = _cluster(3)
    members = (*probes[0].status.members, Member("10.77.0.9", "standby"))  # type: ignore[union-attr]
    return [Probe(p.node, True, Status("ready", members), None, p.cluster_ip) for p in probes]


def _outside() -> list[Probe]:
    """Three members and n-3, whose microk8s was never installed (in no cluster)."""
    return [*_cluster(3), Probe(NODES[3], True, Status("not_installed"), None, None)]


def _alone() -> list[Probe]:
    """n-0 alone: a 1-node cluster, whose microk8s lists only itself on 127.0.0.1."""
    return [Probe(NODES[0], True, Status("ready", (Member("127.0.0.1", "voter"),)), None, None)]


def _planned(names: list[str]) -> list[PlannedNode]:
    return [PlannedNode(n, "digitalocean", False) for n in names]


def _result(
    changes: NodeChanges, after: list[str], probes: list[Probe] | None, **kwargs: Any
) -> PlanResult:
    now = plan(probes, nat_ok=True) if probes is not None else None
    leaving = set(changes.destroyed) | set(changes.replaced)
    sd = (
        plan_scale_down(probes, leaving, nat_ok=True, replaced=changes.replaced)
        if probes
        else ScaleDown()
    )
    shown = preview.build(changes, _planned(after), now, sd, nat_ok=True)
    infra = bool(changes.created or changes.destroyed or changes.replaced)
    fields: dict[str, Any] = {
        "cluster": "mck-k8s",
        "encryption": "mesh",
        "changes": changes,
        "infrastructure": infra,
        "shown": shown,
        "probed": probes is not None,
        "pinned": PINNED,
        "refusal": sd.refusal,
    }
    return PlanResult(**{**fields, **kwargs})


def _doc(result: PlanResult) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(json.dumps(result.to_json()))  # as printed
    return doc


ALL = ["n-0", "n-1", "n-2"]
PLANS = {
    "first run": lambda: _result(NodeChanges(created=tuple(ALL)), ALL, None),
    "no changes": lambda: _result(NodeChanges(), ALL, _cluster(3)),
    "grow": lambda: _result(NodeChanges(created=("n-3",)), [*ALL, "n-3"], _cluster(3)),
    "scale down": lambda: _result(NodeChanges(destroyed=("n-3",)), ALL, _cluster(4)),
    "dead member forced out": lambda: _result(
        NodeChanges(destroyed=("n-3",)), ALL, _cluster(4, dead=("n-3",))
    ),
    "quorum refusal": lambda: _result(NodeChanges(destroyed=("n-1", "n-2")), ["n-0"], _cluster(3)),
    "version skew": lambda: _result(
        NodeChanges(),
        ALL,
        _cluster(3),
        snaps={"n-0": versions.Snap("v1.36.0", PINNED), "n-1": versions.Snap("v1.35.2", "1.35")},
    ),
    "refused in preflight": lambda: PlanResult(refusal="/x is not an mck project: pass -C DIR"),
    "refused configuration": lambda: PlanResult(
        cluster="renamed",
        encryption="mesh",
        changes=NodeChanges(replaced=("renamed-do-0",)),
        infrastructure=True,
        refusal="this cluster was built with cluster_name 'mck-k8s', not 'renamed': …",
    ),
    "stale member": lambda: _result(NodeChanges(), ALL, _stale()),
    "outside node destroyed": lambda: _result(NodeChanges(destroyed=("n-3",)), ALL, _outside()),
    "only node moved": lambda: _result(
        NodeChanges(created=("n-1",), destroyed=("n-0",)), ["n-1"], _alone()
    ),
    "every node replaced": lambda: _result(NodeChanges(replaced=tuple(ALL)), ALL, _cluster(3)),
    "other resources only": lambda: _result(NodeChanges(), ALL, _cluster(3), infrastructure=True),
    "addons change": lambda: _result(
        NodeChanges(),
        ALL,
        _cluster(3),
        addons=AddonPlan(enable=addons.parse(["ingress"], PINNED), disable=["hostpath-storage"]),
    ),
    "addons not read": lambda: _result(NodeChanges(), ALL, _cluster(3), addons=None),
    "upgrade steps": lambda: _upgrade_steps(),
}


def _upgrade_steps() -> PlanResult:
    skewed = PLANS["version skew"]()
    assert skewed.shown is not None
    steps = ("n-1: 1.35/stable -> 1.36/stable (drain, refresh, uncordon)",)
    return dataclasses.replace(skewed, shown=dataclasses.replace(skewed.shown, upgrade=steps))


@pytest.mark.parametrize("name", sorted(PLANS))
def test_every_kind_of_plan_validates(name: str) -> None:
    doc = _doc(PLANS[name]())
    errors = [e.message for e in VALIDATOR.iter_errors(doc)]
    assert errors == [], errors


def test_the_plans_are_the_cases_they_claim_to_be() -> None:
    first = _doc(PLANS["first run"]())
    assert first["cluster_actions"] == [
        {"action": "bootstrap", "node": "n-0"},
        {"action": "join", "node": "n-1", "leader": "n-0"},
        {"action": "join", "node": "n-2", "leader": "n-0"},
    ]
    assert first["node_changes"][0] == {"node": "n-0", "change": "create"}
    assert first["outcome"] == "changes" and first["probed"] is False
    none = _doc(PLANS["no changes"]())
    assert none["outcome"] == "no-changes" and none["cluster_actions"] == []
    grow = _doc(PLANS["grow"]())
    assert grow["cluster_actions"] == [{"action": "join", "node": "n-3", "leader": "n-0"}]
    down = _doc(PLANS["scale down"]())
    assert down["cluster_actions"] == [
        {"action": "remove", "node": "n-3", "address": "10.77.0.4", "graceful": True, "via": "n-0"}
    ]
    assert _doc(PLANS["dead member forced out"]())["cluster_actions"][0]["graceful"] is False
    refused = _doc(PLANS["quorum refusal"]())
    assert refused["outcome"] == "refused"
    assert refused["refusals"][0].startswith("refusing to remove n-1, n-2: 1 of the cluster's 3")
    skew = _doc(PLANS["version skew"]())
    assert skew["version_skew"] == [{"node": "n-1", "version": "v1.35.2", "channel": "1.35"}]
    assert skew["outcome"] == "no-changes"  # a running node is never refreshed: not a change
    early = _doc(PLANS["refused in preflight"]())
    assert early["cluster"] is None and early["node_changes"] == [] and early["probed"] is False
    assert _doc(PLANS["other resources only"]())["outcome"] == "changes"
    assert _doc(PLANS["stale member"]())["cluster_actions"] == [
        {"action": "remove-stale", "address": "10.77.0.9", "via": "n-0"}
    ]
    assert _doc(PLANS["outside node destroyed"]())["cluster_actions"] == [
        {"action": "destroy-outside", "node": "n-3"}
    ]
    # Addons: a change a converge makes, so a pipeline sees "changes"; unread is not "none".
    changed = _doc(PLANS["addons change"]())
    assert changed["addon_changes"] == [
        {"addon": "ingress", "change": "enable"},
        {"addon": "hostpath-storage", "change": "disable"},
    ]
    assert changed["outcome"] == "changes" and changed["addons_read"] is True
    unread = _doc(PLANS["addons not read"]())
    assert unread["addons_read"] is False and unread["addon_changes"] == []
    assert none["addons_read"] is True and none["addon_changes"] == []
    # `mck upgrade`'s steps are shown, but a converge does not take them: not a change.
    upgrade = _doc(PLANS["upgrade steps"]())
    assert upgrade["upgrade_steps"] == [
        "n-1: 1.35/stable -> 1.36/stable (drain, refresh, uncordon)"
    ]
    assert upgrade["outcome"] == "no-changes" and none["upgrade_steps"] == []
    moved = _doc(PLANS["only node moved"]())
    assert moved["outcome"] == "refused"
    assert moved["refusals"][0].startswith("refusing to destroy n-0: it is the only node of the")
    replaced = _doc(PLANS["every node replaced"]())
    assert replaced["outcome"] == "refused"
    assert replaced["refusals"][0].startswith("refusing to replace n-0, n-1, n-2: they are every")


@pytest.mark.parametrize(
    ("name", "plain", "detailed"),
    [
        ("no changes", 0, 0),
        ("version skew", 0, 0),
        ("grow", 0, 4),
        ("scale down", 0, 4),
        ("first run", 0, 4),
        ("other resources only", 0, 4),
        ("stale member", 0, 4),
        ("addons change", 0, 4),
        ("addons not read", 0, 0),
        ("upgrade steps", 0, 0),
        ("quorum refusal", 2, 2),
        ("only node moved", 2, 2),
        ("every node replaced", 2, 2),
        ("refused configuration", 2, 2),
        ("refused in preflight", 2, 2),
    ],
)
def test_exit_codes(name: str, plain: int, detailed: int) -> None:
    result = PLANS[name]()
    assert result.exit_code(detailed=False) == plain
    assert result.exit_code(detailed=True) == detailed


def _broken() -> dict[str, Any]:
    breaks: dict[str, Any] = {}
    doc = _doc(PLANS["scale down"]())

    def mutate(label: str, change: Any) -> None:
        broken = copy.deepcopy(doc)
        change(broken)
        breaks[label] = broken

    mutate("future schema", lambda d: d.update(schema=3))
    mutate(
        "unknown addon change", lambda d: d["addon_changes"].append({"addon": "x", "change": "x"})
    )
    mutate("upgrade step not a string", lambda d: d["upgrade_steps"].append({"node": "n-1"}))
    mutate("unknown outcome", lambda d: d.update(outcome="maybe"))
    mutate("missing field", lambda d: d.pop("cluster_actions"))
    mutate("extra field", lambda d: d.update(leader="n-0"))
    mutate("unknown encryption", lambda d: d.update(encryption="ipsec"))
    mutate("unknown node change", lambda d: d["node_changes"].append({"node": "x", "change": "x"}))
    mutate("unknown action", lambda d: d["cluster_actions"].append({"action": "reboot"}))
    mutate("remove without address", lambda d: d["cluster_actions"][0].pop("address"))
    mutate("not an address", lambda d: d["cluster_actions"][0].update(address="999.1.2.3"))
    mutate("join without leader", lambda d: d["cluster_actions"].append({"action": "join"}))
    mutate("two refusals", lambda d: d.update(refusals=["a", "b"]))
    mutate("refusal not a string", lambda d: d.update(refusals=[{"reason": "x"}]))
    mutate(
        "skew without channel", lambda d: d["version_skew"].append({"node": "n", "version": "v"})
    )
    return breaks


@pytest.mark.parametrize("label", sorted(_broken()))
def test_a_broken_document_is_rejected(label: str) -> None:
    assert not VALIDATOR.is_valid(_broken()[label]), label


def test_the_schema_is_valid_and_lists_what_the_code_produces() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["schema"]["const"] == plan_json.SCHEMA
    assert set(SCHEMA["properties"]["encryption"]["enum"]) == {*MODES, None}
    kinds = {
        ref["$ref"].rsplit("/", 1)[1]
        for ref in SCHEMA["properties"]["cluster_actions"]["items"]["oneOf"]
    }
    produced = {
        a["action"].replace("-", "_") for p in PLANS.values() for a in _doc(p())["cluster_actions"]
    }
    assert produced == kinds  # every kind is produced by some plan above, and documented
    required = set(SCHEMA["required"])
    assert required == set(_doc(PLANS["grow"]()))


def _cli(monkeypatch: pytest.MonkeyPatch, result: PlanResult, *args: str) -> Any:
    import mck.converge

    monkeypatch.setattr(mck.converge, "show_plan", lambda settings, ui: result)
    return CliRunner().invoke(cli.main, ["plan", *args])


@pytest.mark.parametrize(
    ("name", "args", "code"),
    [
        ("grow", ("--json",), 0),
        ("grow", ("--json", "--detailed-exitcode"), 4),
        ("no changes", ("--json", "--detailed-exitcode"), 0),
        ("quorum refusal", ("--json",), 2),
    ],
)
def test_the_cli_prints_one_document_on_stdout_and_exits_as_documented(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, args: tuple[str, ...], code: int
) -> None:
    monkeypatch.chdir(tmp_path)
    result = PLANS[name]()
    run = _cli(monkeypatch, result, *args)
    assert run.exit_code == code, run.output
    assert json.loads(run.stdout) == _doc(result)


def test_without_json_stdout_stays_empty(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    run = _cli(monkeypatch, PLANS["grow"](), "--detailed-exitcode")
    assert run.exit_code == 4 and run.stdout == ""


def test_a_refusal_before_the_plan_is_a_document_and_exit_2(tmp_path: Path) -> None:
    run = CliRunner().invoke(cli.main, ["-C", str(tmp_path), "plan", "--json"])
    assert run.exit_code == 2
    doc = json.loads(run.stdout)
    assert VALIDATOR.is_valid(doc) and doc["outcome"] == "refused"
    assert "is not an mck project" in doc["refusals"][0]
    assert run.stderr.strip().splitlines()[-1] == f"error: {doc['refusals'][0]}"
    assert list(tmp_path.iterdir()) == []


def test_destroy_with_stdin_closed_refuses_in_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "mck", "-C", str(tmp_path), "--destroy"],
        stdin=None,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=lambda: __import__("os").close(0),
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: refusing to destroy without confirmation: no terminal to ask on; pass --yes"
    ]


def test_the_readme_pipeline_is_plan_json_on_pull_requests_and_converge_yes_on_main() -> None:
    assert pipeline_commands() == {
        "plan": ["plan", "--json", "--detailed-exitcode"],
        "converge": ["--yes"],
    }
    text = README.read_text(encoding="utf-8")
    assert re.search(r"^\| 4 \| `mck plan --detailed-exitcode` only", text, re.M)
