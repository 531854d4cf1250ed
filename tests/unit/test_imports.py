"""What mck imports before it needs it costs CPU on every run: the heavy libraries load only on
the paths that use them (ansible-runner when a playbook starts, jinja2 when the inventory is
rendered, PyYAML for a kubeconfig, python-hcl2 when an HCL file is not in the cache)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("ansible_runner", "jinja2", "yaml", "hcl2", "lark")


def _loaded_after(code: str) -> list[str]:
    check = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    proc = subprocess.run(
        [sys.executable, "-c", check], cwd=REPO, capture_output=True, text=True, check=True
    )
    return proc.stdout.split()


def test_the_command_line_and_the_core_load_no_heavy_library() -> None:
    # `mck --help`, and every command until it gets to a step that needs one.
    assert _loaded_after("import mck.cli, mck.converge, mck.kubeconfig_source") == []


def test_help_runs_without_them() -> None:
    code = (
        "import contextlib, io\nfrom mck.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try:\n        main(['--help'], prog_name='mck')\n"
        "    except SystemExit:\n        pass\n"
        "assert 'Usage: mck' in out.getvalue()"
    )
    assert _loaded_after(code) == []
