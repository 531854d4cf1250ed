"""^C and SIGTERM: stop soon, but let the child tool finish cleanly first.

Outside a child tool, both signals raise KeyboardInterrupt in mck (SIGTERM made to act as
SIGINT does), so every `finally` runs (the saved plan is deleted) and the CLI exits 130.

While a child runs, a signal is not raised at once:

- OpenTofu runs in a session of its own (mck/tofu.py), so the terminal's ^C reaches only mck,
  which forwards exactly one SIGINT. OpenTofu takes a first interrupt as "stop gracefully" (an
  apply finishes the operations in flight and writes its state) but a second one as "exit
  immediately, data loss may occur" (Meta.RunOperation in internal/command/meta.go: op.Stop on
  the first, op.Cancel on the second, `Two interrupts received`): a
  user pressing ^C twice, or a ^C from the terminal and a forwarded one, must never reach it as
  two. Once it has exited, KeyboardInterrupt is raised.
- ansible-runner installs its own SIGINT/SIGTERM handler when it is given no `cancel_callback`
  (ansible_runner/interface.py `run` → utils.signal_handler), reports the run as failed
  ("canceled", rc 254) and keeps the handler for later signals. mck gives it the callback below
  instead: the runner polls it, stops ansible (Runner.handle_termination), returns "canceled",
  and KeyboardInterrupt is raised when it has.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def raise_on_sigterm() -> None:
    """Make SIGTERM interrupt mck the way ^C does (Python's default for SIGTERM is to die at
    once, running no `finally`)."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)


class Deferred:
    """Signals that arrived while a child tool ran; `on_first` runs for the first one."""

    def __init__(self, on_first: Callable[[], None] | None = None) -> None:
        self.signals: list[int] = []
        self._on_first = on_first

    def set_on_first(self, on_first: Callable[[], None]) -> None:
        """What to do for the first signal; done at once when one came already."""
        self._on_first = on_first
        if self.signals:
            on_first()

    def __call__(self) -> bool:
        """ansible-runner's `cancel_callback`: True once a stop was asked for."""
        return bool(self.signals)

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        first = not self.signals
        self.signals.append(signum)
        if first and self._on_first is not None:
            self._on_first()


@contextlib.contextmanager
def deferred(on_first: Callable[[], None] | None = None) -> Iterator[Deferred]:
    """Hold SIGINT and SIGTERM while the block runs (calling `on_first` for the first), then
    raise KeyboardInterrupt if any came. Off the main thread (where Python allows no handler)
    signals keep their usual effect."""
    pending = Deferred(on_first)
    if threading.current_thread() is not threading.main_thread():
        yield pending
        return
    previous = {signum: signal.signal(signum, pending.handle) for signum in SIGNALS}
    try:
        yield pending
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if pending.signals:
        raise KeyboardInterrupt


def interrupt_once(proc: subprocess.Popen[str]) -> Callable[[], None]:
    """What `deferred` calls for the first signal while `proc` (a tool in its own session)
    runs: one SIGINT to it, never a second."""

    def send() -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)

    return send


def die_with_this_process(signum: int = signal.SIGTERM) -> Callable[[], None]:
    """A `preexec_fn` that makes a child get `signum` when mck dies, even by SIGKILL (Linux
    PR_SET_PDEATHSIG). ansible-runner spawns ansible with `ignore_sighup=True` (Runner.run), so
    without it a killed mck leaves ansible running its playbook on the nodes beside the next
    run, which the run lock (gone with mck) no longer keeps out. libc is loaded here, in mck,
    not in the forked child."""
    import ctypes
    import os

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: nothing to ask the kernel for
        return lambda: None
    parent = os.getpid()

    def in_child() -> None:
        prctl(_PR_SET_PDEATHSIG, signum)
        if os.getppid() != parent:  # mck died before the request took effect
            os._exit(1)

    return in_child


_PR_SET_PDEATHSIG = 1  # linux/prctl.h
