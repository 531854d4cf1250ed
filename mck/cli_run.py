"""How every command runs a core action: its output and debug log, its questions, and how an
MckError becomes one red line and its exit code. Shared by mck/cli.py (the converge) and
mck/cli_commands.py (the other commands); click is used only here and there."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from mck import safe_output
from mck.debuglog import for_run
from mck.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE, MckError
from mck.report import Ui

if TYPE_CHECKING:
    from mck.phases.context import Settings


def subcommand_settings(ctx: click.Context) -> Settings:
    """A subcommand's Settings from the group's options."""
    from mck.phases.context import Settings

    params = ctx.parent.params if ctx.parent else {}
    return Settings(
        project=params.get("project", Path(".")),
        verbosity=params.get("verbose", 0),
        ready_timeout=params.get("ready_timeout", 180),
        lock_timeout=params.get("lock_timeout", 0),
    )


def ui_for(project: Path, command: str, env: Mapping[str, str]) -> Ui:
    """The output of one run, with its debug log under the project's .mck/logs/."""
    return Ui(log=for_run(project, command, env))


def confirm_destroy(project: Path, yes: bool, ui: Ui) -> None:
    question = f"Destroy every VM in {project.resolve()} and remove its inventory?"
    if not yes and not confirmed(question, ui, "destroy", "nothing destroyed"):
        fail(ui, "nothing destroyed")


def confirmed(question: str, ui: Ui, verb: str, nothing: str) -> bool:
    """Asked on the terminal; no terminal is a refusal naming --yes, ^C (or end of input,
    click's Abort) an interrupt with nothing done."""
    if not (sys.stdin and sys.stdin.isatty()):  # None: started with stdin closed (`<&-`)
        fail(ui, f"refusing to {verb} without confirmation: no terminal to ask on; pass --yes")
    try:
        return click.confirm(question, default=False)
    # click turns a ^C during its read into Abort; one that lands between printing the question
    # and reading (a loaded machine widens that gap) arrives as KeyboardInterrupt itself.
    except (click.Abort, KeyboardInterrupt):
        ui.error(f"interrupted: {nothing}")
        exit_with(ui, EXIT_INTERRUPTED)


def ask(question: str) -> bool | None:
    """A converge's question (disable an addon that holds data?); None: no terminal."""
    if not (sys.stdin and sys.stdin.isatty()):  # None: started with stdin closed (`<&-`)
        return None
    try:
        return click.confirm(question, default=False)
    except (click.Abort, KeyboardInterrupt):  # ^C or end of input at the prompt: not a yes
        return False


def run_action(action: object, ui: Ui) -> None:
    assert callable(action)
    try:
        action()
    except MckError as exc:
        ui.error(exc.message)
        exit_with(ui, exc.exit_code)
    except KeyboardInterrupt:
        ui.error("interrupted")
        exit_with(ui, EXIT_INTERRUPTED)
    except Exception:
        # A bug: Python's traceback still goes to the terminal; the log keeps it too.
        ui.debug(traceback.format_exc())
        details(ui.close(EXIT_ERROR), ui)
        raise


def exit_with(ui: Ui, code: int) -> NoReturn:
    """Close the run's log and exit; a failed run's last line says where its log is."""
    log_path = ui.close(code)
    if code:
        details(log_path, ui)
    safe_output.quiet_exit_flush()  # a closed stdout/stderr costs no traceback at exit
    sys.exit(code)


def details(log_path: str | None, ui: Ui) -> None:
    if log_path:
        relative = os.path.relpath(log_path)
        ui.write(f"details: {log_path if relative.startswith('..') else relative}")


def fail(ui: Ui, message: str) -> NoReturn:
    ui.error(message)
    exit_with(ui, EXIT_USAGE)
