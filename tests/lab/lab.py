"""The lab: stand-in VMs for DigitalOcean, Linode and AWS on lab networks, and the fake cloud
API that creates them. One Lab = one run id; everything it makes is named `mck<id>-*` and is
gone after close(), including after a failed start or a failed VM boot.

    with Lab(workdir) as lab:
        host = lab.create_host("digitalocean", "node-0", [lab.ssh_pubkey], wait_for_ssh=True)
        subprocess.run(lab.ctl_argv(["ssh", "-i", str(lab.ssh_key), f"root@{host.public_ip}"]))
"""

from __future__ import annotations

import os
import random
import secrets
import tempfile
import threading
from pathlib import Path
from types import TracebackType

from tests.standins.microk8s.mk8s.timescale import time_scale

from . import sshkeys
from .api_client import ENV_VAR, LabApiError
from .api_server import ApiServer
from .cloud_api import CloudApi
from .commands import run
from .host import Host
from .hostfs import VmFiles, build_tree
from .network import AWS_PUBLIC_PREFIX, AWS_VPC_PREFIX, PUBLIC_PREFIX, LabNetwork
from .object_store import ObjectStore
from .validation import check_host_request

REPO = Path(__file__).resolve().parents[2]
PRIVATE_PREFIX = {"digitalocean": "198.18.0", "linode": "198.18.1"}
FIRST_HOST_OCTET = 10
LAST_HOST_OCTET = 254
BOOT_TIMEOUT = 60.0  # per VM; 24 booting at once on 2 cores take a few seconds each
# A cloud says a VM is active/running at power-on; sshd answers tens of seconds later, and
# cloud-init finishes after that (EC2: connection refused "before SSH starts", then normal;
# GCE users see ~30 s). Each VM draws its delays from these ranges, in seconds of modelled
# time (times MCK_LAB_TIME_SCALE).
SSH_DELAY = (15.0, 45.0)  # power-on -> sshd listens
CLOUD_INIT_AFTER_SSH = (5.0, 20.0)  # sshd listens -> cloud-init done
UNIX_SOCKET_MAX = 100  # sun_path is 108 bytes


class Lab:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.id = _free_run_id()
        self.ctl_netns = f"mck{self.id}-ctl"
        self.ssh_key = workdir / "id_ed25519"
        self.ssh_pubkey = ""
        # `@cert-authority * <lab CA>`: verifies every VM's host key (StrictHostKeyChecking=yes).
        self.known_hosts = workdir / "known_hosts"
        self.api_socket = workdir / "labd.sock"
        if len(str(self.api_socket)) > UNIX_SOCKET_MAX:
            self.api_socket = Path(tempfile.mkdtemp(prefix=f"mck{self.id}-")) / "labd.sock"
        self.network = LabNetwork(f"mck{self.id}")
        self.store = ObjectStore()
        self._api = ApiServer(self.api_socket, CloudApi(self, self.store).handle)
        self._ca_key = workdir / "host_ca"
        self._lock = threading.Condition()
        self._hosts: dict[str, Host] = {}  # by id, in creation order; "off" VMs stay
        self._booting: dict[str, Host] = {}
        self._used_ids: set[str] = set()
        self._next_index = 0
        self._next_public = FIRST_HOST_OCTET
        self._next_aws = FIRST_HOST_OCTET
        self._closing = False
        self.time_scale = time_scale()

    # lifecycle

    def __enter__(self) -> Lab:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        try:
            (self.workdir / "hosts").mkdir(parents=True, exist_ok=True)
            self.ssh_pubkey = sshkeys.generate(self.ssh_key, f"mck-lab-{self.id}")
            ca_pub = sshkeys.generate(self._ca_key, f"mck-lab-{self.id}-host-ca")
            self.known_hosts.write_text(f"@cert-authority * {ca_pub}\n")
            self.network.start()
            self._api.start()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop the API, power off every VM, remove every namespace, link and NAT rule."""
        with self._lock:
            self._closing = True
        self._api.close()
        with self._lock:
            # A VM still booting either finishes (and is registered) or cleans itself up.
            self._lock.wait_for(lambda: not self._booting, timeout=BOOT_TIMEOUT + 10)
            hosts = list(self._hosts.values()) + list(self._booting.values())
        for host in hosts:  # all at once: the kernel tears the PID namespaces down in parallel
            host.signal_kill()
        for host in hosts:
            host.reap()
        self.network.close()
        leftovers = self.leftover_namespaces()
        if leftovers:
            raise RuntimeError(f"lab {self.id}: namespaces left behind: {leftovers}")

    def leftover_namespaces(self) -> list[str]:
        listing = run(["ip", "netns", "list"]).stdout
        return [
            line.split()[0] for line in listing.splitlines() if line.startswith(f"mck{self.id}-")
        ]

    # how callers use the lab

    def ctl_argv(self, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ctl_netns, *argv]

    def env(self) -> dict[str, str]:
        return {ENV_VAR: str(self.api_socket), "CHECKPOINT_DISABLE": "1"}

    def hosts(self) -> list[Host]:
        with self._lock:
            return list(self._hosts.values())

    def host(self, name: str) -> Host:
        """The VM named `name` (its instance name / label / Name tag)."""
        for host in self.hosts():
            if host.name == name:
                return host
        raise KeyError(f"no VM named {name!r}; VMs: {[h.name for h in self.hosts()]}")

    # the cloud's operations (also served by the API)

    def create_host(
        self, cloud: str, name: str, ssh_keys: list[str], *, wait_for_ssh: bool = False
    ) -> Host:
        """A new VM, returned as the cloud API reports it active: before sshd answers, unless
        `wait_for_ssh` (for tests that use a VM directly rather than through a converge)."""
        check_host_request(cloud, name, ssh_keys)
        host = self._allocate(cloud, name)
        try:
            self._build(host, ssh_keys)
        except BaseException as exc:
            self._teardown(host)
            with self._lock:
                del self._booting[host.id]
                self._lock.notify_all()
            if isinstance(exc, Exception):
                raise LabApiError("internal", f"VM {name} failed to boot: {exc}") from exc
            raise
        with self._lock:
            del self._booting[host.id]
            self._hosts[host.id] = host
            self._lock.notify_all()
        if wait_for_ssh:
            host.wait_for_ssh(BOOT_TIMEOUT + host.ssh_delay)
        return host

    def get_host(self, host_id: str) -> Host:
        with self._lock:
            if host_id not in self._hosts:
                raise LabApiError("not_found", f"no instance {host_id!r}")
            return self._hosts[host_id]

    def delete_host(self, host_id: str) -> None:
        with self._lock:
            if host_id not in self._hosts:
                raise LabApiError("not_found", f"no instance {host_id!r}")
            host = self._hosts.pop(host_id)
        self._teardown(host)

    def kill_host(self, host_id: str) -> None:
        """The VM dies under the cloud's feet: processes and network gone, the instance stays
        (status "off") until deleted."""
        host = self.get_host(host_id)
        self._teardown(host)

    def certify_host_key(self, host: Host, host_key: Path) -> Path:
        """Sign `host_key`.pub with the lab's host CA for the names and addresses clients use
        to reach `host`; returns the -cert.pub path."""
        principals = [host.public_ip, host.private_ip, host.hostname]
        return sshkeys.sign_host_key(self._ca_key, host_key, host.name, principals)

    # internals

    def _allocate(self, cloud: str, name: str) -> Host:
        with self._lock:
            if self._closing:
                raise LabApiError("internal", f"lab {self.id} is shutting down")
            taken = [h.name for h in (*self._hosts.values(), *self._booting.values())]
            if name in taken:
                raise LabApiError("conflict", f"an instance named {name!r} already exists")
            if cloud == "aws":
                octet = self._next_aws
                public_ip, private_ip = f"{AWS_PUBLIC_PREFIX}.{octet}", f"{AWS_VPC_PREFIX}.{octet}"
                hostname = f"ip-{private_ip.replace('.', '-')}"
            else:
                octet = self._next_public
                public_ip = f"{PUBLIC_PREFIX}.{octet}"
                private_ip = f"{PRIVATE_PREFIX[cloud]}.{octet}"
                hostname = name
            if octet > LAST_HOST_OCTET:
                raise LabApiError("conflict", f"the lab has no {cloud} addresses left")
            if cloud == "aws":
                self._next_aws += 1  # never reused: a stale known_hosts entry cannot match
            else:
                self._next_public += 1
            index = self._next_index
            self._next_index += 1
            ssh_delay = _draw(SSH_DELAY) * self.time_scale
            host = Host(
                id=self._new_id(cloud),
                name=name,
                cloud=cloud,
                public_ip=public_ip,
                private_ip=private_ip,
                netns=f"mck{self.id}-h{index}",
                hostname=hostname,
                workdir=self.workdir / "hosts" / f"h{index}",
                ssh_delay=ssh_delay,
                cloud_init_delay=ssh_delay + _draw(CLOUD_INIT_AFTER_SSH) * self.time_scale,
            )
            self._booting[host.id] = host
            return host

    def _new_id(self, cloud: str) -> str:
        while True:
            if cloud == "digitalocean":
                new = str(300_000_000 + secrets.randbelow(200_000_000))
            elif cloud == "linode":
                new = str(40_000_000 + secrets.randbelow(30_000_000))
            else:
                new = "i-0" + secrets.token_hex(8)
            if new not in self._used_ids:
                self._used_ids.add(new)
                return new

    def _build(self, host: Host, ssh_keys: list[str]) -> None:
        host.workdir.mkdir(parents=True)
        host_key = host.workdir / "ssh_host_ed25519_key"
        sshkeys.generate(host_key, f"root@{host.hostname}")
        self.certify_host_key(host, host_key)
        build_tree(
            host.workdir / "tree",
            VmFiles(host.cloud, host.hostname, ssh_keys, host_key, REPO, self.time_scale),
        )
        self.network.add_netns(host.netns)
        link = host.netns.rsplit("-", 1)[1]  # "h<k>": unique inside the lab's own namespaces
        if host.cloud == "aws":
            host.port = self.network.attach_vpc(host.netns, link, host.public_ip, host.private_ip)
        else:
            host.port = self.network.attach_public(
                host.netns, link, host.public_ip, host.private_ip
            )
        host.boot(REPO, BOOT_TIMEOUT)

    def _teardown(self, host: Host) -> None:
        """Power off and unplug a VM; safe on a half-built or already-off one."""
        host.signal_kill()
        host.reap()
        self.network.detach_host(host.netns)
        self.network.delete_netns(host.netns)


def _draw(bounds: tuple[float, float]) -> float:
    return random.uniform(*bounds)


def _free_run_id() -> str:
    """4 hex chars no other lab on this machine is using right now."""
    while True:
        run_id = secrets.token_hex(2)
        if not any(name.startswith(f"mck{run_id}-") for name in _netns_names()):
            return run_id


def _netns_names() -> list[str]:
    try:
        return os.listdir("/run/netns")
    except FileNotFoundError:
        return []
