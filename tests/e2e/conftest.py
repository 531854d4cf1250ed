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
