"""The foundation, end to end on the lab: converge, re-converge, grow, destroy.

The scenarios share one project and run in order (each builds on the cluster the previous one
left), which keeps the tier lean: one fresh cluster for the whole file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

import mck
from mck import mesh
from tests.e2e.harness import Project, recap

pytestmark = pytest.mark.lab

SCHEMA = (Path(mck.__file__).parent / "status.schema.json").read_text()
validator = Draft202012Validator(json.loads(SCHEMA), format_checker=FormatChecker())


@pytest.fixture(scope="module")
def project(make_project: Any) -> Project:
    project: Project = make_project(digitalocean=2, linode=1)
    return project


def _members(project: Project, node: str) -> list[tuple[str, str]]:
    """(address, role) pairs the microk8s stand-in on `node` reports."""
    status = project.lab.host(node).run(["/snap/bin/microk8s", "status", "--format", "yaml"]).stdout
    return re.findall(r"address: ([\d.]+):19001\s+role: (\w+)", status)


NAMES = ["mck-k8s-do-0", "mck-k8s-do-1", "mck-k8s-linode-0"]


def test_fresh_converge_forms_one_cluster_of_three_voters(project: Project) -> None:
    run = project.mck()
    assert run.rc == 0, run.explain()
    assert "no node has peers: bootstrapping the cluster on mck-k8s-do-0" in run.stderr
    for name in NAMES:
        host = project.lab.host(name)
        assert f"instance {name} is provisioned on" in run.stderr
        members = _members(project, name)
        assert sorted(role for _, role in members) == ["voter", "voter", "voter"], members
        hosts_file = host.read_file("/etc/hosts")
        mesh_ips = mesh.previous_from_inventory(project.inventory())
        for other in NAMES:
            ip = mesh_ips[other]  # nodes are named by their WireGuard mesh address
            assert re.search(rf"^{re.escape(ip)}\s+{other}\b", hosts_file, re.MULTILINE), hosts_file
    assert "ansible-playbook main.yml -i inventory" in run.stderr
    row = r"mck-k8s-linode-0\s+linode\s+198\.51\.100\.\d+\s+10\.77\.0\.\d+\s+voter\s+yes"
    assert re.search(row, run.stderr), run.stderr
    # Not a terminal: plain lines, one per finished task, never an escape code or a rewrite.
    assert re.search(r"^  \[configure\] microk8s : .*: changed on mck-k8s-do-0", run.stderr, re.M)
    assert "\033" not in run.stderr and "\r" not in run.stderr


def test_every_run_leaves_a_redacted_debug_log(project: Project) -> None:
    (log,) = project.logs()
    assert log.name.endswith("-converge.log") and log.stat().st_mode & 0o077 == 0
    text = log.read_text()
    # Everything shown, and more: commands, ansible's whole output, phase timings.
    assert "no node has peers: bootstrapping the cluster on mck-k8s-do-0" in text
    assert re.search(r"^\$ \S+/terraform apply ", text, re.M), text[:2000]
    assert re.search(r"^\$ \S*ansible-playbook .*main\.yml", text, re.M), text
    assert "TASK [microk8s : " in text and "PLAY RECAP" in text
    for phase in (
        "preflight",
        "plan",
        "provision",
        "state",
        "inventory",
        "configure",
        "probe",
        "act",
        "report",
    ):
        assert re.search(rf"^phase {phase} done \d+\.\d\ds$", text, re.M), phase
    assert text.rstrip().endswith("exit 0")
    # No credential: the TF_VAR_ tokens the providers were given are masked.
    for name, value in project.env.items():
        if name.startswith("TF_VAR_"):
            assert value not in text, name


def test_inventory_drives_ansible_playbook_by_hand(project: Project) -> None:
    inventory = project.inventory()
    for name in NAMES:
        assert name in inventory
    assert "token" not in inventory.lower()
    run = project.run(["ansible-playbook", "main.yml", "-i", "inventory"])
    assert run.rc == 0, run.explain()
    assert set(recap(run.stdout)) == set(NAMES)


def test_second_converge_changes_nothing(project: Project) -> None:
    run = project.mck()
    assert run.rc == 0, run.explain()
    assert "==> provision: no changes" in run.stderr
    counts = recap(run.stderr)
    assert set(counts) == set(NAMES), run.stderr
    assert all(c["changed"] == 0 for c in counts.values()), counts
    assert "will join" not in run.stderr
    # The probe was the readiness wait's output: no probe playbook of its own.
    assert "==> probe: microk8s status of every node, from its readiness wait" in run.stderr
    assert "probe.yml" not in _newest_log(project)
    # Nothing changed and nothing drifted: the nodes came from the state the plan read, and
    # no `show -json` started the providers again for their schemas.
    assert "==> state: the state the plan read (nothing was applied)" in run.stderr
    assert " show -json" not in _newest_log(project)


def test_drift_alone_is_saved_and_its_addresses_used(project: Project) -> None:
    # The stored state says a droplet has an address it no longer has (as after a NAT'd VM's
    # stop/start): the plan changes nothing, and its human output says so, but the refresh saw
    # the real address. The converge must configure the node there, and save it.
    statefile = project.path / "terraform.tfstate"
    real = _stored_ip(statefile, "digitalocean_droplet", 1)
    state = json.loads(statefile.read_text())
    for resource in state["resources"]:
        if resource["type"] == "digitalocean_droplet":
            resource["instances"][1]["attributes"]["ipv4_address"] = "203.0.113.99"
    state["serial"] += 1
    statefile.write_text(json.dumps(state))

    run = project.mck()
    assert run.rc == 0, run.explain()
    assert "digitalocean_droplet.node[1]: Drift detected (update)" in run.stderr
    assert (
        "==> provision: no changes; saving the state refresh found changed: "
        "digitalocean_droplet.node[1]"
    ) in run.stderr
    assert f"instance mck-k8s-do-1 is provisioned on digitalocean with address {real}" in (
        run.stderr
    )
    assert f"mck-k8s-do-1 ansible_host={real} " in project.inventory()
    assert _stored_ip(statefile, "digitalocean_droplet", 1) == real


def _stored_ip(statefile: Path, kind: str, index: int) -> str:
    state = json.loads(statefile.read_text())
    (resource,) = [r for r in state["resources"] if r["type"] == kind]
    return str(resource["instances"][index]["attributes"]["ipv4_address"])


def test_a_main_yml_without_the_readiness_wait_is_probed_on_its_own(project: Project) -> None:
    tasks = project.path / "roles" / "microk8s" / "tasks" / "main.yml"
    original = tasks.read_text()
    tasks.write_text(original.replace("Wait until microk8s is ready", "Wait for microk8s"))
    try:
        run = project.mck()
    finally:
        tasks.write_text(original)
    assert run.rc == 0, run.explain()
    assert "==> probe: microk8s status of every node\n" in run.stderr
    assert "probe.yml" in _newest_log(project)
    assert "will join" not in run.stderr


def _newest_log(project: Project) -> str:
    return project.logs()[-1].read_text()


# What a member costs when other nodes join (remote commands, counted in its sshd log): the no-op
# converge's six (one state read per role, microk8s' installed check and readiness wait), one
# write of each file that lists the nodes (/etc/hosts, the WireGuard config), applying the new
# peers to wg0, and the probe after the joins. Nothing is restarted or reloaded.
GROW_COMMANDS_PER_MEMBER = 10


def test_growing_creates_only_the_new_vms_and_joins_them(project: Project) -> None:
    project.set_counts(digitalocean=3, linode=2)
    before = project.remote_commands()
    run = project.mck()
    assert run.rc == 0, run.explain()
    # The members that stay members: each changed its two node lists and wg0's peers, no more,
    # for at most GROW_COMMANDS_PER_MEMBER remote commands. (The leader, mck-k8s-do-0, also
    # reads Calico's setting and registers each join's token.)
    stayed = ["mck-k8s-do-1", "mck-k8s-linode-0"]
    changed = {name: recap(run.stderr)[name]["changed"] for name in stayed}
    assert changed == dict.fromkeys(stayed, 3), changed
    spent = {name: project.remote_commands()[name] - before[name] for name in stayed}
    assert all(n <= GROW_COMMANDS_PER_MEMBER for n in spent.values()), spent
    # Calico's setting, read again after the joins in the probe's run, is still in place: no
    # ansible run to set it.
    assert "making Calico use the mesh interface" not in run.stderr
    assert re.search(r"==> provision: create mck-k8s-do-2, mck-k8s-linode-1$", run.stderr, re.M)
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in run.stderr
    assert "existing cluster found with candidate leader mck-k8s-do-0" in run.stderr
    for new in ("mck-k8s-do-2", "mck-k8s-linode-1"):
        assert f"orphan node {new} will join mck-k8s-do-0" in run.stderr
    # Join tokens are 32 hex characters: none may reach the output, nor any debug log.
    assert not re.search(r"\b[0-9a-f]{32}\b", run.output), "a join token leaked"
    for log in project.logs():
        assert not re.search(r"\b[0-9a-f]{32}\b", log.read_text()), f"a join token leaked: {log}"
    members = _members(project, "mck-k8s-linode-1")
    assert len(members) == 5, members
    assert sorted(role for _, role in members) == ["standby", "standby", "voter", "voter", "voter"]


def test_status_reports_every_node_as_json_and_a_dead_one_fails_it(project: Project) -> None:
    run = project.mck("status", "--json")
    assert run.rc == 0, run.explain()
    report = json.loads(run.stdout)
    validator.validate(report)  # mck/status.schema.json, the documented format
    assert report["schema"] == 2 and report["healthy"] is True and report["problems"] == []
    assert report["cluster"] == "mck-k8s" and report["encryption"] == "mesh"
    nodes = {n["name"]: n for n in report["nodes"]}
    assert sorted(nodes) == sorted([*NAMES, "mck-k8s-do-2", "mck-k8s-linode-1"])
    for node in nodes.values():
        assert set(node) == {
            "name", "cloud", "public_ip", "private_ip", "mesh_ip", "nat",
            "reachable", "role", "ready", "state", "message", "version", "channel",
        }  # fmt: skip
        assert node["reachable"] is True and node["ready"] is True and node["state"] == "ready"
        assert node["role"] in ("voter", "standby")
        assert node["channel"] == "1.36/stable" and node["version"].startswith("v1.36."), node
        assert node["mesh_ip"].startswith("10.77.")
    # Each voter with its cloud, as the nodes' own roles say.
    voters = [{"name": n, "cloud": s["cloud"]} for n, s in nodes.items() if s["role"] == "voter"]
    assert sorted(report["voters"], key=lambda v: v["name"]) == sorted(
        voters, key=lambda v: v["name"]
    )

    # A VM dies under the cloud's feet: status says which, and fails.
    dead = project.lab.host("mck-k8s-linode-1")
    project.lab.kill_host(dead.id)
    run = project.mck("status")
    assert run.rc == 3, run.explain()
    # READY says unreachable; VERSION is unknown ("-") for a node that did not answer.
    assert re.search(r"^mck-k8s-linode-1\s+linode\s+.*\sunreachable\s+-$", run.stdout, re.M), (
        run.stdout
    )
    assert "mck-k8s-linode-1" in run.stderr  # the problem line names it
    assert re.search(r"^details: \S*\.mck/logs/\S+-status\.log$", run.stderr, re.M), run.stderr
    unhealthy = project.mck("status", "--json")
    assert unhealthy.rc == 3, unhealthy.explain()
    report = json.loads(unhealthy.stdout)
    validator.validate(report)
    assert report["healthy"] is False and report["problems"]


def test_destroy_removes_every_vm_and_generated_file(project: Project) -> None:
    refused = project.mck("--destroy")  # no terminal, no --yes
    assert refused.rc == 2, refused.explain()
    assert "pass --yes" in refused.stderr
    assert len(project.lab.hosts()) >= 5

    run = project.mck("--destroy", "--yes")
    assert run.rc == 0, run.explain()
    assert project.state().get("values") is None or not project.state()["values"].get(
        "root_module", {}
    ).get("resources")
    assert [h for h in project.lab.hosts() if h.name.startswith("mck-k8s-")] == []
    assert not (project.path / "inventory").exists()
    # Of .mck/ only the debug logs are left, this run's own among them.
    assert [p.name for p in (project.path / ".mck").iterdir()] == ["logs"]
    assert project.logs()[-1].name.endswith("-destroy.log")
    assert project.logs()[-1].read_text().rstrip().endswith("exit 0")
