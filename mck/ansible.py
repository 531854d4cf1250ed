"""Every node-side action goes through ansible-runner, here. Results come back as data.

A failed playbook is not an exception: `PlayResult` says per host how many tasks were ok,
changed, failed, and whether it was unreachable, and which task failed with which message.

Each run gets a private data dir in a fresh 0700 temporary directory that is removed afterwards:
ansible-runner writes the whole process environment (which holds the user's TF_VAR_ tokens) and
any extra vars (join tokens) into it, and those must not outlive the run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mck import interrupt, known_hosts
from mck.private_files import temp_prefix
from mck.runner_process import batched_reads, without_tofu_variables

PLAYBOOKS = Path(__file__).parent / "playbooks"


@dataclass
class HostStats:
    ok: int = 0
    changed: int = 0
    failed: int = 0
    skipped: int = 0
    unreachable: bool = False


@dataclass(frozen=True)
class Failure:
    host: str
    task: str
    message: str


@dataclass
class PlayResult:
    status: str  # ansible-runner's: successful | failed | timeout | canceled
    rc: int
    hosts: dict[str, HostStats] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    # host → task name → the module result, for tasks listed in `capture`
    captured: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # remote module executions per host (events that ran a module), for the benchmark
    executions: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.failures


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    return text


@dataclass
class Ansible:
    project: Path
    # Called with each chunk of ansible's human output that is shown (see `playbook`).
    echo: Callable[[str], None] = field(
        default=lambda text: print(text, file=sys.stderr, flush=True)
    )
    # mck's -v count: 1 shows ansible's whole output, more also raises ansible's own verbosity.
    verbosity: int = 0
    # Called with every chunk of output that is not shown, and with each run's command and
    # timing: the debug log. Output is redacted before it gets here.
    log: Callable[[str], None] | None = None
    # Called with every ansible-runner event: the progress display.
    progress: Callable[[dict[str, Any]], None] | None = None
    # The inventory the runs use; None: the project's own `inventory`.
    inventory_file: Path | None = None

    @property
    def inventory(self) -> Path:
        return self.inventory_file or self.project / "inventory"

    def using(self, inventory: Path) -> Ansible:
        """The same runner against another inventory (one rendered from the state)."""
        return dataclasses.replace(self, inventory_file=inventory)

    def envvars(self) -> dict[str, str]:
        """What ansible needs beyond our environment: the project's config, and its own bin dir."""
        bindir = str(Path(sys.executable).parent)  # ansible-playbook lives beside our python
        path = os.environ.get("PATH", "")
        return {
            "ANSIBLE_CONFIG": str(self.project / "ansible.cfg"),
            "PATH": f"{bindir}{os.pathsep}{path}" if bindir not in path.split(os.pathsep) else path,
            # Keep ansible's own output in the order it happens and free of colour codes: it
            # writes to ansible-runner's pty, a terminal to it, so only NOCOLOR turns colour off.
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_NOCOLOR": "1",
            "PYTHONUNBUFFERED": "1",
        }

    def playbook(
        self,
        playbook: Path,
        *,
        limit: str | None = None,
        extravars: dict[str, Any] | None = None,
        capture: Iterable[str] = (),
        secrets: Iterable[str] = (),
        show_output: bool = False,
        then: Path | None = None,
    ) -> PlayResult:
        """Run one playbook against the project's inventory; never raises for failed hosts.

        Shown: with -v, ansible's whole output; otherwise, for a `show_output` playbook, its
        PLAY RECAP (each node's outcome). Everything else goes to the log. `then`: a second
        playbook run after the first in the same ansible-playbook process."""
        capture = set(capture)
        secrets = [s for s in secrets if s]
        result = PlayResult(status="unknown", rc=-1)
        log = self.log or (lambda _text: None)
        log(f"ansible-playbook {playbook.name}: starting")
        started = time.monotonic()

        def on_event(event: dict[str, Any]) -> bool:
            _record(result, event, capture, secrets)
            # Progress first: a task's summary line belongs before the next task's header.
            if self.progress is not None and self.verbosity == 0:
                self.progress(event)
            if event.get("stdout"):
                text = redact(event["stdout"], secrets)
                recap = event.get("event") == "playbook_on_stats"
                if self.verbosity > 0 or (show_output and recap):
                    self.echo(text)
                else:
                    log(text)
            return False  # keep nothing on disk beyond what the temp dir holds

        import ansible_runner  # here, not at the top: runs that start no playbook skip ~0.07 s

        # Named with this pid: a killed run's dir is removed by the next run (private_files).
        private = Path(tempfile.mkdtemp(prefix=temp_prefix("runner")))
        try:
            os.chmod(private, 0o700)
            _write_extravars(private, extravars or {})
            # ^C/SIGTERM: ansible-runner stops ansible and returns, then KeyboardInterrupt.
            with interrupt.deferred() as stop, batched_reads(), without_tofu_variables():
                runner = ansible_runner.run(
                    cancel_callback=stop,
                    private_data_dir=str(private),
                    project_dir=str(self.project),
                    playbook=str(_chain(private, playbook, then) if then else playbook),
                    inventory=str(self.inventory),
                    limit=limit,
                    envvars=self.envvars(),
                    event_handler=on_event,
                    quiet=True,
                    verbosity=max(0, self.verbosity - 1) or None,
                    suppress_env_files=True,
                )
                result.status, result.rc = runner.status, runner.rc
            # The exact command ansible-runner ran (its extra vars hold join tokens: masked).
            command = getattr(getattr(runner, "config", None), "command", None) or [playbook.name]
            if then:  # the equivalent command: both playbooks instead of the throwaway chain
                chain = str(private / "chain.yml")
                command = [
                    a for c in command for a in ([str(playbook), str(then)] if c == chain else [c])
                ]
            log(f"$ {redact(shlex.join(command), secrets)}")
        finally:
            shutil.rmtree(private, ignore_errors=True)
            log(
                f"ansible-playbook {playbook.name}: {result.status}, rc {result.rc}, "
                f"{time.monotonic() - started:.2f}s"
            )
        return result


def _record(
    result: PlayResult, event: dict[str, Any], capture: set[str], secrets: list[str]
) -> None:
    kind = event.get("event", "")
    data = event.get("event_data") or {}
    host = data.get("host")
    if kind == "playbook_on_stats":
        for key, attr in (
            ("ok", "ok"),
            ("changed", "changed"),
            ("failures", "failed"),
            ("skipped", "skipped"),
        ):
            for name, count in (data.get(key) or {}).items():
                setattr(result.hosts.setdefault(name, HostStats()), attr, int(count))
        for name in data.get("dark") or {}:
            result.hosts.setdefault(name, HostStats()).unreachable = True
        return
    if not host or not kind.startswith("runner_on_"):
        return
    task = str(data.get("task", ""))
    res = data.get("res") or {}
    if kind in ("runner_on_ok", "runner_on_failed", "runner_on_unreachable"):
        result.executions[host] = result.executions.get(host, 0) + 1
    if task in capture and kind in ("runner_on_ok", "runner_on_failed"):
        result.captured.setdefault(host, {})[task] = res
    if kind == "runner_on_unreachable":
        result.hosts.setdefault(host, HostStats()).unreachable = True
        result.failures.append(Failure(host, task, redact(_message(res), secrets)))
    elif kind == "runner_on_failed" and not data.get("ignore_errors"):
        result.failures.append(Failure(host, task, redact(_message(res), secrets)))


def _message(res: dict[str, Any]) -> str:
    """The most telling line of a failed module result."""
    if known_hosts.changed_key(str(res.get("msg", ""))):
        return known_hosts.CHANGED_KEY
    for key in ("msg", "stderr", "stdout", "module_stderr"):
        text = res.get(key)
        if isinstance(text, str) and text.strip():
            lines = [line for line in text.strip().splitlines() if line.strip()]
            if key == "msg" and lines[0].startswith("non-zero return code"):
                continue  # the command's own stderr below says more
            return lines[-1] if key == "module_stderr" else lines[0]
    return "failed (no message)"


def _write_extravars(private: Path, extravars: dict[str, Any]) -> None:
    """Hand extra vars to ansible as a file (`-e @env/extravars`), never on its command line:
    ansible-runner puts an `extravars=` dict into argv, where `ps` shows join tokens to every
    user of the machine. The file lives in the 0700 private dir and is deleted with it."""
    if not extravars:
        return
    env = private / "env"
    env.mkdir(mode=0o700)
    path = env / "extravars"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(extravars, handle)  # JSON is YAML: ansible reads it as a vars file


def _chain(private: Path, first: Path, then: Path) -> Path:
    """A playbook importing `first`, then `then`: both in one ansible-playbook process (one
    start-up, one PLAY RECAP, the SSH masters of the first reused by the second). Each imported
    play keeps its own playbook_dir, so roles and templates resolve as when run alone."""
    chain = private / "chain.yml"
    chain.write_text(
        "".join(f"- import_playbook: {json.dumps(str(p))}\n" for p in (first, then)),
        encoding="utf-8",
    )
    return chain
