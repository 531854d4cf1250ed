"""The firewall role on lab hosts, without mck: two members joined by a real WireGuard tunnel
(one of them an AWS host behind 1:1 NAT, logging in as admin with sudo) and an outsider.

Listeners on the cluster ports and on a host-network workload's port (node-exporter's 9100, in
no list of the role's) show each port's reachability before the role runs (all open) and after
(closed on public addresses, open over wg0: the mesh is trusted whole). The steps share the
hosts and run in order: apply, re-apply (no change), drift (a node's table deleted by hand is
restored), a ruleset nft refuses (nothing replaced), opt in to the public API.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.lab.commands import run
from tests.lab.host import Host

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
CLOSED_PORTS = (25000, 19001, 10250)  # cluster agent, dqlite, kubelet
WORKLOAD_PORT = 9100  # a host-network workload's (node-exporter): no cluster port
API_PORT = 16443
MESH_IP = {"fw-do-0": "10.77.0.1", "fw-aws-0": "10.77.0.2"}
WIREGUARD_PORT = 51820

# Accepts and closes connections on every port given, until killed.
LISTENER = """
import selectors, socket, sys
sel = selectors.DefaultSelector()
for port in sys.argv[1:]:
    sel.register(socket.create_server(("0.0.0.0", int(port))), selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        key.fileobj.accept()[0].close()
"""
# Tries every ip:port at once; a dropped SYN (timeout) and a refused one both count as closed.
PROBE = """
import socket, sys
from concurrent.futures import ThreadPoolExecutor
def state(target):
    host, port = target.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=1.5).close()
        return "open"
    except OSError:
        return "closed"
with ThreadPoolExecutor(len(sys.argv) - 1) as pool:
    for target, result in zip(sys.argv[1:], pool.map(state, sys.argv[1:])):
        print(target, result)
"""
PLAYBOOK = """\
- name: Apply the firewall
  hosts: k8s
  become: true
  gather_facts: false
  roles:
    - role: firewall
  post_tasks:
    # Runs over the SSH session opened before the ruleset was loaded: it must still carry.
    - name: Reach the node again
      ansible.builtin.ping:
"""
RECAP = re.compile(
    r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M
)


@dataclass
class Site:
    """The hosts and a project directory holding the inventory, ansible.cfg and playbook."""

    lab: Any
    path: Path
    members: dict[str, Host]
    outsider: Host
    output: str = ""  # the last play's

    def play(self, *extra: str, rc: int = 0) -> dict[str, tuple[int, int]]:
        """Runs the playbook from the controller namespace; returns host -> (ok, changed)."""
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin:/usr/sbin:/sbin",
            "HOME": str(self.path / "home"),
            "LANG": "C.UTF-8",
            "ANSIBLE_CONFIG": str(self.path / "ansible.cfg"),
            "ANSIBLE_ROLES_PATH": str(REPO / "roles"),
            "ANSIBLE_PRIVATE_KEY_FILE": str(self.lab.ssh_key),
            "ANSIBLE_LOCAL_TEMP": str(self.path / "home" / "tmp"),
            "ANSIBLE_FORCE_COLOR": "0",
        }
        argv = ["ansible-playbook", "-i", "inventory", "firewall.yml", *extra]
        proc = subprocess.run(
            self.lab.ctl_argv(argv),
            cwd=self.path,  # ansible.cfg's relative paths (.mck/) start here
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        output = f"$ {' '.join(argv)}\nexit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        assert proc.returncode == rc, output
        if rc == 0:
            assert "[WARNING]" not in proc.stdout + proc.stderr, output
        self.output = output
        recap = {m[1]: (int(m[2]), int(m[3])) for m in RECAP.finditer(proc.stdout)}
        assert set(recap) == set(self.members), output
        return recap

    def reachable(self, source: Host | None, targets: list[str]) -> dict[str, str]:
        """ip:port -> open|closed, as seen from `source` (None: the controller namespace)."""
        argv = ["python3", "-c", PROBE, *targets]
        if source is None:
            stdout = run(self.lab.ctl_argv(argv), timeout=20).stdout
        else:
            stdout = source.run(argv, timeout=20).stdout
        return dict(line.split() for line in stdout.splitlines())


def _targets(hosts: list[Host], ports: tuple[int, ...], *, mesh: bool = False) -> list[str]:
    return [f"{MESH_IP[h.name] if mesh else h.public_ip}:{p}" for h in hosts for p in ports]


def _connect_wireguard(a: Host, b: Host) -> None:
    """wg0 on both, each the other's only peer, endpoint = the peer's public address (the AWS
    host's is its NAT address); wg-quick falls back to wireguard-go where the kernel has none."""
    keys = {}
    for host in (a, b):
        private = host.run(["wg", "genkey"]).stdout.strip()
        keys[host.name] = (private, host.run(["wg", "pubkey"], input=private).stdout.strip())
    for host, peer in ((a, b), (b, a)):
        config = (
            f"[Interface]\nPrivateKey = {keys[host.name][0]}\n"
            f"Address = {MESH_IP[host.name]}/16\nListenPort = {WIREGUARD_PORT}\n\n"
            f"[Peer]\nPublicKey = {keys[peer.name][1]}\n"
            f"Endpoint = {peer.public_ip}:{WIREGUARD_PORT}\n"
            f"AllowedIPs = {MESH_IP[peer.name]}/32\nPersistentKeepalive = 25\n"
        )
        host.run(["sh", "-c", "umask 077 && cat > /etc/wireguard/wg0.conf"], input=config)
        host.run(["wg-quick", "up", "wg0"])
    # PersistentKeepalive sends a first packet at once, which starts the handshake.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        handshakes = a.run(["wg", "show", "wg0", "latest-handshakes"]).stdout.split()
        if handshakes and handshakes[-1] != "0":
            return
        time.sleep(0.2)
    raise AssertionError(f"no WireGuard handshake between {a.name} and {b.name}")


def _listen(host: Host, ports: tuple[int, ...]) -> None:
    # Detached from Host.run's pipes; it lives in the VM's PID namespace and dies with the VM.
    script = 'python3 -c "$0" "$@" < /dev/null > /dev/null 2>&1 &'
    host.run(["sh", "-c", script, LISTENER, *map(str, ports)])
    # Listening before anyone probes: on a loaded machine the interpreter takes a while to start.
    local = [f"127.0.0.1:{port}" for port in ports]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        stdout = host.run(["python3", "-c", PROBE, *local], timeout=20).stdout
        if set(dict(line.split() for line in stdout.splitlines()).values()) == {"open"}:
            return
        time.sleep(0.2)
    raise AssertionError(f"the listeners on {host.name} did not start")


def _close_ssh_masters(site: Site) -> None:
    """ansible's ControlPersist masters run in the controller namespace, outside every VM."""
    for socket_path in (site.path / ".mck" / "cp").glob("*"):
        argv = ["ssh", "-o", f"ControlPath={socket_path}", "-O", "exit", "lab"]
        run(site.lab.ctl_argv(argv), check=False)


def _write_project(path: Path, lab: Any, members: dict[str, Host]) -> None:
    """The inventory in the shape mck writes (templates/inventory.j2), the repo's ansible.cfg."""
    lines = ["# Generated by mck from the OpenTofu state. Do not edit: re-run mck."]
    for host in members.values():
        user = "admin" if host.cloud == "aws" else "root"
        nat = "true" if host.cloud == "aws" else "false"
        lines += [
            f"[{host.cloud}]",
            f"{host.name} ansible_host={host.public_ip} ansible_user={user}"
            f" mck_cloud={host.cloud} mck_public_ip={host.public_ip}"
            f" mck_private_ip={host.private_ip} mck_nat={nat} mck_mesh_ip={MESH_IP[host.name]}",
            "",
        ]
    lines += ["[k8s:children]", *(h.cloud for h in members.values()), ""]
    lines += ["[all:vars]", "mck_cluster_name=fw", ""]
    path.mkdir()
    (path / "inventory").write_text("\n".join(lines))
    (path / "firewall.yml").write_text(PLAYBOOK)
    shutil.copy2(REPO / "ansible.cfg", path / "ansible.cfg")
    (path / ".mck").mkdir()
    shutil.copy2(lab.known_hosts, path / ".mck" / "known_hosts")  # the lab CA's line
    (path / "home" / "tmp").mkdir(parents=True)


@pytest.fixture(scope="module")
def site(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    made: list[Host] = []
    site = None
    try:
        for cloud, name in (
            ("digitalocean", "fw-do-0"),
            ("aws", "fw-aws-0"),
            ("linode", "fw-out-0"),
        ):
            made.append(lab.create_host(cloud, name, [lab.ssh_pubkey], wait_for_ssh=True))
        do, aws, outsider = made
        members = {do.name: do, aws.name: aws}
        site = Site(lab, tmp_path_factory.mktemp("firewall") / "project", members, outsider)
        _write_project(site.path, lab, members)
        _connect_wireguard(do, aws)
        for host in members.values():
            _listen(host, (*CLOSED_PORTS, API_PORT, WORKLOAD_PORT))
        # Stands for Calico's or Docker's tables: the role must leave it alone.
        do.run(["nft", "add table inet keepme; add chain inet keepme probe"])
        yield site
    finally:
        if site is not None:
            _close_ssh_masters(site)
        for host in made:
            lab.delete_host(host.id)


def test_cluster_ports_close_to_the_world_and_stay_open_over_wg0(site: Site) -> None:
    members = list(site.members.values())
    do, aws = members
    public = _targets(members, (*CLOSED_PORTS, API_PORT, WORKLOAD_PORT))
    # Before: every listener answers from anywhere, so "closed" below is the firewall's doing.
    assert set(site.reachable(site.outsider, public).values()) == {"open"}

    recap = site.play()
    assert all(changed > 0 for _, changed in recap.values()), recap

    for source in (site.outsider, None):
        states = site.reachable(source, [*public, *_targets(members, (22,))])
        assert {t: s for t, s in states.items() if s == "open"} == {
            f"{do.public_ip}:22": "open",
            f"{aws.public_ip}:22": "open",
        }, source
    # Over the tunnel (which the firewall keeps up: 51820/udp is open), both ways, every port:
    # the workload's too, which no list of the role's names.
    for source, peer in ((do, aws), (aws, do)):
        ports = (*CLOSED_PORTS, API_PORT, WORKLOAD_PORT)
        over_wg0 = site.reachable(source, _targets([peer], ports, mesh=True))
        assert set(over_wg0.values()) == {"open"}, over_wg0
    # Atomic replacement of mck's own table only.
    assert do.run(["nft", "list", "table", "inet", "keepme"]).returncode == 0


def test_second_run_changes_nothing_in_one_round_trip(site: Site) -> None:
    recap = site.play()
    # ok=2: the role's state probe and the play's ping; everything else skipped.
    assert recap == {name: (2, 0) for name in site.members}


def test_a_table_removed_by_hand_is_loaded_again(site: Site) -> None:
    aws = site.members["fw-aws-0"]
    aws.run(["nft", "delete", "table", "inet", "mck"])
    assert set(site.reachable(None, _targets([aws], CLOSED_PORTS)).values()) == {"open"}
    recap = site.play()
    assert recap["fw-aws-0"][1] == 1 and recap["fw-do-0"][1] == 0, recap
    assert set(site.reachable(None, _targets([aws], CLOSED_PORTS)).values()) == {"closed"}


def test_a_ruleset_the_kernel_refuses_replaces_nothing(site: Site) -> None:
    do = site.members["fw-do-0"]
    before = (do.read_file("/etc/mck-firewall.nft"), do.run(["nft", "list", "ruleset"]).stdout)
    # Renders fine, but nft cannot parse it: `nft -c` must stop it before it is written.
    site.play("-e", '{"firewall_public_tcp_ports": ["no-such-port"]}', rc=2)
    # The copy module's own verdict on each host: nft -c refused the file.
    failed = r"^fatal: \[(\S+)\]: FAILED! => ?\n(?:    .*\n)*?    msg: failed to validate$"
    failures = re.findall(failed, site.output, re.M)
    assert sorted(failures) == sorted(site.members), site.output
    after = (do.read_file("/etc/mck-firewall.nft"), do.run(["nft", "list", "ruleset"]).stdout)
    assert after == before
    members = list(site.members.values())
    assert set(site.reachable(None, _targets(members, CLOSED_PORTS)).values()) == {"closed"}


def test_public_api_opt_in_opens_16443_only(site: Site) -> None:
    members = list(site.members.values())
    recap = site.play("-e", "firewall_public_api=true")
    # A new ruleset: written and loaded on every member.
    assert all(changed == 2 for _, changed in recap.values()), recap
    states = site.reachable(site.outsider, _targets(members, (*CLOSED_PORTS, API_PORT)))
    assert {t for t, s in states.items() if s == "open"} == set(_targets(members, (API_PORT,)))
