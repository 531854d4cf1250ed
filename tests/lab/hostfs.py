"""What a fresh VM has on top of the machine's root: the files cloud-init and the image would
have written (hostname, hosts, sshd config and host key, users and their authorized_keys, sudo
rules) plus the microk8s stand-in's `snap` command. Built as a directory tree that the VM's
start script copies into its private overlay (see host.py)."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

# The Debian 12 AMI's login user, exactly: uid/gid 1000, home /home/admin, passwordless sudo.
AWS_USER = "admin"
AWS_UID = 1000
# cloud-init's default_user groups on Debian images (those that exist on this machine are used).
AWS_USER_GROUPS = ("adm", "audio", "cdrom", "dialout", "dip", "floppy", "netdev", "plugdev",
                   "sudo", "video")  # fmt: skip
# cloud-init's default `disable_root_opts`: root's keys authenticate, then the session only says
# which user to use and exits 142. That is how "root login refused" looks on a Debian AMI.
DISABLE_ROOT_OPTS = (
    "no-port-forwarding,no-agent-forwarding,no-X11-forwarding,"
    'command="echo \'Please login as the user \\"{user}\\" rather than the user \\"root\\".\';'
    'echo;sleep 10;exit 142"'
)

SSHD_CONFIG = """\
# sshd of a lab VM: key-only logins, like a cloud image.
Include /etc/ssh/sshd_config.d/*.conf

HostKey /etc/ssh/ssh_host_ed25519_key
HostCertificate /etc/ssh/ssh_host_ed25519_key-cert.pub
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM yes
X11Forwarding no
PrintMotd no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
# Many parallel ansible/mck connections to one VM are normal here; do not drop them.
MaxStartups 100:30:200
# The benchmark counts, per VM, connections ("Accepted publickey") and remote commands
# ("Starting session: command") in the console log; VERBOSE is the lowest level logging both.
LogLevel VERBOSE
"""

# cloud-init's Debian /etc/hosts template (manage_etc_hosts), so sudo resolves the hostname.
HOSTS = """\
127.0.1.1 {hostname} {hostname}
127.0.0.1 localhost

# The following lines are desirable for IPv6 capable hosts
::1 localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
"""

SUDOERS = f"""\
# Created by cloud-init v. 22.4.2

# User rules for {AWS_USER}
{AWS_USER} ALL=(ALL) NOPASSWD:ALL
"""


@dataclass(frozen=True)
class VmFiles:
    cloud: str
    hostname: str
    ssh_keys: list[str]
    host_key: Path  # private key; .pub and -cert.pub beside it
    repo: Path  # this checkout: the snap wrapper runs its microk8s stand-in


def build_tree(tree: Path, vm: VmFiles) -> None:
    _dir(tree, ".", 0o755)
    _write(tree, "etc/hostname", vm.hostname + "\n")
    _write(tree, "etc/hosts", HOSTS.format(hostname=vm.hostname))
    _write(tree, "etc/ssh/sshd_config", SSHD_CONFIG)
    for suffix, mode in (("", 0o600), (".pub", 0o644), ("-cert.pub", 0o644)):
        source = vm.host_key.with_name(vm.host_key.name + suffix)
        _write(tree, f"etc/ssh/ssh_host_ed25519_key{suffix}", source.read_text(), mode)
    _dir(tree, "run/sshd", 0o755)  # sshd's privilege-separation directory
    _dir(tree, "home", 0o755)
    _dir(tree, "root", 0o700)
    _write(tree, "usr/bin/snap", _snap_wrapper(vm.repo), 0o755)
    if vm.cloud == "aws":
        _add_aws_user(tree, vm.ssh_keys)
        root_keys = [f"{DISABLE_ROOT_OPTS.format(user=AWS_USER)} {key}" for key in vm.ssh_keys]
        _authorized_keys(tree, "root", root_keys, 0, 0)
    else:
        _authorized_keys(tree, "root", vm.ssh_keys, 0, 0)


def _snap_wrapper(repo: Path) -> str:
    snap_py = repo / "tests" / "standins" / "microk8s" / "snap.py"
    # The lab's time knob reaches the stand-in (and the services it starts) through snap.
    scale = os.environ.get("MCK_LAB_TIME_SCALE")
    export = f"export MCK_LAB_TIME_SCALE={shlex.quote(scale)}\n" if scale else ""
    return f'#!/bin/sh\n{export}exec /usr/bin/python3 {snap_py} "$@"\n'


def _add_aws_user(tree: Path, ssh_keys: list[str]) -> None:
    """Replace whatever owns uid/gid 1000 on this machine with `admin`, as on the AMI."""
    _rewrite_db(
        tree, "passwd", f"{AWS_USER}:x:{AWS_UID}:{AWS_UID}:Debian:/home/{AWS_USER}:/bin/bash"
    )
    _rewrite_db(tree, "shadow", f"{AWS_USER}:!:19700:0:99999:7:::")
    _rewrite_db(tree, "group", f"{AWS_USER}:x:{AWS_UID}:", member_of=AWS_USER_GROUPS)
    _rewrite_db(tree, "gshadow", f"{AWS_USER}:!::", member_of=AWS_USER_GROUPS)
    _dir(tree, "etc/sudoers.d", 0o755)
    _write(tree, "etc/sudoers.d/90-cloud-init-users", SUDOERS, 0o440)
    _dir(tree, f"home/{AWS_USER}", 0o700, AWS_UID, AWS_UID)
    for name in (".bashrc", ".profile", ".bash_logout"):
        skeleton = Path("/etc/skel") / name
        if skeleton.exists():
            _write(tree, f"home/{AWS_USER}/{name}", skeleton.read_text(), 0o644, AWS_UID, AWS_UID)
    _authorized_keys(tree, f"home/{AWS_USER}", ssh_keys, AWS_UID, AWS_UID)


def _rewrite_db(tree: Path, name: str, entry: str, member_of: tuple[str, ...] = ()) -> None:
    """/etc/<name> without the machine's uid/gid-1000 entry, plus `entry`; for group files,
    admin appended to the member list (4th field of group, also of gshadow) of `member_of`."""
    source = Path("/etc") / name
    lines: list[str] = []
    for line in source.read_text().splitlines():
        fields = line.split(":")
        if fields[0] == AWS_USER or (name in ("passwd", "group") and fields[2:3] == [str(AWS_UID)]):
            continue
        if name in ("shadow", "gshadow") and _dropped(name, fields[0]):
            continue
        if fields[0] in member_of and len(fields) >= 4:
            fields[3] = ",".join([m for m in fields[3].split(",") if m] + [AWS_USER])
        lines.append(":".join(fields))
    lines.append(entry)
    stat = source.stat()
    _write(tree, f"etc/{name}", "\n".join(lines) + "\n", stat.st_mode & 0o7777, 0, stat.st_gid)


def _dropped(name: str, account: str) -> bool:
    """Whether the machine's passwd/group gives `account` id 1000 (its shadow entry goes too)."""
    index = {"shadow": "passwd", "gshadow": "group"}[name]
    for line in (Path("/etc") / index).read_text().splitlines():
        fields = line.split(":")
        if fields[0] == account:
            return fields[2:3] == [str(AWS_UID)]
    return False


def _authorized_keys(tree: Path, home: str, keys: list[str], uid: int, gid: int) -> None:
    # StrictModes: ~/.ssh 0700 and authorized_keys 0600, owned by the user.
    _dir(tree, f"{home}/.ssh", 0o700, uid, gid)
    text = "".join(f"{key}\n" for key in keys)
    _write(tree, f"{home}/.ssh/authorized_keys", text, 0o600, uid, gid)


def _dir(tree: Path, rel: str, mode: int, uid: int = 0, gid: int = 0) -> None:
    path = tree / rel
    path.mkdir(parents=True, exist_ok=True)
    _own(path, mode, uid, gid)


def _write(tree: Path, rel: str, text: str, mode: int = 0o644, uid: int = 0, gid: int = 0) -> None:
    path = tree / rel
    for parent in reversed(path.relative_to(tree).parents[:-1]):
        if not (tree / parent).exists():
            _dir(tree, str(parent), 0o755)
    path.write_text(text)
    _own(path, mode, uid, gid)


def _own(path: Path, mode: int, uid: int, gid: int) -> None:
    # Explicit, not umask-dependent: `cp -a` carries these onto the VM's files.
    os.chown(path, uid, gid)
    os.chmod(path, mode)
