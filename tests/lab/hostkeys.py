"""A VM whose SSH host keys changed under the same address and cloud instance id: what a client
that recorded the old keys must refuse. A cloud does this itself: Linode's "Rebuild a Linode"
keeps the instance and its interfaces but deletes its disks and deploys a new image
(techdocs.akamai.com/linode-api/reference/post-rebuild-linode-instance), whose first boot writes
new host keys; so does anything else that answers at that address.

No restart is needed for sshd to serve the new files: the lab's sshd (host.py, the VM's PID 1)
re-executes itself for every connection (OpenSSH's default `rexec`), and the re-executed child
loads every HostKey and HostCertificate file from disk itself (OpenSSH 9.x sshd.c, main():
recv_rexec_state() brings only the configuration, then sshkey_load_private() per
options.host_key_files). Each swap is checked with ssh-keyscan from the controller namespace.
The new keys are certified by the lab's host CA like the old ones, so the lab's own
`@cert-authority` line still vouches for the VM: only a client that pinned the old key sees a
change.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from . import sshkeys
from .commands import run
from .host import Host

if TYPE_CHECKING:
    from .lab import Lab

KEY_FILE = re.compile(r"^/etc/ssh/ssh_host_(\w+)_key$")
SERVED_WITHIN = 10.0  # seconds for the next connection to be offered the swapped keys


@contextmanager
def replaced_host_keys(lab: Lab, host: Host) -> Iterator[tuple[list[str], list[str]]]:
    """Give `host`'s sshd a new key of each type it has (key, .pub and, when the old one had
    one, a certificate), yield (old public keys, new public keys) as `type base64` pairs, and
    put the original files back afterwards, however the block ends."""
    original = _read(host)
    old = sorted(_bare(original[path + ".pub"]) for path in _keys(original))
    try:
        new_files = _generate(lab, host, original)
        new = sorted(_bare(new_files[path + ".pub"]) for path in _keys(original))
        _install(host, new_files)
        _until_served(lab, host, new)
        yield old, new
    finally:
        _install(host, original)
        _until_served(lab, host, old)


def _generate(lab: Lab, host: Host, original: dict[str, str]) -> dict[str, str]:
    """New files for each host key of `original`: same type, certified when the old one was."""
    scratch = Path(tempfile.mkdtemp(prefix="hostkeys.", dir=host.workdir))
    try:
        files: dict[str, str] = {}
        for path in _keys(original):
            key_type = KEY_FILE.match(path)[1]  # type: ignore[index]
            local = scratch / Path(path).name
            sshkeys.generate(local, f"root@{host.hostname}", key_type)
            suffixes = ["", ".pub"]
            if path + "-cert.pub" in original:
                lab.certify_host_key(host, local)
                suffixes.append("-cert.pub")
            for suffix in suffixes:
                files[path + suffix] = Path(f"{local}{suffix}").read_text()
        return files
    finally:
        shutil.rmtree(scratch)  # private keys: none outlives the swap but in the VM


def _read(host: Host) -> dict[str, str]:
    """Every /etc/ssh/ssh_host_* file of the VM, by path."""
    listing = host.run(["sh", "-c", "ls -1 /etc/ssh/ssh_host_*"]).stdout.split()
    return {path: host.read_file(path) for path in listing}


def _keys(files: dict[str, str]) -> list[str]:
    return sorted(path for path in files if KEY_FILE.match(path))


def _bare(pub_line: str) -> str:
    """`type base64` of a public key line (no comment)."""
    return " ".join(pub_line.split()[:2])


def _install(host: Host, files: dict[str, str]) -> None:
    """Each file written beside its place then renamed over it: sshd never reads half a key."""
    script = 'umask 077 && cat > "$1.new" && chmod "$2" "$1.new" && mv -f "$1.new" "$1"'
    for path, text in sorted(files.items()):
        mode = "644" if path.endswith(".pub") else "600"  # as ssh-keygen writes them
        host.run(["sh", "-c", script, "install-key", path, mode], input=text)


def _until_served(lab: Lab, host: Host, want: list[str]) -> None:
    """ssh-keyscan (every key type, plain keys, no certificates) until the VM offers exactly
    `want`."""
    deadline = time.monotonic() + SERVED_WITHIN
    while True:
        scan = run(
            lab.ctl_argv(["ssh-keyscan", "-T", "5", host.public_ip]),
            check=False,
            timeout=30,
        )
        served = sorted(_bare(line.split(None, 1)[1]) for line in scan.stdout.splitlines())
        if served == want:
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"VM {host.name}: sshd offers {served}, not {want}: {scan.stderr.strip()}"
            )
        time.sleep(0.2)
