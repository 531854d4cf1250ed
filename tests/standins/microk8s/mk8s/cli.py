"""The `microk8s` command: dispatch like microk8s-resources/wrappers/microk8s.wrapper.

No subcommand: the list of subcommands, exit 1; `help`/-h/--help: the list, exit 0; anything
unknown: "'<x>' is not a valid MicroK8s subcommand." plus the list, exit 1.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from . import (
    cmd_add_node,
    cmd_join,
    cmd_kubectl,
    cmd_leave,
    cmd_misc,
    cmd_remove_node,
    cmd_status,
    common,
)

COMMANDS: dict[str, Callable[[list[str]], None]] = {
    "add-node": cmd_add_node.main,
    "config": cmd_misc.config,
    "disable": cmd_misc.disable,
    "enable": cmd_misc.enable,
    "join": cmd_join.main,
    "kubectl": cmd_kubectl.main,
    "leave": cmd_leave.main,
    "remove-node": cmd_remove_node.main,
    "start": cmd_misc.start,
    "status": cmd_status.main,
    "stop": cmd_misc.stop,
    "version": cmd_misc.version,
}


def _help() -> None:
    print("Available subcommands are:")
    for name in COMMANDS:
        print(f"\t{name}")
    print("\tinspect")


def main(argv: list[str]) -> None:
    common.exit_if_not_installed()
    if not argv:
        _help()
        sys.exit(1)
    app, rest = argv[0], argv[1:]
    if app in COMMANDS:
        COMMANDS[app](rest)
        sys.exit(0)
    if app in ("help", "--help", "-h"):
        _help()
        sys.exit(0)
    print(f"'{app}' is not a valid MicroK8s subcommand.")
    _help()
    sys.exit(1)
