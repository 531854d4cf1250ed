"""One run's context, handed from phase to phase: the settings, the project, the tools, the
screen, and what became of each node so far (`outcomes`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mck import boot, hcl_cache, private_files
from mck.ansible import Ansible
from mck.errors import MckError
from mck.phases.outcomes import Outcomes
from mck.progress import PlayProgress
from mck.report import Ui
from mck.tofu import Tofu, find_binary

STATE_DIR = ".mck"  # project-local, generated: plan file, known_hosts, ssh control sockets
# Seconds each node's microk8s gets to report ready in configure (the microk8s role's wait).
# microk8s' own default (`status --wait-ready` without --timeout) waits forever; the role's
# default is 600 s for a run by hand. A converge waits less: a node not ready by then is named
# and left alone while the others are joined.
DEFAULT_READY_TIMEOUT = 180
# Seconds `kubectl drain --timeout` gives a leaving node's evictions, all pods together: kubectl
# retries an eviction a disruption budget refuses (429) until then, and 0 would mean forever
# (kubernetes/kubectl pkg/drain/drain.go evictPods, pkg/cmd/drain/drain.go's --timeout flag).
DEFAULT_DRAIN_TIMEOUT = 120


@dataclass(frozen=True)
class Settings:
    project: Path
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    verbosity: int = 0
    boot_timeout: int = boot.DEFAULT_TIMEOUT  # seconds new VMs get to answer SSH + cloud-init
    ready_timeout: int = DEFAULT_READY_TIMEOUT  # seconds each node gets to report ready
    force_drain: bool = False  # kubectl drain --force: pods without a controller go with the node
    drain_timeout: int = DEFAULT_DRAIN_TIMEOUT  # kubectl drain --timeout, in seconds
    lock_timeout: int = 0  # --lock-timeout: seconds to wait for another run's state lock
    yes: bool = False  # --yes: what would be asked (disabling an addon that holds data) is agreed
    # Asks the user a yes/no question; None when there is no terminal to ask on (cli.py).
    ask: Callable[[str], bool | None] | None = None


@dataclass
class Run:
    """What every phase of one command reads and adds to."""

    settings: Settings
    ui: Ui
    project: Path
    tofu: Tofu
    ansible: Ansible
    outcomes: Outcomes = field(default_factory=Outcomes)

    @classmethod
    def start(cls, settings: Settings, ui: Ui, *, task_lines: bool = True) -> Run:
        return cls(
            settings,
            ui,
            settings.project.resolve(),
            tofu_for(settings, ui),
            ansible_for(settings, ui, task_lines=task_lines),
        )

    @property
    def state_dir(self) -> Path:
        return self.project / STATE_DIR

    def make_state_dir(self) -> Path:
        """The project's .mck/, made once preflight has passed (bad input leaves nothing
        behind), with what preflight parsed saved in it: the next run parses no unchanged HCL."""
        private_files.private_dir(self.state_dir)  # 0700: it holds the saved plan
        hcl_cache.for_project(self.project).save()
        return self.state_dir

    def init_tofu(self) -> None:
        if self.tofu.needs_init():
            self.tofu.init()


def tofu_for(settings: Settings, ui: Ui) -> Tofu:
    binary = find_binary(settings.env)
    return Tofu(binary, settings.project.resolve(), dict(settings.env), echo=ui.write, log=ui.debug)


def ansible_for(settings: Settings, ui: Ui, *, task_lines: bool = True) -> Ansible:
    return Ansible(
        settings.project.resolve(),
        echo=ui.write,
        verbosity=settings.verbosity,
        log=ui.debug,
        progress=PlayProgress(ui, task_lines=task_lines),
    )


def read_text(path: Path) -> str:
    """A generated file's text, or "" when there is none yet."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise MckError(f"cannot read {path}: {exc.strerror}") from exc
