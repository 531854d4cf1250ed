"""CI mode on the lab: the README's pipeline (`mck plan --json --detailed-exitcode` on a pull
request, `mck --yes` on the main branch), run as written, on one module-scoped 1-node cluster.

Every `mck plan --json` document is validated against mck/plan.schema.json; stdout holds that
document and nothing else. Steps in order: first plan (bootstrap) → converge with --yes → no
changes → a grow → a scale-down (to no node: refused) → moving the only node to another cloud
(refused: it is the whole cluster) → a refusal of the configuration (a changed cluster_name) →
`--destroy` without a terminal or --yes refuses.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from tests.ci_pipeline import pipeline_commands
from tests.e2e.harness import Project, Run

pytestmark = pytest.mark.lab

SCHEMA = json.loads(files("mck").joinpath("plan.schema.json").read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=FormatChecker())
COMMANDS = pipeline_commands()
D0, D1, L0 = "mck-k8s-do-0", "mck-k8s-do-1", "mck-k8s-linode-0"


@pytest.fixture(scope="module")
def project(make_project: Any) -> Project:
    project: Project = make_project(digitalocean=1, linode=0)
    return project


def _plan(project: Project, rc: int) -> dict[str, Any]:
    run = project.mck(*COMMANDS["plan"])
    assert run.rc == rc, run.explain()
    doc: dict[str, Any] = json.loads(run.stdout)  # the whole of stdout is one document
    errors = [e.message for e in VALIDATOR.iter_errors(doc)]
    assert errors == [], errors
    return doc


def _files(project: Project) -> tuple[bytes, bytes]:
    return (project.path / "terraform.tfstate").read_bytes(), (
        project.path / "inventory"
    ).read_bytes()


def test_the_readme_pipeline_is_plan_json_then_converge_yes() -> None:
    assert COMMANDS == {"plan": ["plan", "--json", "--detailed-exitcode"], "converge": ["--yes"]}


def test_a_first_plan_bootstraps_and_exits_4(project: Project) -> None:
    doc = _plan(project, 4)
    assert doc["outcome"] == "changes" and doc["probed"] is False
    assert doc["node_changes"] == [{"node": D0, "change": "create"}]
    assert doc["cluster_actions"] == [{"action": "bootstrap", "node": D0}]


def test_converge_with_yes_asks_nothing_then_plan_has_no_changes(project: Project) -> None:
    run: Run = project.mck(*COMMANDS["converge"])  # stdin is /dev/null: a prompt would fail
    assert run.rc == 0, run.explain()
    assert run.stdout == ""
    doc = _plan(project, 0)
    assert doc["outcome"] == "no-changes" and doc["probed"] is True, doc
    assert doc["node_changes"] == [] and doc["cluster_actions"] == [] and doc["refusals"] == []
    assert doc["infrastructure_changes"] is False
    assert doc["version_skew"] == [] and doc["pinned_channel"] == "1.36/stable"


def test_a_grow_is_changes_pending(project: Project) -> None:
    project.set_counts(digitalocean=2, linode=0)
    before = _files(project)
    doc = _plan(project, 4)
    assert doc["outcome"] == "changes"
    assert doc["node_changes"] == [{"node": D1, "change": "create"}]
    assert doc["cluster_actions"] == [{"action": "join", "node": D1, "leader": D0}]
    # Plain `mck plan` keeps its exit code: 0 when mck would go ahead.
    assert (plain := project.mck("plan")).rc == 0, plain.explain()
    assert plain.stdout == "" and f"  join {D1} to {D0}" in plain.stderr
    assert _files(project) == before


def test_a_scale_down_to_no_node_is_refused(project: Project) -> None:
    # One node is the whole cluster: the only scale-down is to none, which mck refuses
    # (--destroy is the way); a scale-down that removes members is in the unit tests.
    project.set_counts(digitalocean=0, linode=0)
    before = _files(project)
    doc = _plan(project, 2)
    assert doc["outcome"] == "refused"
    assert doc["node_changes"] == [{"node": D0, "change": "destroy"}]
    assert doc["infrastructure_changes"] is True and doc["cluster_actions"] == []
    (refusal,) = doc["refusals"]
    assert refusal.startswith("the configuration has no nodes"), refusal
    assert _files(project) == before


def test_moving_the_only_node_to_another_cloud_is_refused(project: Project) -> None:
    # One change that destroys the only node and creates one elsewhere would lose the cluster's
    # datastore and bootstrap an empty one: refused by the plan and by the converge, before any
    # apply (the refusal comes from the probe of today's nodes, mck/scaledown.py).
    project.set_counts(digitalocean=0, linode=1)
    before, vms = _files(project), sorted(h.name for h in project.lab.hosts())
    doc = _plan(project, 2)
    assert doc["outcome"] == "refused" and doc["probed"] is True
    assert doc["node_changes"] == [
        {"node": L0, "change": "create"},
        {"node": D0, "change": "destroy"},
    ]
    (refusal,) = doc["refusals"]
    assert refusal.startswith(f"refusing to destroy {D0}: it is the only node of the running"), (
        refusal
    )
    run = project.mck(*COMMANDS["converge"])
    assert run.rc == 2, run.explain()
    assert f"error: {refusal}" in run.stderr.splitlines()  # the line the plan printed
    assert _files(project) == before
    assert sorted(h.name for h in project.lab.hosts()) == vms and D0 in vms and L0 not in vms
    project.set_counts(digitalocean=1, linode=0)


def test_a_refused_configuration_is_a_document_too(project: Project) -> None:
    project.set_counts({"cluster_name": '"renamed"'}, digitalocean=1, linode=0)
    run = project.mck(*COMMANDS["plan"])
    assert run.rc == 2, run.explain()
    doc = json.loads(run.stdout)
    assert VALIDATOR.is_valid(doc), [e.message for e in VALIDATOR.iter_errors(doc)]
    assert doc["outcome"] == "refused" and doc["cluster"] == "renamed"
    (refusal,) = doc["refusals"]
    assert refusal.startswith("this cluster was built with cluster_name 'mck-k8s'"), refusal
    assert f"error: {refusal}" in run.stderr  # the same line a person sees
    project.set_counts(digitalocean=1, linode=0)


def test_destroy_without_a_terminal_or_yes_refuses_in_one_line(project: Project) -> None:
    run = project.mck("--destroy")
    assert run.rc == 2, run.explain()
    assert run.stderr.strip().splitlines()[-1] == (
        "error: refusing to destroy without confirmation: no terminal to ask on; pass --yes"
    )
    assert (project.path / "inventory").exists()
    assert _plan(project, 0)["outcome"] == "no-changes"
