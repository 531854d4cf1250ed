"""The WireGuard mesh end to end: DigitalOcean, Linode and two AWS nodes behind real 1:1 NAT.

One project for the whole file, steps in order: a cluster of four on the mesh, a second
converge that changes nothing, then one node added and another removed (mck takes it out of the
cluster first) while the survivors' tunnels keep running.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from mck import mesh
from tests.e2e.harness import Project, recap

pytestmark = pytest.mark.lab

FIRST = ["mck-k8s-aws-0", "mck-k8s-aws-1", "mck-k8s-do-0", "mck-k8s-linode-0"]
# Connects to every address given on argv, port 25000 (the cluster agent listens on 0.0.0.0),
# and prints the ones it could not reach. Lab hosts have python3 but no ping.
REACH = (
    "import socket, sys\n"
    "for ip in sys.argv[1:]:\n"
    "    try:\n"
    "        socket.create_connection((ip, 25000), 3).close()\n"
    "    except OSError as e:\n"
    "        print(ip, e)\n"
)


@pytest.fixture(scope="module")
def project(make_project: Any) -> Project:
    project: Project = make_project(digitalocean=1, linode=1, aws=2)
    return project


def _mesh_ips(project: Project) -> dict[str, str]:
    return mesh.previous_from_inventory(project.inventory())


def _members(project: Project, node: str) -> list[str]:
    status = project.lab.host(node).run(["/snap/bin/microk8s", "status", "--format", "yaml"]).stdout
    return re.findall(r"address: ([\d.]+):19001", status)


def _wg(project: Project, node: str, *what: str) -> dict[str, str]:
    """`wg show wg0 <what>` as public key -> value."""
    out = project.lab.host(node).run(["wg", "show", "wg0", *what]).stdout
    return {line.split("\t")[0]: "\t".join(line.split("\t")[1:]) for line in out.splitlines()}


def _tunnel(project: Project, node: str) -> tuple[str, str]:
    """What changes when wg0 is restarted: its ifindex and the wireguard-go process."""
    host = project.lab.host(node)
    link = host.run(["ip", "-o", "link", "show", "dev", "wg0"]).stdout
    pid = host.run(["pgrep", "-x", "wireguard-go"]).stdout.strip()
    return link.split(":")[0], pid


def _check_mesh(project: Project, names: list[str]) -> None:
    """Every node reaches every other one's mesh address and has a handshake with it."""
    ips = _mesh_ips(project)
    for name in names:
        others = [ips[o] for o in names if o != name]
        host = project.lab.host(name)
        unreachable = host.run(["/usr/bin/python3", "-c", REACH, *others]).stdout
        assert unreachable == "", f"{name} cannot reach: {unreachable}"
        handshakes = _wg(project, name, "latest-handshakes")
        assert len(handshakes) == len(names) - 1, handshakes
        assert all(int(ts) > 0 for ts in handshakes.values()), (name, handshakes)
        allowed = sorted(_wg(project, name, "allowed-ips").values())
        assert allowed == sorted(f"{ip}/32" for ip in others)


def test_four_nodes_on_three_clouds_form_one_cluster_on_the_mesh(project: Project) -> None:
    run = project.mck()
    assert run.rc == 0, run.explain()
    ips = _mesh_ips(project)
    assert sorted(ips) == FIRST
    assert len(set(ips.values())) == 4
    assert all(ip.startswith("10.77.") for ip in ips.values())
    # The AWS nodes really sit behind 1:1 NAT: their public IP is not on the VM.
    aws = project.lab.host("mck-k8s-aws-0")
    assert aws.public_ip not in aws.run(["ip", "-o", "addr"]).stdout
    assert aws.run(["stat", "-c", "%a", "/etc/wireguard/wg0.key"]).stdout.strip() == "600"
    _check_mesh(project, FIRST)
    for name in FIRST:
        # Membership holds mesh addresses only: no public or private address leaks in.
        assert sorted(_members(project, name)) == sorted(ips.values()), name
        hosts_file = project.lab.host(name).read_file("/etc/hosts")
        assert re.search(rf"^{re.escape(ips['mck-k8s-aws-1'])}\s+mck-k8s-aws-1$", hosts_file, re.M)
    assert re.search(r"mck-k8s-aws-1\s+aws\s+\S+ \(NAT\)\s+10\.77\.\S+\s+\w+\s+yes", run.stderr), (
        run.stderr
    )


# Tries every ip:port on argv at once and prints each as "ip:port open|closed". A dropped
# packet (the firewall's default) shows as a timeout, hence the threads.
PORTS = (
    "import socket, sys\n"
    "from concurrent.futures import ThreadPoolExecutor\n"
    "def state(target):\n"
    "    ip, port = target.rsplit(':', 1)\n"
    "    try:\n"
    "        socket.create_connection((ip, int(port)), 2).close()\n"
    "        return target + ' open'\n"
    "    except OSError:\n"
    "        return target + ' closed'\n"
    "with ThreadPoolExecutor(32) as pool:\n"
    "    print('\\n'.join(pool.map(state, sys.argv[1:])))\n"
)
CLUSTER_PORTS = (25000, 19001, 10250, 16443)


def _port_states(host: Any, targets: list[str]) -> dict[str, str]:
    out = host.run(["/usr/bin/python3", "-c", PORTS, *targets], timeout=60).stdout
    return dict(line.split(" ") for line in out.splitlines())


def test_cluster_ports_are_closed_to_the_world_and_open_over_the_mesh(project: Project) -> None:
    ips = _mesh_ips(project)
    outsider = project.lab.create_host("linode", "mesh-outsider", [project.lab.ssh_pubkey])
    try:
        public = [f"{project.lab.host(n).public_ip}:{p}" for n in FIRST for p in CLUSTER_PORTS]
        states = _port_states(outsider, [*public, f"{project.lab.host(FIRST[0]).public_ip}:22"])
        assert {t for t, state in states.items() if state == "open"} == {
            f"{project.lab.host(FIRST[0]).public_ip}:22"
        }, states
    finally:
        project.lab.delete_host(outsider.id)
    # Members reach each other's cluster ports over wg0 (16443 included: it is only closed to
    # the internet, public_api being off).
    member = project.lab.host("mck-k8s-do-0")
    mesh = [f"{ips[n]}:{p}" for n in FIRST if n != "mck-k8s-do-0" for p in CLUSTER_PORTS]
    assert set(_port_states(member, mesh).values()) == {"open"}


def test_second_converge_changes_nothing(project: Project) -> None:
    before = {name: _tunnel(project, name) for name in FIRST}
    run = project.mck()
    assert run.rc == 0, run.explain()
    counts = recap(run.stderr)
    assert set(counts) == set(FIRST), run.stderr
    assert all(c["changed"] == 0 for c in counts.values()), counts
    assert "will join" not in run.stderr
    assert {name: _tunnel(project, name) for name in FIRST} == before


def test_adding_and_removing_nodes_keeps_survivors_addresses_and_tunnels(
    project: Project,
) -> None:
    survivors = ["mck-k8s-aws-0", "mck-k8s-do-0", "mck-k8s-linode-0"]
    ips = _mesh_ips(project)
    tunnels = {name: _tunnel(project, name) for name in survivors}
    transfer = {name: _wg(project, name, "transfer") for name in survivors}
    project.set_counts(digitalocean=2, linode=1, aws=1)
    run = project.mck()
    assert run.rc == 0, run.explain()
    # mck takes the leaving node out of the cluster over the mesh before its VM goes.
    assert re.search(
        rf"^removing mck-k8s-aws-1 \({re.escape(ips['mck-k8s-aws-1'])}\) through \S+: "
        "drain, leave, remove-node$",
        run.stderr,
        re.M,
    ), run.stderr
    assert run.stderr.index("==> scale-down") < run.stderr.index("==> provision")
    now = _mesh_ips(project)
    names = sorted([*survivors, "mck-k8s-do-1"])
    assert sorted(now) == names
    assert {n: now[n] for n in survivors} == {n: ips[n] for n in survivors}
    assert now["mck-k8s-do-1"] not in {ips[n] for n in survivors}
    assert "orphan node mck-k8s-do-1 will join" in run.stderr
    _check_mesh(project, names)
    for name in survivors:
        assert _tunnel(project, name) == tunnels[name], f"{name}'s wg0 was restarted"
        # Tunnels to peers that stayed were not torn down: their byte counters kept counting.
        after = _wg(project, name, "transfer")
        kept = [peer for peer in transfer[name] if peer in after]
        assert len(kept) == len(survivors) - 1, (name, transfer[name], after)
        for peer in kept:
            old_rx, old_tx = map(int, transfer[name][peer].split("\t"))
            new_rx, new_tx = map(int, after[peer].split("\t"))
            assert new_rx >= old_rx and new_tx >= old_tx, (name, peer)
        assert sorted(_members(project, name)) == sorted(now.values()), name


def test_a_live_nodes_mesh_address_is_never_changed(project: Project, tmp_path: Path) -> None:
    ips = _mesh_ips(project)
    node = "mck-k8s-do-0"
    peers = {name: _wg(project, name, "allowed-ips") for name in ips}
    # An inventory that moves a live node (what a lost or hand-edited inventory could do).
    moved = tmp_path / "inventory"
    moved.write_text(
        project.inventory().replace(f"mck_mesh_ip={ips[node]}", "mck_mesh_ip=10.77.9.9")
    )
    run = project.run(["ansible-playbook", "main.yml", "-i", str(moved)])
    assert run.rc != 0, run.explain()
    assert (
        f"wg0 on {node} has address {ips[node]}/16, but the inventory gives it 10.77.9.9"
        in " ".join(run.stdout.split())
    ), run.stdout
    # Nothing changed anywhere: not the node, and not the peer entries the others have for it.
    assert (
        f"inet {ips[node]}/16" in project.lab.host(node).run(["ip", "addr", "show", "wg0"]).stdout
    )
    assert {name: _wg(project, name, "allowed-ips") for name in ips} == peers
