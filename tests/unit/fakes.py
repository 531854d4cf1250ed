"""Stand-ins shared by the unit tests of the phases."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mck.ansible import PlayResult


@dataclass
class FakeAnsible:
    """Answers each playbook run with the next result; records what it was asked."""

    results: list[PlayResult]
    calls: list[dict[str, Any]] = field(default_factory=list)

    def playbook(self, playbook: Path, **kwargs: Any) -> PlayResult:
        self.calls.append({"playbook": playbook.name, **kwargs})
        return self.results.pop(0)
