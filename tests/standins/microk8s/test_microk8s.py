"""The microk8s stand-in against what real microk8s prints and does.

Pure pieces are tested directly; the `lab` tests create four DigitalOcean VMs in the shared lab
(tests/lab) and drive the real command line: `snap install`, `microk8s status`, `add-node`,
`join`, `leave`, `remove-node`, `kubectl`. The lab tests share those VMs and build on each other
in file order (one cluster is formed, grown, broken and shrunk); the VMs are deleted after them.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from mk8s import (
    api_nodes,
    api_tables,
    channels,
    cmd_status,
    launch_config,
    membership,
    miniyaml,
    netinfo,
    paths,
    store,
    timescale,
    tokens,
)

from tests.lab.host import Host as Vm
from tests.lab.lab import Lab

# ---------------------------------------------------------------------------------------------
# Pure parts
# ---------------------------------------------------------------------------------------------


def test_changes_keep_a_node_object_and_its_creation_time() -> None:
    shared = {"cluster_id": "c", "nodes": [{"name": "n1", "created": 5.0, "internal_ip": "a"}]}
    op = {"op": "upsert_node", "node": {"name": "n1", "created": 9.0, "internal_ip": "b"}}
    new = membership.apply(shared, op)
    assert new["nodes"] == [{"name": "n1", "created": 5.0, "internal_ip": "b"}]
    assert shared["nodes"][0]["internal_ip"] == "a"  # pure: the input is untouched
    with pytest.raises(membership.ChangeError, match="unknown change"):
        membership.apply(shared, {"op": "add_member"})


@pytest.mark.parametrize(
    ("text", "name"),
    [("1.32/stable", "1.32/stable"), ("1.32", "1.32/stable"), ("latest/edge", "edge")],
)
def test_channels_normalise_like_snapd(text: str, name: str) -> None:
    assert channels.parse_channel(text).name == name


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("1.32/foo", "invalid risk in channel name: 1.32/foo"),
        ("a/b/c/d", "channel name has too many components: a/b/c/d"),
        ("", "channel name cannot be empty"),
    ],
)
def test_bad_channels_fail_like_snapd(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=re.escape(error)):
        channels.parse_channel(text)


def test_unknown_track_is_not_available() -> None:
    with pytest.raises(ValueError, match=r'snap "microk8s" is not available on 1\.99/stable'):
        channels.microk8s_release(channels.parse_channel("1.99/stable"))


def test_launch_configuration_subset_parses() -> None:
    text = """\
version: 0.1.0
extraSANs:
  - 198.51.100.10
  - "10.0.0.1"   # a comment
extraKubeletArgs:
  --node-ip: 10.10.0.1
  --max-pods: 110
  --cluster-dns: null
extraCNIEnv:
  IPv4_SUPPORT: true
addons:
- name: dns
- name: rbac
  disable: true
  args: [--a, "b c"]
"""
    (part,) = launch_config.parse(text)
    assert part.extra_sans == ["198.51.100.10", "10.0.0.1"]
    assert part.args["kubelet"] == {
        "--node-ip": "10.10.0.1",
        "--max-pods": "110",
        "--cluster-dns": None,
    }
    assert part.args["cni-env"] == {"IPv4_SUPPORT": "true"}
    assert [(a.name, a.disable, a.args) for a in part.addons] == [
        ("dns", False, []),
        ("rbac", True, ["--a", "b c"]),
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("version: 0.3.0\naddons: []\nextraSANs: [a]\n", "maximum version supported is 0.2.0"),
        ("version: 1\nextraSANs: [a]\n", 'could not parse config file version "1"'),
        ("version: 0.1.0\nextraSANs: a\n", "extraSANs must be a list"),
        ("version: 0.1.0\n  extraSANs: [a]\n", "could not parse configuration"),
    ],
)
def test_bad_launch_configurations_fail(text: str, error: str) -> None:
    with pytest.raises(launch_config.LaunchConfigError, match=re.escape(error)):
        launch_config.parse(text)


def test_multi_document_configuration_skips_empty_parts() -> None:
    parts = launch_config.parse("# header\n---\nversion: 0.2.0\naddons:\n  - name: dns\n---\n")
    assert [p.version for p in parts] == ["0.2.0"]
    assert miniyaml.load_all("a: |\n  x # kept\n  y\nb: 1\n") == [{"a": "x # kept\ny\n", "b": 1}]


@pytest.fixture
def snap_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SNAP_DATA", str(tmp_path))
    (tmp_path / "credentials").mkdir()
    (tmp_path / "var" / "lock").mkdir(parents=True)
    return tmp_path


def test_dqlite_address_prefers_a_pending_update_then_info_then_init(snap_data: Path) -> None:
    backend = paths.backend()
    backend.mkdir(parents=True)
    assert store.address() == "127.0.0.1:19001"
    (backend / "init.yaml").write_text("Cluster:\n- 10.0.0.1:19001\nAddress: 10.0.0.2:19001\n")
    assert store.address() == "10.0.0.2:19001"
    (backend / "info.yaml").write_text("Address: 10.0.0.3:19001\nID: 7\nRole: 0\n")
    assert store.address() == "10.0.0.3:19001"
    (backend / "update.yaml").write_text("Address: 10.0.0.4:19001\n")
    assert store.address() == "10.0.0.4:19001"


def test_lab_time_scale_scales_but_never_removes_a_wait(tmp_path: Path) -> None:
    missing = tmp_path / "time-scale"
    assert timescale.time_scale({}, missing) == 1.0  # realistic by default
    assert timescale.time_scale({"MCK_LAB_TIME_SCALE": "0.1"}, missing) == 0.1
    missing.write_text("0.2\n")  # inside a VM: the file the lab wrote
    assert timescale.time_scale({}, missing) == 0.2
    for bad in ("0", "-2", "x", "", "nan"):
        with pytest.raises(ValueError, match="MCK_LAB_TIME_SCALE"):
            timescale.time_scale({"MCK_LAB_TIME_SCALE": bad}, missing)


def test_tokens_without_ttl_are_single_use(snap_data: Path) -> None:
    tokens.add("a" * 32, -1)
    assert tokens.consume_cluster_token("a" * 32)
    assert not tokens.consume_cluster_token("a" * 32)


def test_tokens_with_ttl_are_reusable_until_they_expire(snap_data: Path) -> None:
    tokens.add("b" * 32, 300)
    assert tokens.consume_cluster_token("b" * 32)
    assert tokens.consume_cluster_token("b" * 32)
    tokens.add("c" * 32, -5)
    assert not tokens.consume_cluster_token("c" * 32)
    assert not tokens.consume_cluster_token("d" * 32)


def test_persistent_tokens_always_pass(snap_data: Path) -> None:
    (snap_data / "credentials" / "persistent-cluster-tokens.txt").write_text("p" * 32 + "\n")
    assert tokens.consume_cluster_token("p" * 32)
    assert tokens.consume_cluster_token("p" * 32)


ADDRS = [
    netinfo.Address("lo", "127.0.0.1", 8, "host"),
    netinfo.Address("eth0", "192.0.2.10", 24, "global"),
    netinfo.Address("wg0", "10.99.0.1", 32, "global"),
]


def test_dqlite_moves_only_to_a_local_address() -> None:
    assert netinfo.matching_bind_address("192.0.2.10:25000", ADDRS) == "192.0.2.10"
    with pytest.raises(netinfo.BindAddressError) as err:
        netinfo.matching_bind_address("203.0.113.10:25000", ADDRS)
    assert str(err.value) == (
        "address 203.0.113.10 was not found in any host interface. refuse to update dqlite bind"
        " address to 203.0.113.10 as it would break the cluster"
    )


def test_a_virtual_ip_binds_to_the_interface_address_of_its_subnet() -> None:
    addrs = [*ADDRS, netinfo.Address("eth0", "192.0.2.99", 32, "global")]
    assert netinfo.matching_bind_address("192.0.2.99:25000", addrs) == "192.0.2.10"
    assert netinfo.matching_bind_address("10.99.0.1:25000", ADDRS) == "10.99.0.1"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (5, "5s"),
        (119, "119s"),
        (125, "2m5s"),
        (600, "10m"),
        (3 * 3600 + 60, "3h1m"),
        (86400 * 3, "3d"),
    ],
)
def test_kubectl_ages(seconds: int, text: str) -> None:
    assert api_tables.human_duration(seconds) == text


def test_a_cordoned_node_is_unschedulable_in_its_node_object() -> None:
    entry = dict(name="n1", created=0, internal_ip="10.0.0.1", version="v1.32.0")
    old = api_nodes.node_object({**entry, "ready": True})
    assert old["spec"] == {}
    new = {**old, "spec": {"unschedulable": True}}
    cordoned = api_nodes.apply(entry, old, new)
    assert api_nodes.node_object({**cordoned, "ready": True})["spec"] == {"unschedulable": True}
    assert api_nodes.node_object({**cordoned, "ready": True})["status"]["addresses"][0] == {
        "address": "10.0.0.1",
        "type": "InternalIP",
    }


NOT_RUNNING_YAML = """\
microk8s:
  running: False
high-availability:
  enabled: True
  nodes:
  message: microk8s is not running. Use microk8s inspect for a deeper inspection.
"""


def test_status_yaml_when_not_running(snap_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths.set_lock("ha-cluster")
    cmd_status.print_yaml(False, [], [], [])
    assert capsys.readouterr().out == NOT_RUNNING_YAML


# ---------------------------------------------------------------------------------------------
# The lab
# ---------------------------------------------------------------------------------------------

CHANNEL = "1.32/stable"
T_FIRST = "first-join-token-0123456789abcdef"
T_SECOND = "second-join-token-0123456789abcdef"


# What a root login shell on the VMs finds: snapd puts /snap/bin first on the PATH.
PATH = "/snap/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class Result:
    rc: int
    stdout: str
    stderr: str

    def explain(self) -> str:
        return f"rc={self.rc}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


@dataclass
class Host:
    """A lab VM as these tests use it: its name (its hostname, a Kubernetes node name too), its
    public and private addresses, and commands whose exit code the test checks itself."""

    vm: Vm

    @property
    def name(self) -> str:
        return self.vm.name

    @property
    def ip(self) -> str:
        return self.vm.public_ip

    @property
    def private_ip(self) -> str:
        return self.vm.private_ip

    def run(self, argv: list[str], *, user: int | None = None, timeout: float = 60) -> Result:
        as_user = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"]
        command = ["env", f"PATH={PATH}", *(as_user if user is not None else []), *argv]
        done = self.vm.run(command, check=False, timeout=timeout)
        return Result(done.returncode, done.stdout, done.stderr)

    def net(self, *argv: str) -> None:
        """A network setting the test needs on this VM (a route, a NAT rule); it must work."""
        done = self.run(list(argv))
        assert done.rc == 0, done.explain()


@pytest.fixture(scope="module")
def hosts(lab: Lab) -> Iterator[list[Host]]:
    # Five-letter names like node1..node4, so kubectl's columns are as wide as there; random,
    # so they never clash with another test's VMs in the same lab.
    prefix = "n" + secrets.token_hex(2)[:3]
    with ThreadPoolExecutor(4) as pool:
        futures = [
            pool.submit(lab.create_host, "digitalocean", f"{prefix}{k}", [lab.ssh_pubkey])
            for k in range(1, 5)
        ]
    made = [f.result() for f in futures if f.exception() is None]
    try:
        for future in futures:
            future.result()  # raises the first VM's failure, if any
        hosts = [Host(vm) for vm in made]
        install = ["snap", "install", "microk8s", "--classic", f"--channel={CHANNEL}"]
        with ThreadPoolExecutor(len(hosts)) as pool:
            results = list(pool.map(lambda h: h.run(install), hosts))
        for result in results:
            assert result.rc == 0, result.explain()
        yield hosts
    finally:
        for vm in made:
            lab.delete_host(vm.id)


def _status(host: Host, *extra: str) -> Result:
    return host.run(["microk8s", "status", "--format", "yaml", *extra])


def _members(host: Host) -> list[tuple[str, str]]:
    out = _status(host, "--wait-ready", "--timeout", "20").stdout
    return re.findall(r"- address: (\S+)\n\s+role: (\w+)", out)


# go-dqlite's leader adjusts roles every 30 s, scaled like the stand-in scales it: a role
# change after a leave may take that long.
ROLES_PERIOD = 30.0 * float(os.environ.get("MCK_LAB_TIME_SCALE", "1") or 1)


def _eventually(check: Callable[[], bool], timeout: float = 8.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return check()


def _nodes(host: Host) -> dict[str, str]:
    out = host.run(["microk8s", "kubectl", "get", "nodes"]).stdout
    return {line.split()[0]: line.split()[1] for line in out.splitlines()[1:] if line.strip()}


SINGLE_NODE_HEAD = """\
microk8s:
  running: True
high-availability:
  enabled: True
  nodes:
    - address: 127.0.0.1:19001
      role: voter
addons:
  - name: dns
    repository: core
    description: CoreDNS
    version: 1.10.1
    status: enabled
  - name: ha-cluster
    repository: core
    description: Configure high availability on the current node
    version: 0.1.0
    status: enabled
  - name: helm
"""


@pytest.mark.lab
def test_snap_install_messages_like_snapd(hosts: list[Host]) -> None:
    h1 = hosts[0]
    again = h1.run(["snap", "install", "microk8s", "--classic", f"--channel={CHANNEL}"])
    assert (again.rc, again.stderr) == (
        0,
        "snap \"microk8s\" is already installed, see 'snap help refresh'\n",
    )
    bad = h1.run(["snap", "install", "microk8s", "--classic", "--channel=1.32/foo"])
    assert (bad.rc, bad.stderr) == (
        1,
        "error: cannot parse channel: invalid risk in channel name: 1.32/foo\n",
    )
    core = h1.run(["snap", "install", "core"])
    assert (core.rc, core.stdout) == (0, "core 16-2.61.4-20240607 from Canonical** installed\n")
    assert h1.run(["test", "-d", "/snap/core/current"]).rc == 0  # what `creates:` guards on
    listing = h1.run(["snap", "list"]).stdout.splitlines()
    assert listing[0].split() == ["Name", "Version", "Rev", "Tracking", "Publisher", "Notes"]
    assert listing[2] == "microk8s  v1.32.9             8511   1.32/stable    canonical**  classic"
    assert h1.run(["microk8s", "version"]).stdout == "MicroK8s v1.32.9 revision 8511\n"


@pytest.mark.lab
def test_single_node_status_yaml(hosts: list[Host]) -> None:
    h1 = hosts[0]
    result = _status(h1)
    assert result.rc == 0, result.explain()
    assert result.stdout.startswith(SINGLE_NODE_HEAD), result.stdout
    assert "  - name: community\n    repository: core\n" in result.stdout
    assert "    version:  \n" in result.stdout  # status.py's "{:<1}" pads an empty version
    assert result.stdout.count("    status: enabled\n") == 4
    assert result.stdout.count("    status: disabled\n") == 20
    pretty = h1.run(["microk8s", "status"]).stdout
    assert pretty.startswith(
        "microk8s is running\nhigh-availability: no\n"
        "  datastore master nodes: 127.0.0.1:19001\n  datastore standby nodes: none\n"
    )
    assert "    dns                  # (core) CoreDNS\n" in pretty


@pytest.mark.lab
def test_microk8s_needs_root(hosts: list[Host]) -> None:
    result = hosts[0].run(["microk8s", "status"], user=65534)
    assert result.rc == 1
    assert result.stderr.startswith("Insufficient permissions to access MicroK8s.\n")


@pytest.mark.lab
def test_add_node_json_lists_every_address(hosts: list[Host]) -> None:
    h1 = hosts[0]
    result = h1.run(["microk8s", "add-node", "--token", T_FIRST, "--format", "json"])
    assert result.rc == 0, result.explain()
    check = h1.run(["microk8s", "add-node", "--format", "token-check"]).stdout.split("/")[1].strip()
    assert re.fullmatch(r"[0-9a-f]{12}", check)
    assert result.stdout == (
        "{\n"
        f'  "token": "{T_FIRST}/{check}",\n'
        '  "urls": [\n'
        f'    "{h1.ip}:25000/{T_FIRST}/{check}",\n'
        f'    "{h1.private_ip}:25000/{T_FIRST}/{check}"\n'
        "  ]\n"
        "}\n"
    )
    short = h1.run(["microk8s", "add-node", "--token", "x" * 31])
    assert (short.rc, short.stdout) == (1, "Invalid token size.  It must be 32 characters long.\n")


@pytest.mark.lab
def test_second_node_joins_as_spare(hosts: list[Host]) -> None:
    h1, h2 = hosts[:2]
    joined = h2.run(["microk8s", "join", f"{h1.ip}:25000/{T_FIRST}"])
    assert joined.rc == 0, joined.explain()
    assert joined.stdout == (
        f"Contacting cluster at {h1.ip}\n"
        "Waiting for this node to finish joining the cluster.  \n"
        "Successfully joined the cluster.\n"
    )
    expected = [(f"{h1.ip}:19001", "voter"), (f"{h2.ip}:19001", "spare")]
    assert _members(h1) == expected
    assert _members(h2) == expected


@pytest.mark.lab
def test_third_node_through_any_member_makes_three_voters(hosts: list[Host]) -> None:
    h1, h2, h3 = hosts[:3]
    assert h2.run(["microk8s", "add-node", "--token", T_SECOND, "--token-ttl", "300"]).rc == 0
    joined = h3.run(["microk8s", "join", f"{h2.ip}:25000/{T_SECOND}"])
    assert joined.rc == 0, joined.explain()
    expected = [(f"{h.ip}:19001", "voter") for h in (h1, h2, h3)]
    # go-dqlite (app/app.go run, maybePromoteOurselves): the joiner starts as a spare and asks the
    # leader to promote it; join's restart_all_services stops it mid catch-up, and the leader
    # refuses role changes ("a configuration change is already in progress") until raft settles,
    # then retries on its roles-adjustment period: under load that takes well over 8 s.
    for host in (h1, h2, h3):
        assert _eventually(lambda host=host: _members(host) == expected, 90), _status(host).stdout
    table = h3.run(["microk8s", "kubectl", "get", "nodes"]).stdout.splitlines()
    assert table[0] == "NAME    STATUS   ROLES    AGE   VERSION"
    assert [row.split()[:3] for row in table[1:]] == [
        [h.name, "Ready", "<none>"] for h in (h1, h2, h3)
    ]
    assert all(row.endswith("   v1.32.9") for row in table[1:])


@pytest.mark.lab
def test_join_failures_exit_like_microk8s(hosts: list[Host]) -> None:
    h1, h4 = hosts[0], hosts[3]

    def join(connection: str) -> Result:
        return h4.run(["microk8s", "join", connection])

    name = join(f"{h1.name}:25000/{'z' * 32}")
    assert (name.rc, name.stdout) == (1, "Invalid connection: Invalid master IP\n")
    short = join(f"{h1.ip}:25000/tooshort")
    assert (short.rc, short.stdout) == (
        1,
        "Invalid connection: Cluster token size should be at least 32 bytes\n",
    )
    wrong = join(f"{h1.ip}:25000/{'w' * 32}")
    assert wrong.rc == 6, wrong.explain()
    assert wrong.stdout.endswith("Connection failed. Invalid token (500).\n")
    reused = join(f"{h1.ip}:25000/{T_FIRST}")  # used up by h2's join
    assert (reused.rc, reused.stdout.splitlines()[-1]) == (
        6,
        "Connection failed. Invalid token (500).",
    )
    expired = "expired-token-0123456789abcdef0123"
    assert h1.run(["microk8s", "add-node", "--token", expired, "--token-ttl", "0"]).rc == 0
    time.sleep(0.6)
    assert join(f"{h1.ip}:25000/{expired}").rc == 6
    unverified = "unverified-token-0123456789abcdef"
    assert h1.run(["microk8s", "add-node", "--token", unverified]).rc == 0
    forged = join(f"{h1.ip}:25000/{unverified}/000000000000")
    assert forged.rc == 4, forged.explain()
    assert forged.stdout.endswith(
        f"Joining cluster failed. Could not verify the identity of {h1.ip}."
        " Use '--skip-verify' to skip server certificate check.\n"
    )
    closed = join(f"{h1.ip}:25001/{unverified}")
    assert closed.rc == 1
    assert "ConnectionRefusedError" in closed.stderr


@pytest.mark.lab
def test_leader_refuses_a_join_address_it_does_not_own(hosts: list[Host]) -> None:
    """The AWS case: the address reaches the leader through DNAT but is not on its interfaces."""
    h1, h4 = hosts[0], hosts[3]
    public = "203.0.113.50"
    h4.net(
        "iptables",
        "-t",
        "nat",
        "-A",
        "PREROUTING",
        "-d",
        public,
        "-j",
        "DNAT",
        "--to-destination",
        h4.ip,
    )
    h1.net("ip", "route", "add", f"{public}/32", "via", h4.ip)
    token = "nat-token-0123456789abcdef0123456"
    assert h4.run(["microk8s", "add-node", "--token", token]).rc == 0
    refused = h1.run(["microk8s", "join", f"{public}:25000/{token}"])
    assert refused.rc == 6, refused.explain()
    assert refused.stdout == (
        f"Contacting cluster at {public}\n"
        "Connection failed. Failed to retrieve dqlite cluster nodes: failed to find matching dqlite"
        f" bind address for {public}:25000: address {public} was not found in any host interface."
        f" refuse to update dqlite bind address to {public} as it would break the cluster (500).\n"
    )
    # The agent consumed the single-use token before refusing, as the real one does.
    again = h1.run(["microk8s", "join", f"{public}:25000/{token}"])
    assert again.stdout.endswith("Connection failed. Invalid token (500).\n")
    assert _members(h4) == [("127.0.0.1:19001", "voter")]
    assert len(_members(h1)) == 3


@pytest.mark.lab
def test_worker_joins_without_joining_dqlite(hosts: list[Host]) -> None:
    h1, h4 = hosts[0], hosts[3]
    token = "worker-token-0123456789abcdef0123"
    assert h1.run(["microk8s", "add-node", "--token", token]).rc == 0
    joined = h4.run(["microk8s", "join", f"{h1.ip}:25000/{token}", "--worker"])
    assert joined.rc == 0, joined.explain()
    assert "The node has joined the cluster and will appear in the nodes list" in joined.stdout
    assert joined.stdout.endswith("Successfully joined the cluster.\n")
    status = h4.run(["microk8s", "status", "--format", "yaml"])
    assert (status.rc, status.stdout) == (
        0,
        "This MicroK8s deployment is acting as a node in a cluster.\n"
        "Please use the control plane node.\n",
    )
    assert _eventually(lambda: _nodes(h1).get(h4.name) == "Ready"), _nodes(h1)
    assert [role for _, role in _members(h1)] == ["voter"] * 3


@pytest.mark.lab
def test_stopped_node_says_so_and_goes_not_ready(hosts: list[Host]) -> None:
    h1, h3 = hosts[0], hosts[2]
    stop = h3.run(["microk8s", "stop"])
    assert (stop.rc, stop.stdout) == (0, "Stopped.\nStopped.\n")
    status = _status(h3)
    assert (status.rc, status.stdout) == (0, "microk8s is not running, try microk8s start\n")
    kubectl = h3.run(["microk8s", "kubectl", "get", "nodes"])
    assert (kubectl.rc, kubectl.stderr) == (1, "microk8s is not running, try microk8s start\n")
    assert _eventually(lambda: _nodes(h1).get(h3.name) == "NotReady"), _nodes(h1)
    assert _status(h1).rc == 0  # two of three voters keep quorum
    assert h3.run(["microk8s", "start"]).rc == 0
    assert _status(h3, "--wait-ready", "--timeout", "20").rc == 0
    assert _eventually(lambda: _nodes(h1).get(h3.name) == "Ready"), _nodes(h1)


@pytest.mark.lab
def test_leave_then_remove_node(hosts: list[Host]) -> None:
    h1, h2, h3 = hosts[:3]
    left = h3.run(["microk8s", "leave"])
    assert left.rc == 0, left.explain()
    assert left.stdout.startswith(
        "Generating new cluster certificates.\nWaiting for node to start."
    )
    assert _members(h3) == [("127.0.0.1:19001", "voter")]
    assert (
        "  - name: dns\n    repository: core\n    description: CoreDNS\n"
        "    version: 1.10.1\n    status: disabled\n" in _status(h3).stdout
    )
    assert _eventually(
        lambda: _members(h1) == [(f"{h1.ip}:19001", "voter"), (f"{h2.ip}:19001", "spare")],
        ROLES_PERIOD + 10,
    )
    assert _eventually(lambda: _nodes(h1).get(h3.name) == "NotReady"), _nodes(h1)
    assert h1.run(["microk8s", "remove-node", h3.name]).rc == 0
    assert h3.name not in _nodes(h1)
    live = h1.run(["microk8s", "remove-node", h2.name])
    assert live.rc == 1
    assert live.stdout.startswith(
        f"Removal failed. Node {h2.name} is registered with dqlite. "
        "Please, run first 'microk8s leave' on the departing node. \n"
    )
    only_voter = h1.run(["microk8s", "leave"])
    assert only_voter.rc == 3, only_voter.explain()
    assert only_voter.stdout.startswith(
        "This node currently holds the only copy of the Kubernetes database so it cannot leave"
    )
    never = h3.run(["microk8s", "leave"])
    assert (never.rc, never.stdout) == (
        1,
        "This MicroK8s deployment is not acting as a node in a cluster.\n",
    )


@pytest.mark.lab
def test_dead_node_status_and_forced_removal(hosts: list[Host]) -> None:
    h1, h2 = hosts[:2]
    assert h2.run(["snap", "stop", "microk8s"]).stdout == "Stopped.\n"
    status = _status(h2)
    assert (status.rc, status.stdout) == (1, NOT_RUNNING_YAML)
    assert _eventually(lambda: _nodes(h1).get(h2.name) == "NotReady"), _nodes(h1)
    removed = h1.run(["microk8s", "remove-node", h2.name, "--force"])
    assert removed.rc == 0, removed.explain()
    assert _members(h1) == [(f"{h1.ip}:19001", "voter")]
    assert set(_nodes(h1)) == {h1.name, hosts[3].name}
    gone = h1.run(["microk8s", "remove-node", h2.name])
    assert (gone.rc, gone.stdout) == (1, f"Node {h2.name} does not exist in Kubernetes.\n")


# The role's template renders JSON-quoted scalars; the stand-in must read them like yaml.v2.
LAUNCH_CONFIG = """\
# Ansible managed
version: 0.1.0
extraSANs:
  - "{public}"
  - "{private}"
  - "k8s.example.test"
extraKubeletArgs:
  "--node-ip": "{private}"
addons:
  - name: "dns"
"""


def _write(host: Host, path: str, text: str) -> None:
    done = host.run(
        ["sh", "-c", f"mkdir -p {Path(path).parent} && cat > {path} <<'EOF'\n{text}EOF"]
    )
    assert done.rc == 0, done.explain()


def _reinstall(host: Host, config: str) -> None:
    removed = host.run(["snap", "remove", "microk8s"])
    assert (removed.rc, removed.stdout) == (0, "microk8s removed\n"), removed.explain()
    assert host.run(["test", "-e", "/var/snap/microk8s"]).rc == 1
    _write(host, "/var/snap/microk8s/common/.microk8s.yaml", config)
    done = host.run(["snap", "install", "microk8s", "--classic", f"--channel={CHANNEL}"])
    assert done.rc == 0, done.explain()


@pytest.mark.lab
def test_launch_configuration_and_join_over_a_second_network(hosts: list[Host]) -> None:
    """node-ip from the launch configuration; a join over the private network moves the
    leader's dqlite to its private address and gives the joiner the address the leader saw."""
    _, h2, h3, _ = hosts
    _reinstall(h3, LAUNCH_CONFIG.format(public=h3.ip, private=h3.private_ip))
    wide = h3.run(["microk8s", "kubectl", "get", "nodes", "-o", "wide"]).stdout.splitlines()
    assert wide[1].split()[5] == h3.private_ip
    assert "status: enabled" in _status(h3).stdout.split("- name: dns")[1].split("- name:")[0]
    sans = h3.run(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in",
                   "/var/snap/microk8s/current/certs/server.crt"]).stdout  # fmt: skip
    assert "DNS:k8s.example.test" in sans and f"IP Address:{h3.private_ip}" in sans
    # A configuration the cluster agent rejects fails the install; the snap is not left behind.
    assert h2.run(["snap", "remove", "microk8s"]).rc == 0
    _write(h2, "/var/snap/microk8s/common/.microk8s.yaml", "version: 9.0.0\nextraSANs: [a]\n")
    failed = h2.run(["snap", "install", "microk8s", "--classic", f"--channel={CHANNEL}"])
    assert failed.rc == 1
    assert failed.stderr.startswith("error: cannot perform the following tasks:\n")
    assert (
        "config file version is 9.0.0 but the maximum version supported is 0.2.0" in failed.stderr
    )
    assert h2.run(["test", "-e", "/snap/bin/microk8s"]).rc == 1
    assert h2.run(["rm", "/var/snap/microk8s/common/.microk8s.yaml"]).rc == 0
    assert h2.run(["snap", "install", "microk8s", "--classic", f"--channel={CHANNEL}"]).rc == 0
    token = "private-net-token-0123456789abcdef"
    assert h3.run(["microk8s", "add-node", "--token", token]).rc == 0
    joined = h2.run(["microk8s", "join", f"{h3.private_ip}:25000/{token}"])
    assert joined.rc == 0, joined.explain()
    expected = [(f"{h3.private_ip}:19001", "voter"), (f"{h2.private_ip}:19001", "spare")]
    assert _members(h3) == expected
    assert _members(h2) == expected
    # The joiner took the leader's kubelet args, with --node-ip set to the address it came from.
    rows = h3.run(["microk8s", "kubectl", "get", "nodes", "-o", "wide"]).stdout.splitlines()[1:]
    assert {r.split()[0]: r.split()[5] for r in rows} == {
        h2.name: h2.private_ip,
        h3.name: h3.private_ip,
    }


@pytest.mark.lab
def test_joiner_behind_nat_claims_success_but_never_gets_ready(hosts: list[Host]) -> None:
    """The other half of the AWS case: the leader sees the joiner's NAT address, tells it to run
    dqlite there, the joiner cannot bind it; join.py still reports success."""
    h1, h4 = hosts[0], hosts[3]
    left = h4.run(["microk8s", "leave"])  # h4 was a worker: it resets itself only
    assert left.rc == 0, left.explain()
    assert left.stdout.startswith("Configuring services.\nGenerating new cluster certificates.\n")
    assert _members(h4) == [("127.0.0.1:19001", "voter")]
    nat = "203.0.113.60"
    h4.net(
        "iptables", "-t", "nat", "-A", "POSTROUTING", "-d", h1.ip, "-j", "SNAT", "--to-source", nat
    )
    h1.net("ip", "route", "add", f"{nat}/32", "via", h4.ip)
    token = "behind-nat-token-0123456789abcdef"
    assert h1.run(["microk8s", "add-node", "--token", token]).rc == 0
    joined = h4.run(["microk8s", "join", f"{h1.ip}:25000/{token}"])
    assert joined.rc == 0, joined.explain()
    assert joined.stdout == (
        f"Contacting cluster at {h1.ip}\n"
        "Waiting for this node to finish joining the cluster. " + ".. " * 10 + " \n"
        "Successfully joined the cluster.\n"
    )
    status = _status(h4)
    assert (status.rc, status.stdout) == (1, NOT_RUNNING_YAML)
    assert _members(h1) == [(f"{h1.ip}:19001", "voter")]
