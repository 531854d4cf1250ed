from __future__ import annotations

import json

from mck.cluster import ClusterPlan, Join, Probe, Problem
from mck.node_status import Member, Status
from mck.nodes import Node
from mck.status import Report, node_statuses, problems, render_table, voters_line, warnings_for

DO = Node("mck-k8s-do-0", "digitalocean", "198.51.100.10", "198.18.0.10", "root", False, "d")
AWS = Node("mck-k8s-aws-0", "aws", "203.0.113.10", "192.0.2.10", "admin", True, "a")
LIN = Node("mck-k8s-linode-0", "linode", "198.51.100.11", None, "root", False, "l")
MESH = {DO.name: "10.77.0.1", AWS.name: "10.77.0.2", LIN.name: "10.77.0.3"}
TWO = (Member("10.77.0.1", "voter"), Member("10.77.0.2", "spare"))


def _probes() -> list[Probe]:
    return [
        Probe(DO, True, Status("ready", TWO), None, "10.77.0.1"),
        Probe(AWS, True, Status("ready", TWO), None, "10.77.0.2"),
        Probe(LIN, False, None, "ssh: connect to host 198.51.100.11 port 22: timed out", None),
    ]


def test_node_statuses_say_role_readiness_and_why_not() -> None:
    do, aws, lin = node_statuses([DO, AWS, LIN], _probes(), MESH)
    assert (do.role, do.ready, do.state, do.mesh_ip) == ("voter", True, "ready", "10.77.0.1")
    assert (aws.role, aws.nat, aws.ready) == ("spare", True, True)
    assert (lin.reachable, lin.ready, lin.role, lin.state) == (False, False, None, "unreachable")
    assert lin.message == "ssh: connect to host 198.51.100.11 port 22: timed out"


def test_table_has_one_row_per_node() -> None:
    text = render_table(node_statuses([DO, AWS, LIN], _probes(), MESH))
    lines = text.splitlines()
    assert lines[0].split() == ["NODE", "CLOUD", "ADDRESS", "MESH", "ROLE", "READY", "VERSION"]
    assert lines[1].split() == ["mck-k8s-do-0", "digitalocean", "198.51.100.10", "10.77.0.1",
                                "voter", "yes", "-"]  # fmt: skip
    assert lines[2].split()[2:4] == ["203.0.113.10", "(NAT)"]
    assert lines[3].split()[-3:] == ["-", "unreachable", "-"]


def test_problems_include_orphans_waiting_for_a_join() -> None:
    plan = ClusterPlan(
        leader=DO,
        joins=(Join(LIN, DO, "10.77.0.1"),),
        problems=(Problem(AWS, "mck-k8s-aws-0 is not ready: starting"),),
    )
    assert problems(plan) == (
        "mck-k8s-aws-0 is not ready: starting",
        "mck-k8s-linode-0 is not in the cluster yet: run mck to join it to mck-k8s-do-0",
    )


def test_problems_include_stale_members() -> None:
    plan = ClusterPlan(leader=DO, clusters=((DO, AWS),), stale=("10.77.0.9",))
    assert problems(plan) == (
        "the cluster lists 10.77.0.9, which belongs to no node in the state (stale): run mck "
        "to remove it",
    )


def test_json_report_is_healthy_only_without_problems_and_with_every_node_ready() -> None:
    statuses = node_statuses([DO, AWS], _probes()[:2], MESH)
    report = Report("mck-k8s", "mesh", statuses, ())
    doc = json.loads(json.dumps(report.to_json()))
    assert doc["schema"] == 2 and doc["healthy"] is True
    assert [n["name"] for n in doc["nodes"]] == ["mck-k8s-do-0", "mck-k8s-aws-0"]
    assert Report("mck-k8s", "mesh", statuses, ("x",)).healthy is False
    dead = node_statuses([LIN], _probes()[2:], MESH)
    assert Report("mck-k8s", "mesh", dead, ()).healthy is False


def _voters(*nodes: Node) -> list[Probe]:
    members = tuple(Member(MESH[n.name], "voter") for n in nodes)
    return [Probe(n, True, Status("ready", members), None, MESH[n.name]) for n in nodes]


def test_the_voters_line_names_each_voter_with_its_cloud() -> None:
    statuses = node_statuses([DO, AWS, LIN], _probes(), MESH)
    assert voters_line(statuses) == "voters: mck-k8s-do-0 (digitalocean)"
    statuses = node_statuses([DO, AWS, LIN], _voters(DO, AWS, LIN), MESH)
    assert voters_line(statuses) == (
        "voters: mck-k8s-do-0 (digitalocean), mck-k8s-aws-0 (aws), mck-k8s-linode-0 (linode)"
    )
    assert warnings_for(statuses) == ()
    assert voters_line(node_statuses([LIN], _probes()[2:], MESH)) == "voters: none found"


def test_voters_sharing_one_cloud_while_nodes_span_several_is_a_warning_not_a_problem() -> None:
    do1 = Node("mck-k8s-do-1", "digitalocean", "198.51.100.12", None, "root", False, "d1")
    do2 = Node("mck-k8s-do-2", "digitalocean", "198.51.100.13", None, "root", False, "d2")
    mesh = {**MESH, do1.name: "10.77.0.4", do2.name: "10.77.0.5"}
    members = tuple(Member(mesh[n.name], "voter") for n in (DO, do1, do2))
    members += (Member(mesh[LIN.name], "standby"),)
    probes = [
        Probe(n, True, Status("ready", members), None, mesh[n.name]) for n in (DO, do1, do2, LIN)
    ]
    statuses = node_statuses([DO, do1, do2, LIN], probes, mesh)

    (warning,) = warnings_for(statuses)

    assert "every datastore voter (mck-k8s-do-0, mck-k8s-do-1, mck-k8s-do-2) is on" in warning
    report = Report("mck-k8s", "mesh", statuses, (), (warning,))
    assert report.healthy and report.to_json()["warnings"] == [warning]
