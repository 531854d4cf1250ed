"""Run mck exactly as `python -m mck` does, and at exit write mck's own CPU time to the file
named by MCK_BENCH_RUSAGE (JSON).

"Own" is `getrusage(RUSAGE_SELF)`: every thread of the mck process (interpreter start, imports,
mck's code, ansible-runner's in-process event handling and its pexpect loop) and nothing of its
children: tofu/terraform and its providers, ansible-playbook (ansible-runner spawns it through
pexpect) with its forks, and ssh. The children's total (`RUSAGE_CHILDREN`, waited-for children
only) is written beside it for context.
"""

from __future__ import annotations

import atexit
import json
import os
import resource

OUT = os.environ.pop("MCK_BENCH_RUSAGE", "")


def _report() -> None:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    data = {
        "self_user": me.ru_utime,
        "self_sys": me.ru_stime,
        "children_user": kids.ru_utime,
        "children_sys": kids.ru_stime,
    }
    with open(OUT, "w", encoding="utf-8") as out:
        json.dump(data, out)


if __name__ == "__main__":
    if OUT:
        atexit.register(_report)
    from mck.cli import main

    main(prog_name="mck")
