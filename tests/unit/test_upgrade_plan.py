"""`mck upgrade`'s plan (mck/upgrade_plan.py): pure, from probes as `microk8s status` reports
them on the mesh and each node's `snap list microk8s`."""

from __future__ import annotations

from mck.cluster import Probe
from mck.node_status import Member, Status
from mck.nodes import Node
from mck.upgrade_plan import minor_of_channel, minor_of_version, plan_upgrade
from mck.versions import Snap


def vm(name: str, octet: int) -> Node:
    return Node(name, "digitalocean", f"198.51.100.{octet}", None, "root", False, name)


NODES = [vm(f"n-{i}", 10 + i) for i in range(4)]
MESH = {n.name: f"10.77.0.{i + 1}" for i, n in enumerate(NODES)}
ROLES = ["voter", "voter", "voter", "standby"]


def probes(*, dead: str | None = None, state: str = "ready") -> list[Probe]:
    members = tuple(Member(MESH[n.name], r) for n, r in zip(NODES, ROLES, strict=True))
    out = []
    for n in NODES:
        if n.name == dead:
            out.append(Probe(n, False, None, "ssh: connect timed out", MESH[n.name]))
        else:
            out.append(Probe(n, True, Status(state, members), None, MESH[n.name]))  # type: ignore[arg-type]
    return out


def snaps(*versions: str) -> dict[str, Snap]:
    return {
        n.name: Snap(v, f"{v[1:].rsplit('.', 1)[0]}/stable")
        for n, v in zip(NODES, versions, strict=True)
    }


def test_minors_from_versions_and_channels() -> None:
    assert minor_of_version("v1.35.0") == (1, 35)
    assert minor_of_version("v1.9.12-3+abc") == (1, 9)
    assert minor_of_channel("1.36/stable") == (1, 36)
    assert minor_of_channel("1.36") == (1, 36)
    assert minor_of_channel("latest/edge") is None


def test_standby_first_then_voters_the_leader_last() -> None:
    plan = plan_upgrade(probes(), snaps(*["v1.35.0"] * 4), "1.36/stable", leader_ip=MESH["n-0"])
    assert plan.refusal is None
    assert [n.name for n in plan.steps] == ["n-3", "n-1", "n-2", "n-0"]


def test_nodes_already_on_the_target_are_skipped_so_a_second_run_resumes() -> None:
    plan = plan_upgrade(
        probes(),
        snaps("v1.35.0", "v1.35.0", "v1.35.0", "v1.36.0"),
        "1.36/stable",
        leader_ip=MESH["n-2"],
    )
    assert plan.current == ("n-3",)
    assert [n.name for n in plan.steps] == ["n-0", "n-1", "n-2"]
    done = plan_upgrade(probes(), snaps(*["v1.36.0"] * 4), "1.36/stable", leader_ip=None)
    assert done.refusal is None and done.steps == ()


def test_a_jump_of_two_minors_is_refused_with_the_channels_to_follow() -> None:
    plan = plan_upgrade(
        probes(), snaps("v1.34.1", "v1.35.0", "v1.35.0", "v1.35.0"), "1.36/stable", leader_ip=None
    )
    assert plan.steps == ()
    assert plan.refusal == (
        "refusing to upgrade to 1.36/stable: n-0 runs 1.34, and microk8s upgrades one Kubernetes"
        " minor at a time; pin each of 1.35/stable, 1.36/stable in turn in"
        " roles/microk8s/defaults/main.yml and run `mck upgrade` after each"
    )


def test_a_downgrade_is_refused() -> None:
    plan = plan_upgrade(probes(), snaps(*["v1.36.0"] * 4), "1.35/stable", leader_ip=None)
    assert plan.refusal is not None and "not downgraded" in plan.refusal


def test_an_unreachable_or_unready_node_is_refused_before_anything() -> None:
    down = plan_upgrade(probes(dead="n-2"), snaps(*["v1.35.0"] * 4), "1.36/stable", leader_ip=None)
    assert down.refusal is not None
    assert down.refusal.startswith("refusing to upgrade: n-2 does not answer (ssh: connect")
    unready = plan_upgrade(
        probes(state="not_ready"), snaps(*["v1.35.0"] * 4), "1.36/stable", leader_ip=None
    )
    assert unready.refusal == (
        "refusing to upgrade: n-0 is not ready; fix it first (see `mck status`)"
    )


def test_too_few_voters_is_refused() -> None:
    global ROLES
    saved = ROLES
    ROLES = ["voter", "standby", "standby", "standby"]
    try:
        plan = plan_upgrade(probes(), snaps(*["v1.35.0"] * 4), "1.36/stable", leader_ip=None)
    finally:
        ROLES = saved
    assert plan.refusal is not None and "1 voter(s) for 4 members" in plan.refusal


def test_a_channel_without_a_minor_is_refused() -> None:
    plan = plan_upgrade(probes(), snaps(*["v1.35.0"] * 4), "latest/stable", leader_ip=None)
    assert plan.refusal is not None and "names no Kubernetes minor" in plan.refusal


def test_the_plan_section_lists_the_upgrade_steps() -> None:
    from mck import preview
    from mck.nodes import NodeChanges
    from mck.scaledown import ScaleDown

    shown = preview.build(
        NodeChanges(), [], None, ScaleDown(), nat_ok=True, upgrade=("1. n-3 (v1.35.0 …)",)
    )
    lines = preview.lines(shown)
    header = lines.index(
        "upgrade steps (`mck upgrade`, one node at a time; a converge upgrades nothing):"
    )
    assert lines[header + 1] == "  1. n-3 (v1.35.0 …)"
    assert "upgrade steps" not in "\n".join(
        preview.lines(preview.build(NodeChanges(), [], None, ScaleDown(), nat_ok=True))
    )
