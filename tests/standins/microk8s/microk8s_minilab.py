"""A minimal lab for testing the microk8s stand-in on its own: a few hosts on one bridge.

Each host is a network namespace `<prefix>-h<k>` (veth to a bridge in `<prefix>-net`, addresses
198.51.100.<10+k>/24 and 198.18.0.<10+k>/24 on eth0) holding a process that unshared mount, UTS
and PID namespaces, mounted a tmpfs-backed overlay of the whole root (lowerdir=/), a fresh
/proc and /sys and a tmpfs /run, bind-mounted this directory, set its hostname and chrooted;
as PID 1 it reaps orphans, and killing it ends every process of the host. Commands run inside
with nsenter. The host's /usr/bin/snap is the contract's wrapper around snap.py. Names carry a
random prefix so parallel runs never collide; `close()` removes everything it made.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = "/usr/bin/python3"
PATH = "/snap/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# PID 1 of a host: set the host up, say "ready", then reap orphans until killed.
HOLDER = r"""
import os, signal, socket, subprocess, sys, time
work, name, here = sys.argv[1], sys.argv[2], sys.argv[3]
def sh(*a): subprocess.run(a, check=True)
sh("mount", "-t", "tmpfs", "tmpfs", work)
for d in ("upper", "work", "root"): os.mkdir(f"{work}/{d}")
root = f"{work}/root"
sh("mount", "-t", "overlay", "overlay", "-o",
   f"lowerdir=/,upperdir={work}/upper,workdir={work}/work", root)
sh("mount", "-t", "proc", "proc", f"{root}/proc")
sh("mount", "-t", "sysfs", "sysfs", f"{root}/sys")
sh("mount", "--rbind", "/dev", f"{root}/dev")
sh("mount", "-t", "tmpfs", "tmpfs", f"{root}/run")
os.makedirs(f"{root}{here}", exist_ok=True)
sh("mount", "--bind", "-o", "ro", here, f"{root}{here}")
# Do not hold the machine's /run/netns mounts: that would keep other labs' namespaces alive.
subprocess.run(["umount", "-l", "/run/netns"], stderr=subprocess.DEVNULL)
socket.sethostname(name)
os.chroot(root); os.chdir("/")
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
print("ready", flush=True)
while True:
    try:
        os.wait()
    except ChildProcessError:
        time.sleep(0.2)
"""


@dataclass
class Result:
    rc: int
    stdout: str
    stderr: str

    def explain(self) -> str:
        return f"rc={self.rc}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


class Host:
    def __init__(self, lab: MiniLab, index: int) -> None:
        self.lab = lab
        self.index = index
        self.name = f"node{index}"
        self.netns = f"{lab.prefix}-h{index}"
        self.ip = f"198.51.100.{10 + index}"
        self.private_ip = f"198.18.0.{10 + index}"
        self.holder: subprocess.Popen[str] | None = None
        self.pid1 = 0

    def run(self, argv: list[str], *, user: int | None = None, timeout: float = 60) -> Result:
        ids = ["-S", str(user), "-G", str(user)] if user is not None else []
        cmd = [
            "nsenter", "-t", str(self.pid1), "-m", "-u", "-p", "-n", "-r", "-w", *ids,
            "env", "-i", f"PATH={PATH}", "HOME=/root", "LANG=C.UTF-8", *argv,
        ]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        return Result(done.returncode, done.stdout, done.stderr)

    def ns(self, *argv: str) -> None:
        """A command in the host's network namespace only (addresses, routes, iptables)."""
        subprocess.run(["ip", "netns", "exec", self.netns, *argv], check=True, capture_output=True)


class MiniLab:
    def __init__(self, hosts: int) -> None:
        self.prefix = f"m8{secrets.token_hex(2)}"
        self.work = Path(tempfile.mkdtemp(prefix=f"mck-{self.prefix}-"))
        self.bridge_ns = f"{self.prefix}-net"
        self.hosts = [Host(self, k) for k in range(1, hosts + 1)]
        self.netns_made: list[str] = []

    def _ip(self, *argv: str) -> None:
        subprocess.run(["ip", *argv], check=True, capture_output=True)

    def start(self) -> None:
        self._ip("netns", "add", self.bridge_ns)
        self.netns_made.append(self.bridge_ns)
        self._ip("-n", self.bridge_ns, "link", "add", "br0", "type", "bridge")
        self._ip("-n", self.bridge_ns, "link", "set", "br0", "up")
        for host in self.hosts:
            self._ip("netns", "add", host.netns)
            self.netns_made.append(host.netns)
            peer = f"v{self.prefix}{host.index}"
            # Both ends are created inside lab namespaces: nothing touches the root namespace.
            self._ip(
                "-n", host.netns, "link", "add", "eth0", "type", "veth",
                "peer", "name", peer, "netns", self.bridge_ns,
            )  # fmt: skip
            self._ip("-n", self.bridge_ns, "link", "set", peer, "master", "br0", "up")
            for cidr in (f"{host.ip}/24", f"{host.private_ip}/24"):
                self._ip("-n", host.netns, "addr", "add", cidr, "dev", "eth0")
            self._ip("-n", host.netns, "link", "set", "eth0", "up")
            self._ip("-n", host.netns, "link", "set", "lo", "up")
        with ThreadPoolExecutor(len(self.hosts)) as pool:
            list(pool.map(self._boot, self.hosts))

    def _boot(self, host: Host) -> None:
        work = self.work / host.name
        work.mkdir()
        host.holder = subprocess.Popen(
            [
                "ip", "netns", "exec", host.netns,
                "unshare", "--mount", "--uts", "--pid", "--fork", "--kill-child",
                PYTHON, "-c", HOLDER, str(work), host.name, str(HERE),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert host.holder.stdout is not None
        if host.holder.stdout.readline().strip() != "ready":
            raise RuntimeError(f"{host.name} did not boot")
        children = Path(f"/proc/{host.holder.pid}/task/{host.holder.pid}/children")
        host.pid1 = int(children.read_text().split()[0])
        snap = f'#!/bin/sh\nexec {PYTHON} {HERE / "snap.py"} "$@"\n'
        host.run(["sh", "-c", f"cat > /usr/bin/snap <<'EOF'\n{snap}EOF\nchmod 755 /usr/bin/snap"])

    def close(self) -> None:
        for host in self.hosts:
            if host.holder is None:
                continue
            if host.pid1:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(host.pid1, signal.SIGKILL)
            try:
                host.holder.wait(timeout=10)
            except subprocess.TimeoutExpired:
                host.holder.kill()
                host.holder.wait(timeout=10)
        for netns in reversed(self.netns_made):
            subprocess.run(["ip", "netns", "del", netns], capture_output=True, check=False)
        shutil.rmtree(self.work, ignore_errors=True)


def can_run() -> str | None:
    """Why the lab cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("ip", "unshare", "nsenter", "openssl", "iptables"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    if not Path(PYTHON).exists():
        return f"needs {PYTHON}"
    return None


if __name__ == "__main__":  # a manual smoke run: python3 microk8s_minilab.py
    lab = MiniLab(2)
    try:
        t0 = time.monotonic()
        lab.start()
        print(f"booted in {time.monotonic() - t0:.1f}s", file=sys.stderr)
        print(lab.hosts[0].run(["hostname"]).stdout)
    finally:
        lab.close()
