"""Hold a lab up for a shell script (scripts/demo): start the lab, make a copy of the shipped
project on it, write what a shell needs to run mck there, then wait until told to stop (SIGTERM
or SIGINT) or until the script that started it is gone, and take everything down.

    python -m tests.lab.hold --workdir DIR --env-file FILE

FILE is written once the lab is up (atomically: it appearing means ready) and is meant to be
sourced by bash: LAB_ID, LAB_CTL_NETNS, PROJECT, PUBKEY and MCK_ENV, an array of NAME=VALUE
for `env` (the stand-in clouds' credentials and socket, the providers' mirror, the lab's ssh key).
The lab's processes, namespaces and files all live under DIR or in namespaces named after
LAB_ID; closing the lab removes them, and the script removes DIR.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from tests.e2e.harness import Project
from tests.lab.lab import Lab
from tests.standins.providers.install import install

PARENT_POLL = 1.0  # seconds between checks that the script that started us still runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--env-file", type=Path, required=True)
    args = parser.parse_args()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    parent = os.getppid()
    cli_config = install(args.workdir / "mirror")
    with Lab(args.workdir / "lab") as lab:
        project = Project.create(lab, args.workdir, cli_config)
        _write_env(args.env_file, lab, project)
        print(f"lab {lab.id} is up: {lab.ctl_netns} is the workstation", flush=True)
        # A script killed outright cannot tell us: a lab nobody uses any more goes by itself.
        while not stop.wait(PARENT_POLL):
            if os.getppid() != parent:
                print("the script that started the lab is gone: taking it down", flush=True)
                break
        print(f"lab {lab.id}: taking it down", flush=True)
    print(f"lab {lab.id} is down", flush=True)
    return 0


def _write_env(path: Path, lab: Lab, project: Project) -> None:
    values = {
        "LAB_ID": lab.id,
        "LAB_CTL_NETNS": lab.ctl_netns,
        "PROJECT": str(project.path),
        "PUBKEY": str(project.pubkey),
    }
    lines = [f"{name}={shlex.quote(value)}" for name, value in values.items()]
    env = " ".join(shlex.quote(f"{k}={v}") for k, v in sorted(project.env.items()))
    lines.append(f"MCK_ENV=({env})")
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.rename(path)


if __name__ == "__main__":
    sys.exit(main())
