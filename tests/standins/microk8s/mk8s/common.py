"""Checks the microk8s wrappers make before a command runs, with their exact words.

From microk8s-resources/actions/common/utils.sh (bash: messages to stderr) and
scripts/wrappers/common/utils.py (python: messages to stdout); which one a command uses
depends on whether its wrapper or its script makes the check.
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import NoReturn

from . import paths

NOT_RUNNING = "microk8s is not running, try microk8s start"


def die(message: str, code: int = 1, *, err: bool = False) -> NoReturn:
    print(message, file=sys.stderr if err else sys.stdout, flush=True)
    sys.exit(code)


def exit_if_not_installed() -> None:
    # Only reachable when microk8s.py is run by hand: the snap's command exists only when installed.
    if not paths.is_installed():
        die("microk8s: command not found (the stand-in snap is not installed)", 127, err=True)


def exit_if_no_permissions() -> None:
    """utils.sh exit_if_no_permissions: the admin kubeconfig must be readable."""
    if not os.access(paths.credentials("client.config"), os.R_OK):
        user = os.environ.get("USER") or getpass.getuser()
        lines = [
            "Insufficient permissions to access MicroK8s.",
            f"You can either try again with sudo or add the user {user} to the 'microk8s' group:",
            "",
            f"    sudo usermod -a -G microk8s {user}",
            "    sudo chown -R $USER ~/.kube",
            "",
            "After this, reload the user groups either via a reboot or by running"
            " 'newgrp microk8s'.",
        ]
        die("\n".join(lines), 1, err=True)


def exit_if_stopped() -> None:
    """utils.sh exit_if_stopped: stderr, exit 1 (status.py has its own, exit 0)."""
    if paths.has_lock("stopped.lock"):
        die(NOT_RUNNING, 1, err=True)


def is_worker() -> bool:
    return paths.has_lock("clustered.lock")
