"""The lab behaves like the clouds it stands in for: VMs reachable the way real ones are, AWS
behind 1:1 NAT, isolated VMs, an API with the contract's errors, and nothing left behind."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from . import host as host_module
from . import sshkeys
from .api_client import LabApiError, call
from .api_server import ApiServer
from .fixtures import require_lab
from .host import Host
from .lab import REPO, Lab

pytestmark = pytest.mark.lab

# Files of the machine a VM must never change (it edits its own copies).
MACHINE_FILES = ("/etc/passwd", "/etc/group", "/etc/shadow", "/etc/hosts", "/etc/hostname",
                 "/etc/ssh/sshd_config")  # fmt: skip

# One datagram each way, retried like a WireGuard handshake until answered.
UDP_SERVER = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.settimeout(20)
data, peer = s.recvfrom(100)
s.sendto(b"pong " + data, peer)
print(peer[0], peer[1])
"""
UDP_CLIENT = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[3])))
s.settimeout(0.2)
for _ in range(100):
    s.sendto(b"ping", (sys.argv[1], int(sys.argv[2])))
    try:
        data, peer = s.recvfrom(100)
    except TimeoutError:
        continue
    print(data.decode(), peer[0], peer[1])
    break
"""


@pytest.fixture(autouse=True)
def _lab_required() -> None:
    """Also for the tests that build their own Lab instead of using the `lab` fixture."""
    require_lab()


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def machine_before() -> dict[str, str]:
    return {path: _digest(path) for path in MACHINE_FILES}


@pytest.fixture(scope="module")
def vms(lab: Lab, machine_before: dict[str, str]) -> Iterator[dict[str, Host]]:
    """One VM per cloud, created in parallel like terraform does."""
    specs = {"do": ("digitalocean", "labtest-do"), "li": ("linode", "labtest-li"),
             "aws": ("aws", "labtest-aws")}  # fmt: skip
    with ThreadPoolExecutor(3) as pool:
        futures = {
            k: pool.submit(lab.create_host, c, n, [lab.ssh_pubkey], wait_for_ssh=True)
            for k, (c, n) in specs.items()
        }
        created = {key: future.result() for key, future in futures.items()}
    yield created
    for vm in created.values():
        lab.delete_host(vm.id)


@pytest.fixture
def known_hosts(tmp_path: Path) -> Path:
    return tmp_path / "known_hosts"


def ssh(lab: Lab, known_hosts: Path, target: str, command: str, *, key: Path | None = None,
        timeout: float = 30) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """ssh from the controller namespace, as mck and ansible do."""
    argv = [
        "ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new",
        "-o", f"UserKnownHostsFile={known_hosts}", "-o", "ConnectTimeout=10",
        "-i", str(key or lab.ssh_key), target, command,
    ]  # fmt: skip
    return subprocess.run(lab.ctl_argv(argv), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)  # fmt: skip


def test_do_and_linode_vms_take_root_logins_with_their_keys(
    lab: Lab, vms: dict[str, Host], known_hosts: Path, tmp_path: Path
) -> None:
    for vm, private_prefix in ((vms["do"], "198.18.0."), (vms["li"], "198.18.1.")):
        run = ssh(lab, known_hosts, f"root@{vm.public_ip}", "hostname; id -u; ip -o -4 addr")
        assert run.returncode == 0, run.stderr
        hostname, uid, *addrs = run.stdout.splitlines()
        assert (hostname, uid) == (vm.name, "0")
        assert vm.public_ip.startswith("198.51.100.") and vm.private_ip.startswith(private_prefix)
        eth0 = " ".join(a for a in addrs if " eth0 " in a)
        assert f"{vm.public_ip}/24" in eth0 and f"{vm.private_ip}/24" in eth0, addrs
    stranger = tmp_path / "stranger"
    sshkeys.generate(stranger, "not-authorized")
    refused = ssh(lab, known_hosts, f"root@{vms['do'].public_ip}", "true", key=stranger)
    assert refused.returncode == 255 and "Permission denied" in refused.stderr


def test_host_keys_are_per_vm_and_certified_by_the_lab_ca(lab: Lab, vms: dict[str, Host]) -> None:
    keys = {vm.read_file("/etc/ssh/ssh_host_ed25519_key.pub") for vm in vms.values()}
    assert len(keys) == 3
    # Host-key checking on, nothing learned: only the lab's @cert-authority line vouches.
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={lab.known_hosts}", "-i", str(lab.ssh_key),
            f"admin@{vms['aws'].public_ip}", "true"]  # fmt: skip
    run = subprocess.run(lab.ctl_argv(argv), capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr


def test_aws_vm_is_admin_behind_one_to_one_nat(
    lab: Lab, vms: dict[str, Host], known_hosts: Path
) -> None:
    aws = vms["aws"]
    # Root's keys are honoured only to say who to log in as (cloud-init's disable_root), which
    # takes 10 s: started first, checked last.
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new",
            "-o", f"UserKnownHostsFile={known_hosts}.root", "-i", str(lab.ssh_key),
            f"root@{aws.public_ip}", "id"]  # fmt: skip
    as_root = subprocess.Popen(lab.ctl_argv(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        run = ssh(lab, known_hosts, f"admin@{aws.public_ip}",
                  "hostname; id -un; id -u; echo $HOME; sudo -n true && echo sudo-ok")  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert run.stdout.split() == [f"ip-{aws.private_ip.replace('.', '-')}", "admin", "1000",
                                      "/home/admin", "sudo-ok"]  # fmt: skip
        assert aws.public_ip.startswith("203.0.113.") and aws.private_ip.startswith("192.0.2.")
        addrs = aws.run(["ip", "-o", "addr"]).stdout
        assert aws.public_ip not in addrs
        assert f"{aws.private_ip}/24" in addrs
        stdout, _ = as_root.communicate(timeout=30)
    finally:
        as_root.kill()
        as_root.wait()
    assert as_root.returncode == 142
    assert 'Please login as the user "admin" rather than the user "root".' in stdout
    assert "uid=" not in stdout


def test_vms_ssh_to_each_other_and_see_public_sources(lab: Lab, vms: dict[str, Host]) -> None:
    do, aws = vms["do"], vms["aws"]
    key = lab.ssh_key.read_text()
    for vm in (do, aws):
        vm.run(["sh", "-c", "umask 077; mkdir -p /root/.ssh; cat > /root/.ssh/id_ed25519"],
               input=key)  # fmt: skip
    opts = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new"]
    # DO -> AWS public address: DNAT to the instance, which sees the DO VM's public address.
    run = do.run([*opts, f"admin@{aws.public_ip}", "echo $SSH_CONNECTION"], timeout=15)
    seen = run.stdout.split()
    assert seen[0] == do.public_ip and seen[2] == aws.private_ip
    # AWS -> DO: SNAT, the DO VM sees the instance's public address, never its VPC one.
    run = aws.run([*opts, f"root@{do.public_ip}", "echo $SSH_CONNECTION"], timeout=15)
    seen = run.stdout.split()
    assert seen[0] == aws.public_ip and seen[2] == do.public_ip


def test_udp_round_trips_through_the_nat_both_ways(vms: dict[str, Host]) -> None:
    do, aws = vms["do"], vms["aws"]
    # A port per direction: a conntrack entry left by one direction must not carry the other.
    for server, client, expected_source, port in (
        (aws, do, do.public_ip, "51820"),  # inbound to the NAT'd instance (DNAT)
        (do, aws, aws.public_ip, "51821"),  # outbound from it (SNAT)
    ):
        with ThreadPoolExecutor(1) as pool:
            listening = pool.submit(server.run, ["python3", "-c", UDP_SERVER, port], timeout=25)
            target = server.public_ip
            reply = client.run(["python3", "-c", UDP_CLIENT, target, port, port], timeout=25)
            peer = listening.result(timeout=30).stdout.split()
        assert reply.stdout.split() == ["pong", "ping", target, port], reply
        # The 1:1 NAT keeps the source port, as WireGuard endpoints expect.
        assert peer == [expected_source, port]


def test_vms_have_their_own_etc_and_leave_the_machine_alone(
    vms: dict[str, Host], machine_before: dict[str, str]
) -> None:
    probe = f"/etc/mck-lab-probe-{vms['do'].id}"
    vms["do"].run(["sh", "-c", f"echo private > {probe}; useradd probeuser"])
    assert vms["do"].read_file(probe) == "private\n"
    assert vms["li"].run(["test", "-e", probe], check=False).returncode == 1
    assert "probeuser" not in vms["li"].read_file("/etc/passwd")
    assert not Path(probe).exists()
    assert {path: _digest(path) for path in MACHINE_FILES} == machine_before
    # The AMI's admin replaced whatever owns uid 1000 on the machine, in that VM only.
    passwd = vms["aws"].read_file("/etc/passwd")
    assert [line for line in passwd.splitlines() if ":1000:" in line] == [
        "admin:x:1000:1000:Debian:/home/admin:/bin/bash"
    ]
    assert "admin:" not in Path("/etc/passwd").read_text()


def test_vms_cannot_change_the_machine_kernel_or_disks(vms: dict[str, Host]) -> None:
    vm = vms["li"]
    # Network sysctls are the VM's own (its netns): allowed, as WireGuard/kubelet need.
    assert vm.run(["sysctl", "-w", "net.ipv4.ip_forward=1"]).returncode == 0
    for command in (
        ["sysctl", "-w", "kernel.domainname=vm"],  # machine-wide
        ["sh", "-c", "echo never > /sys/kernel/mm/transparent_hugepage/enabled"],
        ["test", "-e", "/dev/vda"],
    ):
        assert vm.run(command, check=False).returncode != 0, command
    assert Path("/proc/sys/kernel/domainname").read_text() != "vm\n"
    assert vm.run(["test", "-c", "/dev/net/tun"]).returncode == 0  # wireguard-go needs it


def test_snap_runs_this_checkout_inside_vms_only(vms: dict[str, Host]) -> None:
    snap_py = REPO / "tests" / "standins" / "microk8s" / "snap.py"
    assert vms["li"].read_file("/usr/bin/snap") == (
        f'#!/bin/sh\nexec /usr/bin/python3 {snap_py} "$@"\n'
    )
    assert vms["li"].run(["test", "-x", "/usr/bin/snap"], check=False).returncode == 0
    assert not Path("/usr/bin/snap").exists()
    # The checkout is visible read-only: a VM cannot change the code under test.
    touch = vms["li"].run(["touch", str(REPO / "tests" / "vm-was-here")], check=False)
    assert touch.returncode != 0 and "Read-only file system" in touch.stderr


def test_delete_host_removes_the_vm(lab: Lab) -> None:
    vm = lab.create_host("linode", "labtest-deleted", [lab.ssh_pubkey])
    assert vm.netns in _netns_list()
    lab.delete_host(vm.id)
    assert vm.netns not in _netns_list()
    assert not Path(f"/proc/{vm.pid}").exists()
    for op in (lab.get_host, lab.delete_host):
        with pytest.raises(LabApiError) as error:
            op(vm.id)
        assert error.value.code == "not_found"
    # Addresses are never handed out twice within a lab.
    again = lab.create_host("linode", "labtest-deleted", [lab.ssh_pubkey])
    try:
        assert again.public_ip != vm.public_ip and again.id != vm.id
    finally:
        lab.delete_host(again.id)


def test_kill_host_powers_the_vm_off_but_the_instance_remains(lab: Lab) -> None:
    vm = lab.create_host("aws", "labtest-killed", [lab.ssh_pubkey])
    lab.kill_host(vm.id)
    assert vm.netns not in _netns_list()
    assert not Path(f"/proc/{vm.pid}").exists()
    assert lab.get_host(vm.id).to_api()["status"] == "off"
    listed = call({"op": "list_hosts"}, socket_path=str(lab.api_socket))["hosts"]
    assert {"id": vm.id, "status": "off"}.items() <= next(
        h for h in listed if h["id"] == vm.id
    ).items()
    with pytest.raises(RuntimeError, match="is off"):
        vm.run(["true"])
    lab.delete_host(vm.id)
    with pytest.raises(LabApiError, match="not_found"):
        lab.get_host(vm.id)


def test_api_round_trips_and_errors(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in lab.env().items():
        monkeypatch.setenv(name, value)
    kind = "digitalocean_ssh_key"
    put = call({"op": "put", "kind": kind, "object": {"name": "k", "public_key": lab.ssh_pubkey}})
    key_id = put["id"]
    assert put["object"] == {"name": "k", "public_key": lab.ssh_pubkey, "id": key_id}
    assert call({"op": "get", "kind": kind, "id": key_id}) == {"object": put["object"]}
    assert call({"op": "list", "kind": kind})["objects"] == [put["object"]]
    assert call({"op": "list", "kind": "aws_key_pair"}) == {"objects": []}
    updated = call({"op": "put", "kind": kind, "object": {**put["object"], "name": "k2"}})
    assert updated["id"] == key_id and updated["object"]["name"] == "k2"
    assert call({"op": "delete", "kind": kind, "id": key_id}) == {}

    created = call({"op": "create_host", "cloud": "digitalocean", "name": "labtest-api",
                    "ssh_keys": [lab.ssh_pubkey]})  # fmt: skip
    try:
        assert set(created) == {"id", "name", "cloud", "public_ip", "private_ip", "status"}
        assert created["status"] == "active" and created["id"].isdigit()
        assert call({"op": "get_host", "id": created["id"]}) == created
        assert created in call({"op": "list_hosts"})["hosts"]
        duplicate = {"op": "create_host", "cloud": "linode", "name": "labtest-api", "ssh_keys": []}
        _expect_error(duplicate, "conflict")
    finally:
        assert call({"op": "delete_host", "id": created["id"]}) == {}
    assert created not in call({"op": "list_hosts"})["hosts"]

    for request, code in (
        ({"op": "get_host", "id": created["id"]}, "not_found"),
        ({"op": "delete_host", "id": "i-0000"}, "not_found"),
        ({"op": "get", "kind": kind, "id": key_id}, "not_found"),
        ({"op": "delete", "kind": kind, "id": key_id}, "not_found"),
        ({"op": "put", "kind": kind, "object": {"id": "nope"}}, "not_found"),
        ({"op": "reboot"}, "bad_request"),
        ({"op": "get_host"}, "bad_request"),
        ({"op": "get_host", "id": 5}, "bad_request"),
        ({"op": "list_hosts", "cloud": "aws"}, "bad_request"),
        ({"op": "put", "kind": kind, "object": ["x"]}, "bad_request"),
        ({"op": "create_host", "cloud": "gcp", "name": "x", "ssh_keys": []}, "bad_request"),
        ({"op": "create_host", "cloud": "digitalocean", "name": "bad_name", "ssh_keys": []},
         "bad_request"),
        ({"op": "create_host", "cloud": "linode", "name": "a--b", "ssh_keys": []}, "bad_request"),
        ({"op": "create_host", "cloud": "aws", "name": "n", "ssh_keys": ["ssh-ed25519 AAAA"]},
         "bad_request"),
        ({"op": "create_host", "cloud": "aws", "name": "n", "ssh_keys": "ssh-ed25519 AAAA"},
         "bad_request"),
    ):  # fmt: skip
        _expect_error(request, code)

    # One connection may carry several requests; a malformed line gets an error line.
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(lab.api_socket))
        sock.sendall(b'{"op": "list", "kind": "x"}\nnot json\n[1]\n')
        replies = sock.makefile()
        lines = [replies.readline() for _ in range(3)]
    assert [json.loads(line).get("error") for line in lines] == [None, "bad_request", "bad_request"]

    monkeypatch.delenv("MCK_LAB_API")
    _expect_error({"op": "list_hosts"}, "unavailable")


def test_failed_boot_leaves_nothing(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _netns_list()
    monkeypatch.setattr(host_module, "BOOT_SCRIPT", "echo no sshd today >&2; exit 3")
    with pytest.raises(LabApiError, match="no sshd today") as error:
        lab.create_host("digitalocean", "labtest-broken", [lab.ssh_pubkey])
    assert error.value.code == "internal"
    assert _netns_list() == before
    assert all(vm.name != "labtest-broken" for vm in lab.hosts())


def test_failed_start_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: ApiServer) -> None:
        raise OSError("socket refused")

    monkeypatch.setattr(ApiServer, "start", refuse)
    lab = Lab(tmp_path)
    with pytest.raises(OSError, match="socket refused"):
        lab.start()
    assert not [ns for ns in _netns_list() if ns.startswith(f"mck{lab.id}-")]


def test_parallel_vms_and_close_leaves_nothing(tmp_path: Path) -> None:
    lab = Lab(tmp_path)
    with lab:
        requests = [{"op": "create_host", "cloud": cloud, "name": f"p-{cloud}-{i}",
                     "ssh_keys": [lab.ssh_pubkey]}
                    for cloud in ("digitalocean", "linode", "aws") for i in range(3)]  # fmt: skip
        with ThreadPoolExecutor(len(requests)) as pool:
            created = list(pool.map(lambda r: call(r, socket_path=str(lab.api_socket)), requests))
        assert len({h["public_ip"] for h in created}) == len({h["id"] for h in created}) == 9
        vms = lab.hosts()
        pids = [vm.pid for vm in vms] + [vm.process.pid for vm in vms if vm.process]
        for vm in vms:
            assert vm.run(["hostname"]).stdout.strip() == (
                vm.name if vm.cloud != "aws" else f"ip-{vm.private_ip.replace('.', '-')}"
            )
        assert sum(ns.startswith(f"mck{lab.id}-") for ns in _netns_list()) == 3 + 9
        # Two AWS instances by their public addresses (hairpin through the edge), as a
        # WireGuard mesh of AWS nodes talks: each sees the other's public address.
        first, second = [vm for vm in vms if vm.cloud == "aws"][:2]
        with ThreadPoolExecutor(1) as pool:
            listening = pool.submit(second.run, ["python3", "-c", UDP_SERVER, "51820"], timeout=25)
            reply = first.run(
                ["python3", "-c", UDP_CLIENT, second.public_ip, "51820", "51820"], timeout=25
            )
            peer = listening.result(timeout=30).stdout.split()
        assert reply.stdout.split() == ["pong", "ping", second.public_ip, "51820"]
        assert peer == [first.public_ip, "51820"]
    assert not [ns for ns in _netns_list() if ns.startswith(f"mck{lab.id}-")]
    assert (
        f"mck{lab.id}" not in subprocess.run(["ip", "link"], capture_output=True, text=True).stdout
    )
    assert [pid for pid in pids if Path(f"/proc/{pid}").exists()] == []
    assert not lab.api_socket.exists()


def _expect_error(request: dict[str, Any], code: str) -> None:
    with pytest.raises(LabApiError) as error:
        call(request)
    assert error.value.code == code, (request, error.value)
    assert error.value.message


def _netns_list() -> list[str]:
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return [line.split()[0] for line in listing.stdout.splitlines()]
