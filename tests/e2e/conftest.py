from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Project


@pytest.fixture(scope="session")
def cli_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stand-in providers, installed once per session through a filesystem mirror."""
    from tests.standins.providers.install import install

    return install(tmp_path_factory.mktemp("mirror"))


@pytest.fixture(scope="module")
def make_project(
    lab: Any, cli_config: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """Projects made by a test module; whatever they still own is destroyed at the end."""
    made: list[Project] = []

    def make(**counts: int) -> Project:
        project = Project.create(lab, tmp_path_factory.mktemp("e2e"), cli_config, **counts)
        made.append(project)
        return project

    yield make
    for project in made:
        if (project.path / "terraform.tfstate").exists():
            project.mck("--destroy", "--yes")


# What a failed lab test leaves to read: the CI log is all there is of a run on another machine,
# and a cluster that went wrong says why only in its nodes' own logs.
NODE_LOGS = (
    "/var/snap/microk8s/common/var/log/standin-daemon.log",
    "/var/snap/microk8s/common/var/log/k8s-dqlite.log",
)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    lab = getattr(item, "funcargs", {}).get("lab") if report.failed else None
    if lab is None and report.failed:
        project = getattr(item, "funcargs", {}).get("project")
        lab = getattr(project, "lab", None)
    if lab is not None:
        report.sections.append(("lab nodes' logs", _node_logs(lab)))
    return report


def _node_logs(lab: Any, lines: int = 25) -> str:
    parts = []
    for host in lab.hosts():
        if host.status != "active":
            parts.append(f"--- {host.name}: {host.status}")
            continue
        for path in NODE_LOGS:
            try:
                tail = host.run(["tail", "-n", str(lines), path], check=False, timeout=10)
                text = tail.stdout or tail.stderr
            except Exception as exc:  # the report of a failure must not fail itself
                text = f"(not read: {exc})"
            parts.append(f"--- {host.name}:{path}\n{text}")
    return "\n".join(parts)
