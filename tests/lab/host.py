"""A lab VM: its own network namespace, and inside it `unshare --mount --uts --pid --fork` with a
tmpfs-backed overlay of the whole root (so apt, users, /etc edits stay private to the VM), fresh
/proc and /sys, tmpfs /run /tmp /root /home, then chroot and sshd as the VM's PID 1. Killing that
PID 1 takes every process of the VM with it (kernel semantics of PID namespaces)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .commands import run as run_command
from .network import Port

# Runs as PID 1 of the VM's fresh mount/uts/pid namespaces, still seeing the machine's root.
# $1 host dir (fs/ = mount point, tree/ = files to add), $2 hostname, $3 repo checkout,
# $4 seconds until sshd starts, $5 seconds until cloud-init is done (from power-on),
# $6 cloud-init's datasource.
BOOT_SCRIPT = r"""
set -eu
fs=$1/fs root=$1/fs/root
mount -t tmpfs -o mode=0755 mck-vm "$fs"
mkdir "$fs/upper" "$fs/work" "$root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$fs/upper,workdir=$fs/work" "$root"
# Roles run as root in here: like a container runtime, leave nothing that changes the machine
# itself writable. /proc/sys stays writable only for the VM's own network namespace.
mount -t proc proc "$root/proc"
mount --bind "$root/proc/sys" "$root/proc/sys"
mount --bind "$root/proc/sys/net" "$root/proc/sys/net"
mount -o remount,bind,ro "$root/proc/sys"
if [ -e "$root/proc/sysrq-trigger" ]; then
  mount --bind -o ro "$root/proc/sysrq-trigger" "$root/proc/sysrq-trigger"
fi
mount -t sysfs -o ro sysfs "$root/sys"
# A minimal /dev: no disks of the machine; a private pty instance; tun for wireguard-go.
mount -t tmpfs -o mode=0755,nosuid mck-dev "$root/dev"
mkdir "$root/dev/pts" "$root/dev/shm" "$root/dev/net"
for dev in null zero full random urandom tty net/tun; do
  touch "$root/dev/$dev"
  mount --bind "/dev/$dev" "$root/dev/$dev"
done
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
mount -t tmpfs -o mode=0700 tmpfs "$root/root"
mount -t tmpfs -o mode=0755 tmpfs "$root/home"
rm -f "$root"/etc/ssh/ssh_host_*
cp -a "$1/tree/." "$root/"
# The checkout, read-only, at its own path: the snap wrapper runs the microk8s stand-in from it
# even when it lives on another mount or under /tmp (which the VM replaces).
mkdir -p "$root$3"
mount -o bind,ro "$3" "$root$3"
hostname "$2"
# This namespace copied the machine's /run/netns mounts; holding them would keep every other
# namespace (and its veths) alive after `ip netns del`.
umount -l /run/netns 2>/dev/null || true
# Inside the VM's root, the boot a cloud VM goes through after its API says "active":
# cloud-init runs (status.json says so), sshd answers only after the boot delay, and
# cloud-init finishes later still. PID 1 ends as sshd, which reaps the finisher.
exec chroot "$root" /bin/sh -c '
  /usr/bin/python3 "$1" start "$2"
  ( sleep "$4"; exec /usr/bin/python3 "$1" done "$2" ) </dev/null &
  sleep "$3"
  exec /usr/sbin/sshd -D -e' vm-boot "$3/tests/standins/cloudinit/boot.py" "$6" "$4" "$5"
"""

# What a root login shell on a VM starts with; nothing leaks in from pytest's environment.
VM_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "USER": "root",
    "LOGNAME": "root",
    "SHELL": "/bin/bash",
    "LANG": "C.UTF-8",
}
# What cloud-init reports as each cloud's datasource (`cloud-init status --long`'s detail).
DATASOURCES = {
    "digitalocean": "DataSourceDigitalOcean",
    "linode": "DataSourceNoCloud",
    "aws": "DataSourceEc2Local",
}
SSH_PORT_HEX = "0016"
TCP_LISTEN = "0A"


class HostBootError(RuntimeError):
    pass


@dataclass
class Host:
    id: str
    name: str
    cloud: str
    public_ip: str
    private_ip: str
    netns: str
    pid: int = 0  # the VM's PID 1 (sshd) as seen from the machine; nsenter target
    status: str = "active"  # "off" once killed under the cloud's feet
    hostname: str = ""
    # Seconds from power-on until sshd answers, and until cloud-init is done (the lab draws
    # them; see Lab). The cloud API says "active" at power-on, before either.
    ssh_delay: float = 0.0
    cloud_init_delay: float = 0.0
    workdir: Path = field(default=Path(), repr=False)
    port: Port | None = field(default=None, repr=False)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def run(
        self,
        argv: list[str],
        *,
        input: str | None = None,
        check: bool = True,
        timeout: float = 30,
    ) -> subprocess.CompletedProcess[str]:
        """Run argv inside the VM (its net, mount, uts and pid namespaces, in its root) as root."""
        if self.status != "active":
            raise RuntimeError(f"VM {self.name} ({self.id}) is {self.status}")
        nsenter = ["nsenter", "-t", str(self.pid), "-n", "-m", "-u", "-p", "-r", "-w"]
        return run_command([*nsenter, *argv], input=input, check=check, timeout=timeout, env=VM_ENV)

    def read_file(self, path: str) -> str:
        # Through the VM's own view (cat inside it): absolute symlinks and its mounts resolve
        # as the VM sees them, which /proc/<pid>/root would not do.
        return self.run(["cat", "--", path]).stdout

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "cloud": self.cloud,
            "public_ip": self.public_ip,
            "private_ip": self.private_ip,
            "status": self.status,
        }

    def boot(self, repo: Path, timeout: float) -> None:
        """Power the VM on in its (already wired) netns; return once its PID 1 runs inside the
        VM's root, as a cloud API reports "active": sshd answers `ssh_delay` seconds later
        (wait_for_ssh)."""
        (self.workdir / "fs").mkdir(exist_ok=True)
        argv = [
            "ip", "netns", "exec", self.netns,
            "unshare", "--mount", "--uts", "--pid", "--fork", "--kill-child",
            "sh", "-c", BOOT_SCRIPT, "vm-init", str(self.workdir), self.hostname, str(repo),
            f"{self.ssh_delay:.3f}", f"{max(self.cloud_init_delay, self.ssh_delay):.3f}",
            DATASOURCES[self.cloud],
        ]  # fmt: skip
        with open(self.workdir / "console.log", "ab") as console:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=console,
                # Not in pytest's process group: a ^C reaches pytest, whose teardown stops VMs.
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        self.pid = self._wait_for_init(deadline)
        self._wait_for_root(deadline)

    def wait_for_ssh(self, timeout: float) -> None:
        """Return once sshd listens on :22 (`timeout` seconds at most)."""
        self._wait_for_sshd(time.monotonic() + timeout)

    def signal_kill(self) -> None:
        """Power off: SIGKILL the VM's PID 1; the kernel kills every other process of the VM."""
        self.status = "off"
        if self.process is None:
            return
        if self.pid:
            # unshare stays alive to reap it: killed too, it would leave PID 1 a zombie for the
            # container's slow init to collect.
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        else:
            # Not found yet: `unshare --kill-child` takes its child down with it.
            self.process.kill()

    def reap(self) -> None:
        if self.process is not None:
            # PID 1 of this container reaps slowly: the lab waits for its own children.
            self.process.wait(timeout=30)

    def _wait_for_init(self, deadline: float) -> int:
        """The pid of unshare's forked child: PID 1 inside the VM."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        while True:
            self._check_alive()
            try:
                pids = children.read_text().split()
            except FileNotFoundError:
                pids = []
            if pids:
                return int(pids[0])
            self._pause(deadline, "its init process")

    def _wait_for_root(self, deadline: float) -> None:
        """Until PID 1 has entered the VM's root: from then on run() sees the VM's files."""
        while True:
            self._check_alive()
            try:
                if os.readlink(f"/proc/{self.pid}/root") != "/":
                    return
            except FileNotFoundError:
                pass
            self._pause(deadline, "its init to enter the VM's root")

    def _wait_for_sshd(self, deadline: float) -> None:
        # The VM's socket table, read from outside: /proc/<pid>/net is per network namespace.
        while True:
            self._check_alive()
            for table in ("tcp", "tcp6"):
                try:
                    lines = Path(f"/proc/{self.pid}/net/{table}").read_text().splitlines()[1:]
                except FileNotFoundError:
                    lines = []
                for line in lines:
                    fields = line.split()
                    if fields[1].endswith(":" + SSH_PORT_HEX) and fields[3] == TCP_LISTEN:
                        return
            self._pause(deadline, "sshd to listen on port 22")

    def _check_alive(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise HostBootError(
                f"VM {self.name} died while booting (exit {self.process.returncode}):\n"
                + self.console_tail()
            )

    def _pause(self, deadline: float, what: str) -> None:
        if time.monotonic() > deadline:
            raise HostBootError(
                f"VM {self.name}: timed out waiting for {what}\n" + self.console_tail()
            )
        time.sleep(0.01)

    def console_tail(self, lines: int = 20) -> str:
        try:
            text = (self.workdir / "console.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
