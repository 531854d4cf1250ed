"""Running the machine's tools (ip, iptables, ssh-keygen, nsenter) for the lab: one place that
turns a failed command into an error naming the command and what it printed."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence


class LabCommandError(subprocess.CalledProcessError):
    """A failed command; unlike its base, str() shows what the command printed."""

    def __str__(self) -> str:
        detail = (self.stderr or self.stdout or "").strip()
        return f"command failed (exit {self.returncode}): {' '.join(self.cmd)}\n{detail}"


def run(
    argv: Sequence[str],
    *,
    input: str | None = None,
    check: bool = True,
    timeout: float = 30,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        list(argv),
        input=input,
        # Without input, the child must not inherit pytest's stdin (it may be a terminal).
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    if check and proc.returncode != 0:
        raise LabCommandError(proc.returncode, list(argv), proc.stdout, proc.stderr)
    return proc


def ip_batch(netns: str | None, commands: Sequence[str], *, force: bool = False) -> None:
    """Several `ip` commands in one process (each `ip` start costs ~5 ms; hosts need ~6 each).
    With force, later commands still run after one fails (cleanup of half-built things)."""
    argv = ["ip"]
    if netns:
        argv += ["-n", netns]
    if force:
        argv.append("-force")
    run([*argv, "-batch", "-"], input="".join(f"{c}\n" for c in commands), check=not force)
