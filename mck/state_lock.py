"""OpenTofu's own state lock, held for a whole changing run: one run at a time across operators.

`.mck/run.lock` (mck/run_lock.py) keeps two runs of one checkout apart; a second operator, or a
CI runner with its own checkout, shares only the backend. OpenTofu locks the state only for the
length of one plan or apply, so a second converge could plan, apply and configure between the
first one's apply and its joins. The backend's lock is held for the whole run instead, by the
one command that takes it and keeps it until it exits: `console`. Its Run calls
`local.LocalRun` (which locks the state) and defers `opReq.StateLocker.Unlock()` until the
console ends (internal/command/console.go in opentofu/opentofu and hashicorp/terraform). While
it runs, mck's own plan/apply/destroy pass `-lock=false` (mck/tofu.py), since the lock is
already theirs.

Readiness: the console's stdin is a pseudo-terminal. With a pipe, Terraform's `modePiped` reads
to EOF and prints only the last result (nothing tells the lock is taken); on a terminal both
print the `> ` prompt only after LocalRun returned, i.e. with the lock held. Closing the
terminal (at release, or when mck dies, even by SIGKILL: the kernel closes its descriptors)
ends the console, which releases the lock (pg: the advisory lock goes with its connection).

A run that finds the state locked retries until `--lock-timeout` has passed: Terraform's console
takes no `-lock-timeout` (it is not among its flags; `terraform console -lock-timeout=1s`
prints its usage), so mck waits itself. Then it refuses (exit 2) with the backend's own words.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import time
from dataclasses import dataclass

from mck import interrupt, tofu_diagnostics
from mck.errors import ToolError, UsageError
from mck.tofu import PRIVATE_UMASK, Tofu
from mck.tofu_output import first_error

PROMPT = ">"  # the console's readline prompt ("> "), printed once the state is locked
READY_WITHIN = 300.0  # seconds a console gets to load the configuration and lock
RETRY_EVERY = 2.0  # seconds between attempts while another run holds the lock
RELEASE_WITHIN = 30.0  # seconds the console gets to unlock and exit once its terminal closes


@dataclass
class StateLock:
    """A held state lock: the console holding it, and our end of its terminal."""

    proc: subprocess.Popen[bytes] | None
    master: int

    def release(self) -> None:
        """Close the console's terminal; it unlocks and exits. Safe to call twice."""
        if self.master >= 0:
            os.close(self.master)
            self.master = -1
        if self.proc is not None:
            try:
                self.proc.wait(RELEASE_WITHIN)
            except subprocess.TimeoutExpired:
                self.proc.kill()  # local: the kernel drops the flock; pg: the connection
                self.proc.wait()
            self.proc = None


def hold(tofu: Tofu, timeout: float, sleep: float = RETRY_EVERY) -> StateLock:
    """Lock the project's state, waiting up to `timeout` seconds while another run holds it,
    or refuse (exit 2) naming the holder as the backend reports it. On success the inner
    commands of `tofu` run with -lock=false until `release`."""
    deadline = time.monotonic() + timeout
    told = False
    while True:
        lock, output = _attempt(tofu)
        if lock is not None:
            tofu.lock_held = True
            return lock
        # A corrupt local state is reported as a lock error too (mck/tofu_diagnostics.py).
        corrupt = tofu_diagnostics.corrupt_state(output)
        if corrupt is not None:
            raise corrupt
        if tofu_diagnostics.LOCKED not in output:
            detail = first_error(output) or output.strip()[-300:]
            raise ToolError(
                f"{tofu.name} console (to hold the state lock) failed: {detail}",
                argv=tofu.argv("console"),
                rc=1,
                stderr=output,
            )
        holder = tofu_diagnostics.holder_line(output)
        if time.monotonic() + sleep > deadline:
            raise UsageError(
                f"the state is locked by another run ({holder}); wait for it to finish, or "
                "pass --lock-timeout=SECONDS to wait for it"
            )
        if not told and tofu.echo is not None:
            tofu.echo(f"the state is locked by another run ({holder}); waiting for it")
            told = True
        time.sleep(sleep)


def _attempt(tofu: Tofu) -> tuple[StateLock | None, str]:
    """Start one console: the held lock, or None and everything it printed before exiting."""
    argv = tofu.argv("console")
    env = tofu.child_env
    log = tofu.log or (lambda _text: None)
    log(f"$ {' '.join(argv)}  (held for the run: the state lock)")
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            argv,
            cwd=tofu.project,
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            umask=PRIVATE_UMASK,
            # Its own session: the terminal's ^C reaches mck only, never the lock's holder.
            start_new_session=True,
            # Backstop to the terminal's hangup when mck dies.
            preexec_fn=interrupt.die_with_this_process(signal.SIGTERM),
        )
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    lock = StateLock(proc, master)
    try:
        output = _read_until_prompt(master, proc)
    except BaseException:  # ^C while waiting: the console must not outlive the attempt
        lock.release()
        raise
    if output is None:
        return lock, ""
    lock.release()
    log(output)
    return None, output


def _read_until_prompt(master: int, proc: subprocess.Popen[bytes]) -> str | None:
    """None once the prompt shows (the lock is held); else all the console printed before it
    exited (EIO on a terminal whose other side has gone)."""
    seen = b""
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if not ready:
            if proc.poll() is not None and not _readable(master):
                break
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the console exited and closed its side
            break
        if not chunk:
            break
        seen += chunk
        if _at_prompt(seen):
            return None
    else:
        proc.kill()
        return f"no prompt within {READY_WITHIN:.0f}s: {_text(seen)}"
    proc.wait()
    return _text(seen)


def _at_prompt(raw: bytes) -> bool:
    """The last line shown is the prompt alone (a warning printed before it may hold "> ")."""
    return _text(raw).rsplit("\n", 1)[-1].strip() == PROMPT


def _readable(fd: int) -> bool:
    return bool(select.select([fd], [], [], 0)[0])


def _text(raw: bytes) -> str:
    """Terminal output as lines: CRLF to LF, escape sequences and backspaces out."""
    text = raw.decode(errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x08", "", text)
