"""What a DigitalOcean node and an AWS node (interfaces at MTU 9001, behind an edge that carries
1500 and drops IP fragments, and 1:1 NAT: its public IP is not on the VM) need to form a cluster
and beyond. One project, steps in order:

- the NAT'd AWS node joins, over the mesh. Without it microk8s could not cluster it: the
  leader's agent refuses a join address that is not bound locally, and a NAT'd joiner would
  advertise an address nobody can reach. Over WireGuard both ends use their wg0 address, which
  is local everywhere. (That the planner still refuses NAT nodes when the mesh is not in use is
  a unit test: tests/unit/test_cluster.py.);
- full-size packets cross the mesh both ways: each node sends ICMP echoes of exactly its wg0's
  MTU (read from the interface) with don't-fragment set to the other's mesh address. wg-quick
  left to itself gives wg0 8921 on AWS (9001 - 80), whose packets do not fit the edge;
- Calico's veth MTU fits inside wg0: the launch configuration gives a fresh cluster's
  calico-config veth_mtu 1370, and a converge puts it back on a running cluster where it
  differs (a cluster made before mck set it), then restarts calico-node once;
- microk8s is held on every node: when the store publishes a newer revision on the pinned
  channel, a general `snap refresh` (what snapd's auto-refresh runs every few hours) leaves it
  alone, and the next converge changes nothing;
- each node's version is reported, and when the project pins another channel than the nodes
  run (say, after an upgrade of mck), `mck status` and `mck plan` say so and a converge
  refreshes nothing;
- `mck --destroy` takes both VMs down.

(The NAT join was tests/e2e/test_nat.py, on a cluster of its own of the same two nodes: one
cluster now serves both.)
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from mck import mesh
from tests.e2e.harness import Project, Run, recap

pytestmark = pytest.mark.lab

DO, AWS = "mck-k8s-do-0", "mck-k8s-aws-0"
# Sends ICMP echo requests of exactly argv[2] bytes (the whole IP packet) with don't-fragment
# set to argv[1]; exit 0 at the first reply of that size. Lab hosts have no ping.
PING = """
import os, socket, struct, sys, time
dest, size = sys.argv[1], int(sys.argv[2])
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
IP_MTU_DISCOVER, IP_PMTUDISC_DO = 10, 2  # linux/in.h; Python 3.11's socket lacks them
sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
ident, payload = os.getpid() & 0xFFFF, bytes(size - 28)
def checksum(data):
    data += bytes(len(data) % 2)  # RFC 1071: an odd length is padded with a zero byte
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF
for seq in range(6):
    body = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
    body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
    try:
        sock.sendto(body, (dest, 0))
    except OSError as err:
        print("send:", err)
    deadline = time.monotonic() + 1.5
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data, (source, _) = sock.recvfrom(65535)
        except OSError:
            break
        header = (data[0] & 15) * 4
        kind, _, _, rid, rseq = struct.unpack("!BBHHH", data[header : header + 8])
        if (kind, rid, rseq, source, len(data)) == (0, ident, seq, dest, size):
            print("reply", len(data))
            sys.exit(0)
sys.exit(1)
"""


@pytest.fixture(scope="module")
def built(make_project: Any) -> tuple[Project, Run]:
    """The project and its first converge, the one that formed the cluster."""
    project: Project = make_project(digitalocean=1, aws=1)
    run = project.mck()
    assert run.rc == 0, run.explain()
    return project, run


@pytest.fixture(scope="module")
def project(built: tuple[Project, Run]) -> Project:
    return built[0]


def test_the_nat_node_joins_the_cluster_over_the_mesh(built: tuple[Project, Run]) -> None:
    project, run = built
    assert "orphan node mck-k8s-do-0 will join mck-k8s-aws-0 at 10.77.0.1" in run.stderr
    # The NAT'd VM really is set up like AWS: reachable, public IP not local.
    aws = project.lab.host(AWS)
    assert aws.public_ip not in aws.run(["ip", "-o", "addr"]).stdout
    ips = mesh.previous_from_inventory(project.inventory())
    status = aws.run(["/snap/bin/microk8s", "status", "--format", "yaml"]).stdout
    assert sorted(re.findall(r"address: ([\d.]+):19001", status)) == sorted(ips.values())


def _mtu(project: Project, node: str) -> int:
    return int(project.lab.host(node).read_file("/sys/class/net/wg0/mtu"))


def test_full_size_packets_cross_the_mesh_both_ways(project: Project) -> None:
    ips = mesh.previous_from_inventory(project.inventory())
    # The lab is as strict as the path: the AWS VM's own interface runs 9001.
    assert int(project.lab.host(AWS).read_file("/sys/class/net/eth0/mtu")) == 9001
    for source, peer in ((AWS, DO), (DO, AWS)):
        size = _mtu(project, source)
        argv = ["/usr/bin/python3", "-c", PING, ips[peer], str(size)]
        result = project.lab.host(source).run(argv, check=False, timeout=30)
        assert result.returncode == 0, (
            f"{source} -> {peer}: no reply to {size}-byte packets (wg0's MTU) with DF set\n"
            f"{result.stdout}{result.stderr}"
        )


def test_calico_gets_a_veth_mtu_that_fits_in_wg0(project: Project) -> None:
    for node in (DO, AWS):
        host = project.lab.host(node)
        cni_env = host.read_file("/var/snap/microk8s/current/args/cni-env")
        assert f"CALICO_VETH_MTU={_mtu(project, node) - 50}" in cni_env.splitlines(), cni_env


def _kubectl(project: Project, *args: str) -> str:
    argv = ["/snap/bin/microk8s", "kubectl", "-n", "kube-system", *args]
    return str(project.lab.host(DO).run(argv).stdout)


def test_a_running_cluster_gets_its_veth_mtu_back(project: Project) -> None:
    veth_mtu = ["get", "configmap", "calico-config", "-o", "jsonpath={.data.veth_mtu}"]
    assert _kubectl(project, *veth_mtu) == "1370"  # from the launch configuration
    # As a cluster made before mck set it has it: Calico's auto-detection.
    _kubectl(project, "patch", "configmap", "calico-config", "-p", '{"data":{"veth_mtu":"0"}}')
    generation = ["get", "daemonset", "calico-node", "-o", "jsonpath={.metadata.generation}"]
    before = int(_kubectl(project, *generation))
    run = project.mck()
    assert run.rc == 0, run.explain()
    assert _kubectl(project, *veth_mtu) == "1370"
    # One rollout: calico-node's pods restart once to read it.
    assert int(_kubectl(project, *generation)) == before + 1
    restarted = "jsonpath={.spec.template.metadata.annotations}"
    assert "restartedAt" in _kubectl(project, "get", "daemonset", "calico-node", "-o", restarted)


def test_microk8s_is_held_and_a_general_refresh_leaves_it(project: Project) -> None:
    before = {}
    for node in (DO, AWS):
        host = project.lab.host(node)
        listing = host.run(["snap", "list", "microk8s"]).stdout.splitlines()[1].split()
        assert "held" in listing[-1].split(","), listing
        before[node] = listing[1:4]  # version, revision, tracking
        # The store moves on: a newer revision on the node's own channel.
        track = listing[3].split("/")[0]
        newer = {track: [f"{listing[1]}-newer", str(int(listing[2]) + 1)]}
        publish = ["sh", "-c", "cat > /var/lib/snapd/standin-store-published.json"]
        host.run(publish, input=json.dumps(newer))
        refresh = host.run(["snap", "refresh"], check=False, timeout=120)
        assert refresh.returncode == 0, refresh.stderr
        assert "All snaps up to date." in refresh.stderr, refresh.stdout + refresh.stderr
        after = host.run(["snap", "list", "microk8s"]).stdout.splitlines()[1].split()
        assert after[1:4] == before[node], after
    run = project.mck()
    assert run.rc == 0, run.explain()
    assert all(counts["changed"] == 0 for counts in recap(run.output).values()), run.output


def test_versions_are_reported_and_another_pin_refreshes_nothing(project: Project) -> None:
    status = project.mck("status", "--json")
    assert status.rc == 0, status.explain()
    doc = json.loads(status.stdout)
    assert {(n["version"], n["channel"]) for n in doc["nodes"]} == {("v1.36.0", "1.36/stable")}
    assert doc["notices"] == []
    # The project now pins another channel than the nodes run.
    defaults = project.path / "roles/microk8s/defaults/main.yml"
    defaults.write_text(defaults.read_text().replace('"1.36/stable"', '"1.35/stable"'))
    status = project.mck("status")
    assert status.rc == 0, status.explain()  # a note, not a problem
    for node in (DO, AWS):
        note = f"note: {node} runs microk8s v1.36.0 from 1.36/stable, and the project pins 1.35"
        assert note in status.output, status.output
    plan = project.mck("plan")
    assert plan.rc == 0, plan.explain()
    assert f"warning: {AWS} runs microk8s v1.36.0 from 1.36/stable" in plan.output, plan.output
    run = project.mck()
    assert run.rc == 0, run.explain()
    assert all(counts["changed"] == 0 for counts in recap(run.output).values()), run.output
    listing = project.lab.host(DO).run(["snap", "list", "microk8s"]).stdout.splitlines()[1]
    assert listing.split()[1:4] == ["v1.36.0", "8861", "1.36/stable"], listing


def test_destroy_takes_both_nodes_down(project: Project) -> None:
    assert project.mck("--destroy", "--yes").rc == 0
    assert not [h.name for h in project.lab.hosts() if h.name.startswith("mck-k8s-")]
