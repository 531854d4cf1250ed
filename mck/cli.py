"""The command line: the `mck` group and its converge (the default) or --destroy. It turns
options into Settings and calls the core through mck/cli_run.py, which turns an MckError into one
red line and its exit code; the other commands are mck/cli_commands.py's, registered at the end.

The core is imported by the command that runs it, not here: `mck --help` or a run stopped by bad
input does not pay for ansible-runner, jinja2 and PyYAML (~0.1 s of CPU)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from mck import __version__, cli_commands, interrupt
from mck.cli_run import ask, confirm_destroy, exit_with, run_action, ui_for
from mck.encryption import MODES


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
@click.option(
    "--lock-timeout",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    envvar="MCK_LOCK_TIMEOUT",
    metavar="SECONDS",
    help="How long a converge or --destroy waits while another run (of any operator) holds "
    "the state lock; then it exits 2 naming the holder.",
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
    lock_timeout: int,
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
        lock_timeout=lock_timeout,
        yes=yes,
        ask=ask,
    )
    ui = ui_for(project, "destroy" if do_destroy else "converge", env)
    if do_destroy:
        confirm_destroy(project, yes, ui)
        run_action(lambda: destroy(settings, ui), ui)
    else:
        run_action(lambda: converge(settings, ui), ui)
    exit_with(ui, 0)


for _command in (
    cli_commands.status_command,
    cli_commands.plan_command,
    cli_commands.backup_command,
    cli_commands.restore_command,
    cli_commands.upgrade_command,
    cli_commands.kubeconfig_command,
):
    main.add_command(_command)
