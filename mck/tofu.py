"""OpenTofu (or Terraform): finding the binary, building argv, running it.

Every tofu/terraform invocation in mck goes through `Tofu.run`, the one seam tests patch.
Argv building (`Tofu.argv`) is separate from running so it can be unit-tested exactly.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mck import interrupt, tofu_diagnostics
from mck.errors import ToolError, UsageError
from mck.tofu_output import dig as _dig
from mck.tofu_output import event as _event
from mck.tofu_output import event_lines, first_error

# One line of a streamed command's output -> the lines shown for it.
Render = Callable[[str], list[str]]

# What tofu creates is its owner's only: the saved plan holds every TF_VAR_ credential in clear
# text, the state every resource's secrets (OpenTofu's local backend and `plan -out` create their
# files 0666 less the umask: os.Create in internal/plans/planfile/writer.go Create, os.OpenFile
# 0666 in internal/states/statemgr/filesystem.go).
PRIVATE_UMASK = 0o077

INSTALL_HINT = (
    "install OpenTofu (https://opentofu.org/docs/intro/install/) or Terraform, "
    "or point MCK_TOFU at the binary"
)


def find_binary(env: Mapping[str, str]) -> str:
    """MCK_TOFU wins; else `tofu` on PATH; else `terraform` (a drop-in replacement)."""
    override = env.get("MCK_TOFU")
    path = env.get("PATH")
    if override:
        found = shutil.which(override, path=path)
        if not found:
            raise UsageError(f"MCK_TOFU={override} is not an executable: {INSTALL_HINT}")
        return found
    for name in ("tofu", "terraform"):
        found = shutil.which(name, path=path)
        if found:
            return found
    raise UsageError(f"neither tofu nor terraform is on PATH: {INSTALL_HINT}")


@dataclass
class Tofu:
    binary: str
    project: Path
    env: dict[str, str]
    # Lines of human progress go here (stderr by default); tests pass a list's append.
    echo: Any = field(default=None)
    color: bool = False
    # The debug log: every argv, its exit code and time, and the output that was not shown.
    log: Any = field(default=None)
    # The state lock is held for the whole run by a console (mck/state_lock.py): the commands
    # that would lock it again run with -lock=false.
    lock_held: bool = False

    @property
    def name(self) -> str:
        return Path(self.binary).name

    @property
    def child_env(self) -> dict[str, str]:
        """The environment every tofu child gets: never a call to HashiCorp's update server."""
        return {**self.env, "CHECKPOINT_DISABLE": self.env.get("CHECKPOINT_DISABLE", "1")}

    def argv(self, *args: str) -> list[str]:
        """The exact command line for `args`: subcommand, mck's fixed flags, then the rest
        (tofu wants every flag before the positional plan-file argument)."""
        if not args:
            return [self.binary]
        command, rest = args[0], list(args[1:])
        if command == "state" and rest:  # `state pull`: the flags follow the subcommand's verb
            command, rest = f"state {rest[0]}", rest[1:]
        flags = []
        # Never prompt: mck is non-interactive between its own confirmations.
        if command in {"init", "plan", "apply", "destroy", "refresh"}:
            flags.append("-input=false")
            if self.lock_held:
                flags.append("-lock=false")
        if not self.color and command != "version":
            flags.append("-no-color")
        positional = [a for a in rest if not a.startswith("-")]
        options = [a for a in rest if a.startswith("-")]
        return [self.binary, *command.split(), *flags, *options, *positional]

    def run(
        self,
        argv: list[str],
        *,
        stream: bool = False,
        check: bool = True,
        render: Render | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run argv in the project. Streamed output goes line by line to `echo`, through
        `render` (a line of output -> the lines to show) when given."""
        env = self.child_env
        log = self.log or (lambda _text: None)
        log(f"$ {shlex.join(argv)}")
        started = time.monotonic()
        if not stream:
            proc = subprocess.run(
                argv,
                cwd=self.project,
                env=env,
                capture_output=True,
                text=True,
                check=False,
                umask=PRIVATE_UMASK,
            )
            # JSON is the state or a plan (large, and read back by mck): its size is enough.
            out = proc.stdout or ""
            if out:
                log(f"({len(out)} bytes of JSON on stdout)" if out.startswith("{") else out)
            if proc.stderr:
                log(proc.stderr)
        else:
            proc = self._run_streaming(argv, env, render)
        log(
            f"{self.name} {argv[1] if len(argv) > 1 else ''}: exit {proc.returncode}, "
            f"{time.monotonic() - started:.2f}s"
        )
        if check and proc.returncode != 0:
            raise self._failure(argv, proc)
        return proc

    def _run_streaming(
        self, argv: list[str], env: dict[str, str], render: Render | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run argv with its output shown line by line. Its output is read to the end whatever
        happens to the screen: a closed pipe to tofu would kill it mid-apply (SIGPIPE), with
        its state unsaved. ^C or SIGTERM reach tofu as one SIGINT (mck/interrupt.py), after
        which it is still drained and waited for; then KeyboardInterrupt."""
        echo = self.echo or (lambda line: print(line, file=sys.stderr, flush=True))
        render = render or (lambda line: [line])
        tail: deque[str] = deque(maxlen=40)  # enough to quote the error block back to the user
        log = self.log or (lambda _text: None)
        shown = True
        with (
            interrupt.deferred() as pending,
            subprocess.Popen(
                argv,
                cwd=self.project,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
                umask=PRIVATE_UMASK,
                # Its own session: the terminal's ^C reaches mck only, which forwards one.
                start_new_session=True,
            ) as proc,
        ):
            pending.set_on_first(interrupt.interrupt_once(proc))
            told = False
            assert proc.stdout is not None
            for raw in proc.stdout:
                if pending.signals and not told:
                    told = True
                    log(f"interrupted: {self.name} was sent one SIGINT; waiting for it")
                for line in render(raw.rstrip("\n")):
                    tail.append(line)
                    if shown:
                        shown = _show(echo, line, log)
                    else:
                        log(line)
            rc = proc.wait()
        return subprocess.CompletedProcess(argv, rc, "\n".join(tail), "\n".join(tail))

    def _failure(
        self, argv: list[str], proc: subprocess.CompletedProcess[str]
    ) -> ToolError | UsageError:
        refused = tofu_diagnostics.refusal((), f"{proc.stdout or ''}\n{proc.stderr or ''}")
        if refused is not None:
            return refused
        detail = first_error(proc.stderr or proc.stdout or "")
        verb = argv[1] if len(argv) > 1 else ""
        message = f"{self.name} {verb} failed (exit {proc.returncode})"
        if detail:
            message += f": {detail}"
        return ToolError(message, argv=argv, rc=proc.returncode, stderr=proc.stderr or "")

    # The calls mck makes, in pipeline order.

    def needs_init(self) -> bool:
        """init is slow-ish and may reach registries: only when the working dir lacks it."""
        return not (self.project / ".terraform").is_dir()

    def init(self) -> None:
        self.run(self.argv("init"), stream=True)

    def plan(self, planfile: Path) -> Plan:
        """Write a plan; say whether it changes anything and what refresh found changed.

        The plan's events are read as JSON (`-json`), each shown as its one-line message:
        only they report drift. The human output hides drift that no planned change depends
        on (Terraform 1.2+), such as a NAT'd VM's new public address after a stop/start, and
        `-detailed-exitcode` is 0 for it."""
        args = ["plan", "-json", f"-out={planfile}", "-detailed-exitcode"]
        drifted: list[str] = []
        diagnostics: list[dict[str, Any]] = []

        def render(line: str) -> list[str]:
            event = _event(line)
            if event is None:
                return [line]
            if event.get("type") == "resource_drift":
                drifted.append(str(_dig(event, "change", "resource", "addr") or "?"))
            if event.get("type") == "diagnostic" and isinstance(event.get("diagnostic"), dict):
                diagnostics.append(event["diagnostic"])
            return event_lines(event)

        proc = self.run(self.argv(*args), stream=True, check=False, render=render)
        if proc.returncode not in (0, 2):
            # Bad input (a variable's validation, a corrupt state) is exit 2 naming the cause.
            raise tofu_diagnostics.refusal(diagnostics) or self._failure(proc.args, proc)
        return Plan(changes=proc.returncode == 2, drifted=tuple(drifted))

    def show(self, planfile: Path) -> None:
        """A saved plan, as OpenTofu prints it for people: every attribute it changes."""
        self.run(self.argv("show", str(planfile)), stream=True)

    def apply(self, planfile: Path) -> None:
        self.run(self.argv("apply", str(planfile)), stream=True)

    def show_json(self, planfile: Path | None = None) -> dict[str, Any]:
        """The state (or a saved plan) as JSON: works with remote backends too."""
        args = ["show", "-json"] + ([str(planfile)] if planfile else [])
        return self._json_object(self.run(self.argv(*args)), "show -json")

    def state_pull(self) -> dict[str, Any] | None:
        """The stored state as the backend holds it (remote ones too), or None when there is
        none yet. Unlike `show -json` it starts no provider to read their schemas (0.05 s
        against 0.8 s on the lab), and it is the format OpenTofu itself keeps."""
        proc = self.run(self.argv("state", "pull"))
        return self._json_object(proc, "state pull") if proc.stdout.strip() else None

    def _json_object(self, proc: subprocess.CompletedProcess[str], what: str) -> dict[str, Any]:
        """The JSON object a command printed, or a ToolError naming the command."""
        try:
            data = json.loads(proc.stdout)
        except json.JSONDecodeError as exc:
            raise ToolError(
                f"{self.name} {what} printed something that is not JSON ({exc})",
                argv=list(proc.args),
                rc=0,
            ) from exc
        if not isinstance(data, dict):
            raise ToolError(f"{self.name} {what} did not print an object", argv=[], rc=0)
        return data

    def destroy(self) -> None:
        self.run(self.argv("destroy", "-auto-approve"), stream=True)


@dataclass(frozen=True)
class Plan:
    """What a saved plan holds, as far as mck must know before reading it."""

    changes: bool  # -detailed-exitcode 2: applying it changes infrastructure or outputs
    # Resource addresses the refresh found changed outside OpenTofu. Drift alone changes
    # nothing to apply, but the refreshed state is what the nodes look like now.
    drifted: tuple[str, ...] = ()


def _show(echo: Any, line: str, log: Callable[[str], None]) -> bool:
    """Show a line; False when the screen cannot take it any more (the rest goes to the log)."""
    try:
        echo(line)
    except (OSError, ValueError) as exc:  # a closed or broken stream; ValueError: closed file
        log(f"output stopped ({exc}); {line}")
        return False
    return True


def default_env() -> dict[str, str]:
    """The environment tofu runs with: ours, never asking HashiCorp's checkpoint server."""
    return {**os.environ, "CHECKPOINT_DISABLE": os.environ.get("CHECKPOINT_DISABLE", "1")}
