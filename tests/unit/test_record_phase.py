"""The record phase writes the cluster's facts into the state only when they changed, with the
host keys ssh met this run for the nodes it reached, and the recorded ones of the same VMs for
the nodes it did not reach (a refused key is never recorded over the good one)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mck.ansible import HostStats, PlayResult
from mck.cluster_facts import ClusterFacts, HostKeys
from mck.nodes import Node
from mck.phases import record
from mck.report import Ui

NODES = [
    Node("do-0", "digitalocean", "198.51.100.10", None, "root", False, "a[0]", "100"),
    Node("do-1", "digitalocean", "198.51.100.11", None, "root", False, "a[1]", "101"),
]
BUILT = ClusterFacts("prod", "mesh", False, {"do-0": "10.77.0.1", "do-1": "10.77.0.2"})


@dataclass
class FakeRun:
    state_dir: Path
    ui: Ui = field(default_factory=lambda: Ui(stream=io.StringIO()))
    tofu: Any = None


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> list[ClusterFacts]:
    found: list[ClusterFacts] = []
    monkeypatch.setattr(record.cluster_facts, "write", lambda tofu, facts: found.append(facts))
    return found


def _run(tmp_path: Path, known: str) -> FakeRun:
    (tmp_path / "known_hosts").write_text(known)
    return FakeRun(tmp_path)


def _reached(*names: str, unreachable: tuple[str, ...] = ()) -> PlayResult:
    hosts = {n: HostStats(ok=3) for n in names}
    hosts.update({n: HostStats(unreachable=True) for n in unreachable})
    return PlayResult("successful", 0, hosts)


def test_a_first_converge_records_addresses_and_the_keys_ssh_met(
    tmp_path: Path, written: list[ClusterFacts]
) -> None:
    run = _run(tmp_path, "198.51.100.10 ssh-ed25519 AAAA0\n198.51.100.11 ssh-ed25519 AAAA1\n")
    new = record.record_facts(run, ClusterFacts(), BUILT, NODES, _reached("do-0", "do-1"))  # type: ignore[arg-type]
    assert written == [new]
    assert new.mesh_ips == BUILT.mesh_ips and new.cluster_name == "prod"
    assert new.host_keys == {
        "do-0": HostKeys("100", ("ssh-ed25519 AAAA0",)),
        "do-1": HostKeys("101", ("ssh-ed25519 AAAA1",)),
    }
    assert "==> record" in run.ui.stream.getvalue()  # type: ignore[attr-defined]
    # The next converge, nothing new: nothing written, no phase line.
    again = FakeRun(tmp_path)
    assert record.record_facts(again, new, BUILT, NODES, _reached("do-0", "do-1")) == new  # type: ignore[arg-type]
    assert len(written) == 1
    assert "record" not in again.ui.stream.getvalue()  # type: ignore[attr-defined]


def test_an_unreached_node_keeps_its_recorded_keys_only_while_it_is_the_same_vm(
    tmp_path: Path, written: list[ClusterFacts]
) -> None:
    # do-0's key was refused (ssh wrote nothing); do-1 is a new VM under the same name.
    run = _run(tmp_path, "198.51.100.10 ssh-ed25519 AAAAforged\n")
    recorded = ClusterFacts(
        "prod",
        "mesh",
        False,
        BUILT.mesh_ips,
        {"do-0": HostKeys("100", ("ssh-ed25519 AAAA0",)), "do-1": HostKeys("99", ("k",))},
        source="state",
    )
    result = _reached(unreachable=("do-0", "do-1"))
    new = record.record_facts(run, recorded, BUILT, NODES, result)  # type: ignore[arg-type]
    assert new.host_keys == {"do-0": HostKeys("100", ("ssh-ed25519 AAAA0",))}
    assert written == [new]
