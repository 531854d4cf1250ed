"""The stand-in's datastore is real dqlite: what go-dqlite does, seen through microk8s and the
real `dqlite` shell (Debian's go-dqlite) run inside the lab VMs.

One cluster of four DigitalOcean VMs, built up and broken down in file order: two nodes agree
on the leader and the roles; three voters of failure domain 1 and then a node of domain 2,
which go-dqlite leaves a stand-by (it moves voters only when one goes offline); the leader's VM
killed (the two others keep quorum, elect a leader and accept writes, the stand-by is promoted
at the next role adjustment); two voters gone (writes fail, status is not ready). Role
adjustments run every 30 s scaled by MCK_LAB_TIME_SCALE; the waits here scale with it.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.lab.host import Host
from tests.lab.lab import Lab

PATH = "/snap/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CHANNEL = "1.32/stable"
BACKEND = "/var/snap/microk8s/current/var/kubernetes/backend"
ROLE = {0: "voter", 1: "standby", 2: "spare"}
# go-dqlite's default roles adjustment period, scaled like the stand-in scales it.
PERIOD = 30.0 * float(os.environ.get("MCK_LAB_TIME_SCALE", "1") or 1)
DOMAIN_2 = 'version: 0.1.0\nextraConfigFiles:\n  ha-conf: "failure-domain=2\\n"\n'
KUBECTL = ("microk8s", "kubectl")
FELIX_PATCH = (*KUBECTL, "patch", "felixconfiguration", "default", "--type", "merge", "-p")


def _run(host: Host, *argv: str, timeout: float = 120) -> tuple[int, str, str]:
    done = host.run(["env", f"PATH={PATH}", *argv], check=False, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


def _ok(host: Host, *argv: str) -> str:
    rc, out, err = _run(host, *argv)
    assert rc == 0, f"{argv}: rc={rc}\n{out}{err}"
    return out


def _shell(host: Host, command: str) -> str:
    """The real dqlite shell on the VM, as microk8s' wrappers call $SNAP/bin/dqlite."""
    return _ok(
        host, "dqlite", "-s", f"file://{BACKEND}/cluster.yaml", "-c", f"{BACKEND}/cluster.crt",
        "-k", f"{BACKEND}/cluster.key", "-f", "json", "k8s", command,
    ).strip()  # fmt: skip


def _roles(host: Host) -> dict[str, str]:
    return {m["Address"]: ROLE[m["Role"]] for m in json.loads(_shell(host, ".cluster"))}


def _status_roles(host: Host) -> dict[str, str]:
    out = _ok(host, "microk8s", "status", "--format", "yaml")
    lines = [line.strip() for line in out.splitlines()]
    pairs = itertools.pairwise(lines)
    return {
        a.removeprefix("- address: "): b.removeprefix("role: ")
        for a, b in pairs
        if a.startswith("- address: ") and b.startswith("role: ")
    }


def _eventually(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except AssertionError:
            pass
        time.sleep(0.5)
    return check()


def _join(leader: Host, joiner: Host) -> None:
    token = secrets.token_hex(16)
    _ok(leader, "microk8s", "add-node", "--token", token)
    _ok(joiner, "microk8s", "join", f"{leader.public_ip}:25000/{token}")
    _ok(joiner, "microk8s", "status", "--wait-ready", "--timeout", "60")


def _address(host: Host) -> str:
    return f"{host.public_ip}:19001"


class Cluster:
    def __init__(self, lab: Lab, hosts: list[Host]) -> None:
        self.lab, self.hosts, self.killed = lab, hosts, set[str]()

    def alive(self) -> list[Host]:
        return [h for h in self.hosts if h.id not in self.killed]

    def kill(self, host: Host) -> None:
        self.lab.kill_host(host.id)
        self.killed.add(host.id)

    def by_address(self, address: str) -> Host:
        return next(h for h in self.hosts if _address(h) == address)


@pytest.fixture(scope="module")
def cluster(lab: Lab) -> Iterator[Cluster]:
    prefix = "q" + secrets.token_hex(2)[:3]
    with ThreadPoolExecutor(4) as pool:
        futures = [
            pool.submit(lab.create_host, "digitalocean", f"{prefix}{k}", [lab.ssh_pubkey])
            for k in range(1, 5)
        ]
    made = [f.result() for f in futures if f.exception() is None]
    try:
        for future in futures:
            future.result()
        # The fourth VM's microk8s starts in failure domain 2 (launch configuration).
        _ok(made[3], "sh", "-c", "mkdir -p /var/snap/microk8s/common && cat > "
            f"/var/snap/microk8s/common/.microk8s.yaml <<'EOF'\n{DOMAIN_2}EOF")  # fmt: skip
        install = ("snap", "install", "microk8s", "--classic", f"--channel={CHANNEL}")
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda h: _ok(h, *install), made))
        yield Cluster(lab, made)
    finally:
        for vm in made:
            lab.delete_host(vm.id)


@pytest.mark.lab
def test_two_nodes_dqlite_agree_on_leader_and_roles(cluster: Cluster) -> None:
    h1, h2 = cluster.hosts[:2]
    _join(h1, h2)
    expected = {_address(h1): "voter", _address(h2): "spare"}
    assert _eventually(lambda: _roles(h1) == expected, PERIOD + 10), _roles(h1)
    assert _roles(h2) == expected
    assert _shell(h1, ".leader") == _shell(h2, ".leader") == _address(h1)
    assert _status_roles(h1) == _status_roles(h2) == expected


@pytest.mark.lab
def test_a_later_failure_domain_stays_standby(cluster: Cluster) -> None:
    """go-dqlite moves no voter to spread domains once three are online (microk8s #4024)."""
    h1, _, h3, h4 = cluster.hosts
    assert _ok(h4, "cat", f"{BACKEND}/failure-domain").strip() == "2"
    _join(h1, h3)
    voters = {_address(h): "voter" for h in cluster.hosts[:3]}
    assert _eventually(lambda: _roles(h1) == voters, PERIOD + 10), _roles(h1)
    _join(h1, h4)
    expected = {**voters, _address(h4): "standby"}
    assert _eventually(lambda: _roles(h1) == expected, PERIOD + 10), _roles(h1)
    described = json.loads(_shell(h1, f".describe {_address(h4)}"))
    assert described["FailureDomain"] == 2
    time.sleep(2.5 * PERIOD)  # more than two role adjustments by the leader
    for host in cluster.hosts:
        assert _roles(host) == expected
    assert _status_roles(h4) == expected


@pytest.mark.lab
def test_killed_leader_is_replaced_and_writes_go_on(cluster: Cluster) -> None:
    h1 = cluster.hosts[0]
    leader = cluster.by_address(_shell(h1, ".leader"))
    cluster.kill(leader)
    survivors = [h for h in cluster.alive() if h is not cluster.hosts[3]]
    assert len(survivors) == 2

    def new_leader() -> bool:
        return _shell(survivors[0], ".leader") not in ("", _address(leader))

    assert _eventually(new_leader, 60), _shell(survivors[0], ".leader")
    assert _shell(survivors[1], ".leader") == _shell(survivors[0], ".leader")
    for host in survivors:
        _ok(host, "microk8s", "status", "--wait-ready", "--timeout", "60")
    out = _ok(survivors[0], *FELIX_PATCH, '{"spec":{"logSeverityScreen":"Debug"}}')
    assert out == "felixconfiguration.crd.projectcalico.org/default patched\n"
    get = (*KUBECTL, "get", "felixconfiguration", "default", "-o")
    assert _ok(survivors[1], *get, "jsonpath={.spec.logSeverityScreen}") == "Debug"
    # At the next adjustment the leader replaces the offline voter with the online stand-by.
    h4 = cluster.hosts[3]
    assert _eventually(lambda: _roles(h4).get(_address(h4)) == "voter", 2 * PERIOD + 20)
    assert _roles(h4)[_address(leader)] in ("spare", "standby")


@pytest.mark.lab
def test_quorum_lost_fails_writes_and_readiness(cluster: Cluster) -> None:
    voters = [h for h in cluster.alive() if _roles(cluster.alive()[0]).get(_address(h)) == "voter"]
    assert len(voters) == 3, voters
    for host in voters[:2]:
        cluster.kill(host)
    last = voters[2]
    rc, out, err = _run(last, *FELIX_PATCH, '{"spec":{"logSeverityScreen":"Info"}}')
    assert rc == 1, (rc, out, err)
    rc, out, _ = _run(last, "microk8s", "status", "--format", "yaml")
    assert rc == 1 and "running: False" in out and "message:" in out
    # The shell keeps looking for a leader; there is none to find.
    rc, out, _ = _run(last, "timeout", "20", "dqlite", "-s", f"file://{BACKEND}/cluster.yaml",
                      "-c", f"{BACKEND}/cluster.crt", "-k", f"{BACKEND}/cluster.key", "k8s",
                      ".leader")  # fmt: skip
    assert rc != 0 and out == ""
