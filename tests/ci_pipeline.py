"""The README's "Team and CI" pipeline, read back as the commands it runs: the e2e test runs
exactly these (tests/e2e/test_team_ci.py), and a unit test keeps the block parseable."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def pipeline_commands(readme: str | None = None) -> dict[str, list[str]]:
    """The `mck` command lines of the README's pipeline, by job name (`plan`, `converge`),
    each without `mck` and without the shell's redirection (`> plan.json`)."""
    text = README.read_text(encoding="utf-8") if readme is None else readme
    section = text.split("\n## Team and CI\n", 1)[1]
    block = re.search(r"^```yaml\n(.*?)^```", section, re.M | re.S)
    assert block, "README's Team and CI section lost its pipeline example"
    jobs: dict[str, list[str]] = {}
    job = ""
    for line in block.group(1).splitlines():
        if found := re.match(r"^  (\w+):$", line):
            job = found.group(1)
        elif found := re.match(r"^\s+mck (.*)$", line):
            argv = shlex.split(found.group(1).split(">")[0])
            jobs[job] = argv
    return jobs
