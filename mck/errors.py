"""The one exception root. Expected failures become one clear line and an exit code."""

from __future__ import annotations

# Exit codes, documented in the README.
EXIT_ERROR = 1  # the run failed (tofu, ansible, cluster action)
EXIT_USAGE = 2  # bad input: fix the project or the command line, nothing was touched
EXIT_UNHEALTHY = 3  # the run finished but the cluster is not converged (split, NAT, not ready)
# `mck plan --detailed-exitcode`: a converge would change something (mck/plan_json.py).
EXIT_CHANGES = 4
EXIT_INTERRUPTED = 130  # ^C (SIGINT), the shell's convention: 128 + 2


class MckError(Exception):
    """An expected failure: `message` says what is wrong and what to do next."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(MckError):
    """Bad input found before anything was changed."""

    exit_code = EXIT_USAGE


class ToolError(MckError):
    """An external program (tofu, ansible) failed; carries its argv, rc and stderr tail."""

    def __init__(self, message: str, *, argv: list[str], rc: int, stderr: str = "") -> None:
        super().__init__(message)
        self.argv = argv
        self.rc = rc
        self.stderr = stderr


class ClusterError(MckError):
    """The cluster cannot be converged as asked (split brain, NAT without mesh, join failed)."""

    exit_code = EXIT_UNHEALTHY
