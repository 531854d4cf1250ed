"""Running the real mck against the lab: a temporary copy of the shipped project, the stand-in
providers installed through a filesystem mirror, and mck itself run in the lab's controller
namespace exactly as a user runs it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.metrics import COMMAND

REPO = Path(__file__).resolve().parents[2]
# What a user's project is: the shipped HCL, playbook, roles and templates, nothing else.
PROJECT_FILES = ("*.tf", "main.yml", "ansible.cfg", "roles", "templates")
# No command of a scenario may hang the suite: fail it instead.
MCK_TIMEOUT = 900


@dataclass
class Run:
    argv: list[str]
    rc: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def explain(self) -> str:
        command = " ".join(self.argv)
        return f"$ {command}\nexit {self.rc}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


class Project:
    """One user project on the lab."""

    def __init__(self, lab: Any, path: Path, cli_config: Path) -> None:
        self.lab = lab
        self.path = path
        self.pubkey = path.parent / "id_lab.pub"
        self.env = {
            **lab.env(),
            "TF_CLI_CONFIG_FILE": str(cli_config),
            # The stand-in clouds accept any non-empty token, like the real ones accept a valid one.
            "TF_VAR_do_token": "lab-do-token",
            "TF_VAR_linode_token": "lab-linode-token",
            "TF_VAR_aws_access": "lab-aws-access",
            "TF_VAR_aws_secret": "lab-aws-secret",
            # The "user's" key: the one the VMs are given, and the one ssh logs in with.
            "ANSIBLE_PRIVATE_KEY_FILE": str(lab.ssh_key),
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
            "HOME": str(path.parent / "home"),
            "LANG": "C.UTF-8",
            # The mck under test is this checkout's, whatever an editable install points at.
            "PYTHONPATH": str(REPO),
        }
        (path.parent / "home").mkdir(exist_ok=True)

    @classmethod
    def create(cls, lab: Any, workdir: Path, cli_config: Path, **counts: int) -> Project:
        path = workdir / "project"
        path.mkdir(parents=True)
        for pattern in PROJECT_FILES:
            for src in REPO.glob(pattern):
                dest = path / src.name
                if src.is_dir():
                    shutil.copytree(src, dest)
                else:
                    shutil.copy2(src, dest)
        pubkey = workdir / "id_lab.pub"
        pubkey.write_text(lab.ssh_pubkey + "\n")
        project = cls(lab, path, cli_config)
        project.pubkey = pubkey
        project.set_counts(**counts)
        return project

    def set_counts(self, variables: dict[str, str] | None = None, **counts: int) -> None:
        """Tests change only variables, in a tfvars file, never the shipped HCL. `variables`
        maps other variables to their HCL values, e.g. {"public_api": "true"}."""
        lines = [f'ssh_public_key_file = "{self.pubkey}"']
        lines += [f"{cloud} = {{ nodes = {n} }}" for cloud, n in sorted(counts.items())]
        lines += [f"{name} = {value}" for name, value in sorted((variables or {}).items())]
        (self.path / "lab.auto.tfvars").write_text("\n".join(lines) + "\n")

    def mck(self, *args: str, timeout: float = MCK_TIMEOUT) -> Run:
        argv = [sys.executable, "-m", "mck", "-C", str(self.path), *args]
        return self.run(argv, timeout=timeout)

    def run(self, argv: list[str], *, timeout: float = MCK_TIMEOUT, cwd: Path | None = None) -> Run:
        proc = subprocess.run(
            self.lab.ctl_argv(argv),
            cwd=cwd or self.path,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        return Run(argv, proc.returncode, proc.stdout, proc.stderr)

    def state(self) -> dict[str, Any]:
        run = self.run(["terraform", "show", "-json"])
        assert run.rc == 0, run.explain()
        data: dict[str, Any] = json.loads(run.stdout)
        return data

    def inventory(self) -> str:
        return (self.path / "inventory").read_text()

    def remote_commands(self) -> dict[str, int]:
        """Remote commands each VM's sshd has run so far, by VM name: the lab's sshd logs one
        `Starting session: command` line per command (LogLevel VERBOSE), as the benchmark
        counts them."""
        return {
            host.name: len(COMMAND.findall((host.workdir / "console.log").read_text("latin-1")))
            for host in self.lab.hosts()
        }

    def logs(self) -> list[Path]:
        """The debug logs mck wrote, oldest first (names start with the UTC time)."""
        return sorted((self.path / ".mck" / "logs").glob("*.log"))


def recap(output: str) -> dict[str, dict[str, int]]:
    """ansible's PLAY RECAP lines as host -> {ok, changed, unreachable, failed, …}."""
    counts: dict[str, dict[str, int]] = {}
    for host, line in re.findall(r"^(\S+)\s+: (ok=.*)$", output, re.MULTILINE):
        counts[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}
    return counts
