"""The command line. Only click lives here: it turns options into Settings, calls the core, and
turns an MckError into one red line and its exit code.

The core is imported by the command that runs it, not here: `mck --help` or a run stopped by bad
input does not pay for ansible-runner, jinja2 and PyYAML (~0.1 s of CPU)."""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from mck import __version__, interrupt, safe_output
from mck.debuglog import for_run
from mck.encryption import MODES
from mck.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_UNHEALTHY, EXIT_USAGE, MckError
from mck.report import Ui

if TYPE_CHECKING:
    from mck.phases.context import Settings


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "--project",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    envvar="MCK_PROJECT",
    help="Project directory holding instances.tf, main.yml and roles/.",
)
@click.option(
    "--encryption",
    type=click.Choice(MODES),
    envvar="MCK_ENCRYPTION",
    help="How nodes encrypt traffic between them (default: the `encryption` variable in "
    "instances.tf, itself mesh by default). Fixed for a cluster's life.",
)
@click.option(
    "--boot-timeout",
    type=click.IntRange(min=1),
    default=300,
    show_default=True,
    envvar="MCK_BOOT_TIMEOUT",
    metavar="SECONDS",
    help="How long new VMs get, all at once, to answer SSH and finish cloud-init.",
)
@click.option(
    "--ready-timeout",
    type=click.IntRange(min=1),
    default=180,
    show_default=True,
    envvar="MCK_READY_TIMEOUT",
    metavar="SECONDS",
    help="How long each node's microk8s gets to report ready; a node not ready by then is "
    "named and left out while the others are joined.",
)
@click.option(
    "--force-drain",
    is_flag=True,
    help="When scaling down, pass --force to kubectl drain: pods no controller would recreate "
    "are deleted with the node (they are lost).",
)
@click.option(
    "--drain-timeout",
    type=click.IntRange(min=1),  # kubectl reads 0 as "wait forever"
    default=120,
    show_default=True,
    envvar="MCK_DRAIN_TIMEOUT",
    metavar="SECONDS",
    help="When scaling down, how long kubectl drain gets to evict a leaving node's pods.",
)
@click.option("--destroy", "do_destroy", is_flag=True, help="Tear everything down.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
@click.option("-v", "--verbose", count=True, help="More ansible output (-v, -vv, …).")
@click.version_option(__version__, prog_name="mck")
@click.pass_context
def main(
    ctx: click.Context,
    project: Path,
    encryption: str | None,
    boot_timeout: int,
    ready_timeout: int,
    force_drain: bool,
    drain_timeout: int,
    do_destroy: bool,
    yes: bool,
    verbose: int,
) -> None:
    """Converge the cluster described by the project's OpenTofu files.

    With no command: create or update the VMs, configure every node, and form or grow one
    microk8s cluster. Run it again after editing instances.tf.
    """
    interrupt.raise_on_sigterm()  # SIGTERM stops mck as ^C does: cleanly, exit 130
    if ctx.invoked_subcommand is not None:
        return
    from mck.converge import Settings, converge
    from mck.destroy import destroy

    env = dict(os.environ)
    if encryption:
        # Through tofu's own variable, so the HCL (and its validation) sees the same choice.
        env["TF_VAR_encryption"] = encryption
    settings = Settings(
        project=project,
        env=env,
        verbosity=verbose,
        boot_timeout=boot_timeout,
        ready_timeout=ready_timeout,
        force_drain=force_drain,
        drain_timeout=drain_timeout,
        yes=yes,
        ask=_ask,
    )
    ui = _ui(project, "destroy" if do_destroy else "converge", env)
    if do_destroy:
        _confirm_destroy(project, yes, ui)
        _run(lambda: destroy(settings, ui), ui)
    else:
        _run(lambda: converge(settings, ui), ui)
    _exit(ui, 0)


@main.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.pass_context
def status_command(ctx: click.Context, as_json: bool) -> None:
    """Probe every node once and show name, cloud, addresses, role and readiness.

    Changes nothing. Exit 0 when every node is in the cluster and ready, 3 otherwise;
    warnings (every voter on one cloud) do not change the exit code.
    """
    from mck.existing import status
    from mck.status import render_table, voters_line

    settings = _settings(ctx)
    ui = _ui(settings.project, "status", settings.env)
    report = None

    def run() -> None:
        nonlocal report
        report = status(settings, ui)

    _run(run, ui)
    assert report is not None
    if as_json:
        safe_output.echo(json.dumps(report.to_json(), indent=2))
    else:
        safe_output.echo(render_table(report.nodes))
        safe_output.echo(voters_line(report.nodes))
        for problem in report.problems:
            ui.error(problem)
        for warning in report.warnings:
            ui.warn(warning)
        for notice in report.notices:
            ui.say(f"note: {notice}")
    ui.debug(json.dumps(report.to_json()))
    _exit(ui, 0 if report.healthy else EXIT_UNHEALTHY)


@main.command("plan")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON on stdout.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there is nothing to do, 4 when changes are pending (2 refused, 1 error).",
)
@click.pass_context
def plan_command(ctx: click.Context, as_json: bool, detailed_exitcode: bool) -> None:
    """Show what mck would do: the OpenTofu changes per node and the cluster actions.

    Changes nothing (no apply, no playbook, no inventory write). Exit 0 when mck would go
    ahead, 2 when it would refuse (e.g. the control plane would lose quorum); with
    --detailed-exitcode, 0 only when there is nothing to do and 4 when changes are pending.
    """
    from mck.converge import Settings, show_plan
    from mck.plan_json import PlanResult

    params = ctx.parent.params if ctx.parent else {}
    env = dict(os.environ)
    if params.get("encryption"):
        env["TF_VAR_encryption"] = params["encryption"]
    settings = Settings(
        project=params.get("project", Path(".")), env=env, verbosity=params.get("verbose", 0)
    )
    ui = _ui(settings.project, "plan", env)
    result = PlanResult()

    def run() -> None:
        nonlocal result
        result = show_plan(settings, ui)

    _run(run, ui)
    if as_json:
        safe_output.echo(json.dumps(result.to_json(), indent=2))
    _exit(ui, result.exit_code(detailed=detailed_exitcode))


@main.command("backup")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Where to write it. Default: <project>/backups/<cluster>_<version>_<UTC>.tar.",
)
@click.pass_context
def backup_command(ctx: click.Context, output: Path | None) -> None:
    """Back up the Kubernetes datastore (microk8s dbctl backup on a ready voter), mode 0600."""
    from mck.backup import backup

    settings = _settings(ctx)
    ui = _ui(settings.project, "backup", settings.env)
    _run(lambda: backup(settings, ui, output), ui)
    _exit(ui, 0)


@main.command("restore")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
@click.pass_context
def restore_command(ctx: click.Context, file: Path, yes: bool) -> None:
    """Restore the datastore from FILE (mck backup's), then wait until every node is ready."""
    from mck.restore import restore

    settings = _settings(ctx)
    ui = _ui(settings.project, "restore", settings.env)
    ask = lambda q: yes or _confirmed(q, ui, "restore", "nothing restored")  # noqa: E731
    _run(lambda: restore(settings, ui, file, ask), ui)
    _exit(ui, 0)


def _settings(ctx: click.Context) -> Settings:
    """A subcommand's Settings from the group's options."""
    from mck.phases.context import Settings

    params = ctx.parent.params if ctx.parent else {}
    return Settings(
        project=params.get("project", Path(".")),
        verbosity=params.get("verbose", 0),
        ready_timeout=params.get("ready_timeout", 180),
    )


@main.command("upgrade")
@click.option("--no-backup", is_flag=True, help="Skip the datastore backup taken first.")
@click.pass_context
def upgrade_command(ctx: click.Context, no_backup: bool) -> None:
    """Upgrade microk8s on every node to the pinned channel, one node at a time (exit 2:
    refused before anything changed; 1: a node failed, the nodes after it untouched)."""
    from mck.upgrade import settings_from, upgrade

    settings = settings_from(ctx.parent.params if ctx.parent else {})
    ui = _ui(settings.project, "upgrade", settings.env)
    _run(lambda: upgrade(settings, ui, backup=not no_backup), ui)
    _exit(ui, 0)


@main.command("kubeconfig")
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Where to write it; - prints it on stdout. Default: <project>/kubeconfig, or with "
    "--merge the first path of $KUBECONFIG, else ~/.kube/config.",
)
@click.option(
    "--merge",
    is_flag=True,
    help="Add the cluster (cluster, user and context named after it) to a kubeconfig, "
    "replacing only those entries.",
)
@click.option("--use", is_flag=True, help="With --merge: make the cluster's context current.")
@click.option(
    "--server",
    metavar="URL",
    help="API address to write instead of the node's public IP, e.g. https://127.0.0.1:16443 "
    "through an SSH tunnel.",
)
@click.option("--force", is_flag=True, help="Replace an existing file mck did not write.")
@click.pass_context
def kubeconfig_command(
    ctx: click.Context, output: str | None, merge: bool, use: bool, server: str | None, force: bool
) -> None:
    """Write a kubeconfig for the cluster, read from a ready voter (file mode 0600).

    Its server is a node's public address, which the API certificate covers. Without
    public_api = true in instances.tf the API port is closed to the internet: mck says so.
    """
    from mck.kubeconfig_source import Request, export

    settings = _settings(ctx)
    ui = _ui(settings.project, "kubeconfig", settings.env)
    if use and not merge:
        _fail(ui, "--use only applies with --merge")
    request = Request(output=output, merge=merge, use=use, server=server, force=force)
    _run(lambda: export(settings, request, ui), ui)
    _exit(ui, 0)


def _ui(project: Path, command: str, env: Mapping[str, str]) -> Ui:
    """The output of one run, with its debug log under the project's .mck/logs/."""
    return Ui(log=for_run(project, command, env))


def _confirm_destroy(project: Path, yes: bool, ui: Ui) -> None:
    question = f"Destroy every VM in {project.resolve()} and remove its inventory?"
    if not yes and not _confirmed(question, ui, "destroy", "nothing destroyed"):
        _fail(ui, "nothing destroyed")


def _confirmed(question: str, ui: Ui, verb: str, nothing: str) -> bool:
    """Asked on the terminal; no terminal is a refusal naming --yes, ^C (or end of input,
    click's Abort) an interrupt with nothing done."""
    if not (sys.stdin and sys.stdin.isatty()):  # None: started with stdin closed (`<&-`)
        _fail(ui, f"refusing to {verb} without confirmation: no terminal to ask on; pass --yes")
    try:
        return click.confirm(question, default=False)
    except click.Abort:
        ui.error(f"interrupted: {nothing}")
        _exit(ui, EXIT_INTERRUPTED)


def _ask(question: str) -> bool | None:
    """A converge's question (disable an addon that holds data?); None: no terminal."""
    if not (sys.stdin and sys.stdin.isatty()):  # None: started with stdin closed (`<&-`)
        return None
    try:
        return click.confirm(question, default=False)
    except click.Abort:  # ^C or end of input at the prompt: not a yes
        return False


def _run(action: object, ui: Ui) -> None:
    assert callable(action)
    try:
        action()
    except MckError as exc:
        ui.error(exc.message)
        _exit(ui, exc.exit_code)
    except KeyboardInterrupt:
        ui.error("interrupted")
        _exit(ui, EXIT_INTERRUPTED)
    except Exception:
        # A bug: Python's traceback still goes to the terminal; the log keeps it too.
        ui.debug(traceback.format_exc())
        _details(ui.close(EXIT_ERROR), ui)
        raise


def _exit(ui: Ui, code: int) -> NoReturn:
    """Close the run's log and exit; a failed run's last line says where its log is."""
    log_path = ui.close(code)
    if code:
        _details(log_path, ui)
    safe_output.quiet_exit_flush()  # a closed stdout/stderr costs no traceback at exit
    sys.exit(code)


def _details(log_path: str | None, ui: Ui) -> None:
    if log_path:
        relative = os.path.relpath(log_path)
        ui.write(f"details: {log_path if relative.startswith('..') else relative}")


def _fail(ui: Ui, message: str) -> NoReturn:
    ui.error(message)
    _exit(ui, EXIT_USAGE)
