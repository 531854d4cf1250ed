"""What `mck plan` found, as one result: the text section's facts, the exit code a pipeline
branches on, and `mck plan --json`'s document. Pure: no I/O here.

The JSON form is documented by its JSON Schema, mck/plan.schema.json (shipped with the package;
tests/unit/test_plan_json.py keeps the two in step). Bump SCHEMA on any change to the
document's shape; a new version keeps every older field with its meaning.

Exit codes: plain `mck plan` exits 0 when mck would go ahead and 2 when it would refuse, as it
always has (scripts and tests rely on 0 for "a plan with changes"). `--detailed-exitcode` adds
EXIT_CHANGES for "changes pending", in the spirit of `terraform plan -detailed-exitcode`
(0 no changes, 1 error, 2 changes present; developer.hashicorp.com/terraform/cli/commands/plan):
mck's 2 already means refused for every command, so changes get a code of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mck import versions
from mck.addons import AddonPlan
from mck.errors import EXIT_CHANGES, EXIT_USAGE
from mck.nodes import NodeChanges
from mck.preview import Preview

SCHEMA = 2  # 2: addon_changes, addons_read and upgrade_steps


@dataclass(frozen=True)
class PlanResult:
    cluster: str | None = None  # None: refused before the configuration was read
    encryption: str | None = None
    changes: NodeChanges = field(default_factory=NodeChanges)
    infrastructure: bool = False  # the tofu plan changes something (nodes or other resources)
    shown: Preview | None = None  # None: refused before the cluster actions were planned
    probed: bool = False  # today's nodes were probed (their cluster actions are known)
    snaps: Mapping[str, versions.Snap] = field(default_factory=dict)
    pinned: str | None = None  # the channel the project pins for new nodes
    # The declared addons against the cluster's; None when they could not be read.
    addons: AddonPlan | None = field(default_factory=AddonPlan)
    refusal: str | None = None  # the one line mck refuses with (exit 2)

    @property
    def actions(self) -> list[dict[str, Any]]:
        return actions(self.shown) if self.shown else []

    @property
    def pending(self) -> bool:
        """A converge would change something: infrastructure, the cluster's membership, or
        its addons."""
        return self.infrastructure or bool(self.actions) or bool(self.addon_changes)

    @property
    def addon_changes(self) -> list[dict[str, str]]:
        if self.addons is None:
            return []
        enable = [{"addon": a.name, "change": "enable"} for a in self.addons.enable]
        return enable + [{"addon": n, "change": "disable"} for n in self.addons.disable]

    @property
    def outcome(self) -> str:
        if self.refusal is not None:
            return "refused"
        return "changes" if self.pending else "no-changes"

    def exit_code(self, *, detailed: bool) -> int:
        if self.refusal is not None:
            return EXIT_USAGE
        return EXIT_CHANGES if detailed and self.pending else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "cluster": self.cluster,
            "encryption": self.encryption,
            "outcome": self.outcome,
            "refusals": [self.refusal] if self.refusal is not None else [],
            "infrastructure_changes": self.infrastructure,
            "node_changes": node_changes(self.changes),
            "cluster_actions": self.actions,
            "probed": self.probed,
            "warnings": list(self.shown.warnings) if self.shown else [],
            "version_skew": [
                {"node": name, "version": snap.version, "channel": snap.channel}
                for name, snap in versions.skewed(self.snaps, self.pinned)
            ],
            "pinned_channel": self.pinned,
            "addon_changes": self.addon_changes,
            "addons_read": self.addons is not None,
            "upgrade_steps": list(self.shown.upgrade) if self.shown else [],
        }


def node_changes(changes: NodeChanges) -> list[dict[str, str]]:
    return [
        {"node": name, "change": label}
        for label, names in (
            ("create", changes.created),
            ("replace", changes.replaced),
            ("destroy", changes.destroyed),
        )
        for name in names
    ]


def actions(preview: Preview) -> list[dict[str, Any]]:
    """The cluster actions, in the order the text section lists them (mck/preview.py)."""
    sd = preview.scale_down
    via = sd.via.name if sd.via else None
    out: list[dict[str, Any]] = [
        {
            "action": "remove",
            "node": r.node.name,
            "address": r.address,
            "graceful": r.graceful,
            "via": via,
        }
        for r in sd.removals
    ]
    out += [{"action": "destroy-outside", "node": n.name} for n in sd.outside]
    if preview.bootstrap and preview.leader:
        out.append({"action": "bootstrap", "node": preview.leader})
    out += [{"action": "join", "node": n, "leader": preview.leader} for n in preview.joins]
    out += [{"action": "remove-stale", "address": a, "via": preview.leader} for a in preview.stale]
    return out
