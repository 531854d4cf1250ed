"""The process ansible-runner starts for a playbook: how mck's process reads its output, what
environment it gets, and that it dies with mck. ansible-runner has options for none of these,
so each is a context manager around its run (mck/ansible.py)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from mck import interrupt

# ansible-runner reads ansible's output in mck's process through pexpect, which wakes up for
# each chunk ansible writes (two or three per event) and sleeps only 0.1 ms before reading again.
# Waiting READ_DELAY after each read instead lets a burst of events arrive first, then reads up
# to READ_SIZE characters at once: about half of the CPU ansible-runner spends per event, for
# progress lines at most READ_DELAY late. See `batched_reads`.
READ_DELAY = 0.05  # seconds
READ_SIZE = 1 << 16  # characters per read: 1.3 MB/s at READ_DELAY, far above ansible's -vvvv


@contextlib.contextmanager
def batched_reads() -> Iterator[None]:
    """While a playbook runs, the pexpect child ansible-runner spawns waits READ_DELAY after
    each read and reads up to READ_SIZE (see READ_DELAY). ansible-runner (2.4) has no option for
    either, so its `pexpect.spawn` is wrapped meanwhile; mck runs one playbook at a time."""
    import pexpect

    spawn = pexpect.spawn
    dies_with_mck = interrupt.die_with_this_process()

    def batched(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("preexec_fn", dies_with_mck)  # no ansible outlives a killed mck
        child = spawn(*args, **kwargs)
        child.delayafterread = READ_DELAY
        child.maxread = READ_SIZE
        return child

    pexpect.spawn = batched
    try:
        yield
    finally:
        pexpect.spawn = spawn


@contextlib.contextmanager
def without_tofu_variables() -> Iterator[None]:
    """ansible-runner starts from a copy of os.environ (RunnerConfig._prepare_env in
    ansible_runner/config/_base.py: `self.env = os.environ.copy()`, then `envvars` on top) and
    writes it into `artifacts/<ident>/command` (Runner.run). Ansible needs none of the
    `TF_VAR_` variables (cloud credentials), so they are out of the environment while it runs:
    nothing of them reaches its files or its processes' environments. mck is single-threaded,
    and tofu gets its own copy of the environment (Settings.env)."""
    hidden = {name: os.environ.pop(name) for name in list(os.environ) if name.startswith("TF_VAR_")}
    try:
        yield
    finally:
        os.environ.update(hidden)
