"""The `microk8s` command: dispatch like microk8s-resources/wrappers/microk8s.wrapper.

No subcommand: the list of subcommands, exit 1; `help`/-h/--help: the list, exit 0; anything
unknown: "'<x>' is not a valid MicroK8s subcommand." plus the list, exit 1.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

from . import common

# Subcommand -> (module, function). Imported on use: a status probe should not pay for
# loading join's TLS client or the daemon's servers.
COMMANDS: dict[str, tuple[str, str]] = {
    "add-node": ("cmd_add_node", "main"),
    "config": ("cmd_misc", "config"),
    "dbctl": ("cmd_dbctl", "main"),
    "disable": ("cmd_misc", "disable"),
    "enable": ("cmd_misc", "enable"),
    "join": ("cmd_join", "main"),
    "kubectl": ("cmd_kubectl", "main"),
    "leave": ("cmd_leave", "main"),
    "refresh-certs": ("cmd_refresh_certs", "main"),
    "remove-node": ("cmd_remove_node", "main"),
    "start": ("cmd_misc", "start"),
    "status": ("cmd_status", "main"),
    "stop": ("cmd_misc", "stop"),
    "version": ("cmd_misc", "version"),
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
        module, function = COMMANDS[app]
        run: Callable[[list[str]], None] = getattr(
            importlib.import_module(f"{__package__}.{module}"), function
        )
        run(rest)
        sys.exit(0)
    if app in ("help", "--help", "-h"):
        _help()
        sys.exit(0)
    print(f"'{app}' is not a valid MicroK8s subcommand.")
    _help()
    sys.exit(1)
