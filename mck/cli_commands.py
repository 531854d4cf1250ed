"""The commands besides the converge: each turns its options into a call of its own core module
(mck/existing.py, converge.show_plan, backup.py, restore.py, upgrade.py, kubeconfig_source.py),
imported when it runs so that `mck --help` pays for none of them. Registered on the group in
mck/cli.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from mck import safe_output
from mck.cli_run import confirmed, exit_with, fail, run_action, subcommand_settings, ui_for
from mck.errors import EXIT_UNHEALTHY


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.pass_context
def status_command(ctx: click.Context, as_json: bool) -> None:
    """Probe every node once and show name, cloud, addresses, role and readiness.

    Changes nothing. Exit 0 when every node is in the cluster and ready, 3 otherwise;
    warnings (every voter on one cloud) do not change the exit code.
    """
    from mck.existing import status
    from mck.status import render_table, voters_line

    settings = subcommand_settings(ctx)
    ui = ui_for(settings.project, "status", settings.env)
    report = None

    def run() -> None:
        nonlocal report
        report = status(settings, ui)

    run_action(run, ui)
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
    exit_with(ui, 0 if report.healthy else EXIT_UNHEALTHY)


@click.command("plan")
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
    ui = ui_for(settings.project, "plan", env)
    result = PlanResult()

    def run() -> None:
        nonlocal result
        result = show_plan(settings, ui)

    run_action(run, ui)
    if as_json:
        safe_output.echo(json.dumps(result.to_json(), indent=2))
    exit_with(ui, result.exit_code(detailed=detailed_exitcode))


@click.command("backup")
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

    settings = subcommand_settings(ctx)
    ui = ui_for(settings.project, "backup", settings.env)
    run_action(lambda: backup(settings, ui, output), ui)
    exit_with(ui, 0)


@click.command("restore")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
@click.pass_context
def restore_command(ctx: click.Context, file: Path, yes: bool) -> None:
    """Restore the datastore from FILE (mck backup's), then wait until every node is ready."""
    from mck.restore import restore

    settings = subcommand_settings(ctx)
    ui = ui_for(settings.project, "restore", settings.env)
    ask = lambda q: yes or confirmed(q, ui, "restore", "nothing restored")  # noqa: E731
    run_action(lambda: restore(settings, ui, file, ask), ui)
    exit_with(ui, 0)


@click.command("upgrade")
@click.option("--no-backup", is_flag=True, help="Skip the datastore backup taken first.")
@click.pass_context
def upgrade_command(ctx: click.Context, no_backup: bool) -> None:
    """Upgrade microk8s on every node to the pinned channel, one node at a time (exit 2:
    refused before anything changed; 1: a node failed, the nodes after it untouched)."""
    from mck.upgrade import settings_from, upgrade

    settings = settings_from(ctx.parent.params if ctx.parent else {})
    ui = ui_for(settings.project, "upgrade", settings.env)
    run_action(lambda: upgrade(settings, ui, backup=not no_backup), ui)
    exit_with(ui, 0)


@click.command("kubeconfig")
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

    settings = subcommand_settings(ctx)
    ui = ui_for(settings.project, "kubeconfig", settings.env)
    if use and not merge:
        fail(ui, "--use only applies with --merge")
    request = Request(output=output, merge=merge, use=use, server=server, force=force)
    run_action(lambda: export(settings, request, ui), ui)
    exit_with(ui, 0)
