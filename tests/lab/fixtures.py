"""pytest fixtures for the lab. `lab` is session-scoped: one lab (its networks and API) serves
every test; each test creates the VMs it needs."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from .lab import Lab

# tool -> the Debian package that provides it
REQUIRED_TOOLS = {
    "ip": "iproute2",
    "unshare": "util-linux",
    "nsenter": "util-linux",
    "/usr/sbin/sshd": "openssh-server",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
    "iptables": "iptables",
    "iptables-restore": "iptables",
    "sudo": "sudo",
}


def missing_tools() -> dict[str, str]:
    return {tool: pkg for tool, pkg in REQUIRED_TOOLS.items() if shutil.which(tool) is None}


def require_lab() -> None:
    """Skip only when asked to (MCK_SKIP_LAB=1); otherwise fail, saying what to fix."""
    if os.environ.get("MCK_SKIP_LAB") == "1":
        pytest.skip("lab disabled by MCK_SKIP_LAB=1")
    problems = []
    if os.geteuid() != 0:
        problems.append("the lab needs root (network namespaces, mounts): run the tests as root")
    missing = missing_tools()
    if missing:
        packages = " ".join(sorted(set(missing.values())))
        problems.append(
            f"missing {', '.join(missing)}: install with `apt-get install -y {packages}`"
        )
    if problems:
        pytest.fail(
            "lab tests cannot run: "
            + "; ".join(problems)
            + " (or set MCK_SKIP_LAB=1 to skip them)",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require_lab()
    with Lab(tmp_path_factory.mktemp("lab")) as started:
        yield started
