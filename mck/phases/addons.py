"""The addons phase, after the joins: one read of the enabled addons (`microk8s status --format
yaml` on one ready member), then `microk8s enable` / `microk8s disable` through that member for
the difference with instances.tf's `addons` (mck/addons.py plans it). Addons are cluster state,
so one member is enough; a converge with nothing to change costs that one read on one node, and
a project that never declared an addon not even that.

Disabling an addon that holds data asks first: --yes says yes for scripts; with no terminal to
ask on and no --yes, that removal is refused (the addon stays enabled, the run exits 3 naming
it). A failed enable or disable is a problem line of the run's report, never a traceback; the
other addons still go ahead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from mck import addons
from mck.ansible import PLAYBOOKS, Ansible, PlayResult
from mck.phases.context import STATE_DIR, Run

PLAYBOOK = PLAYBOOKS / "addons.yml"
READ_TASK = "Read microk8s addons"
CHANGE_TASK = "Enable or disable a microk8s addon"
# Where mck kept the addons declared at the last addon converge before the cluster's record
# (mck/cluster_facts.py) held them: read once, for a cluster from before the record.
MANAGED_FILE = "addons.json"
# Seconds one `microk8s enable`/`disable` may take: enable scripts wait for their workloads
# (addons/dns/enable sleeps, restarts kubelet and waits for it; cert-manager waits for its
# webhook), and microk8s' xable waits up to 30 s for the node to be ready before and after.
CHANGE_TIMEOUT = 600


@dataclass
class Converged:
    enabled: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one line each, for the report
    managed: list[str] | None = None  # the addons a next converge may disable; None: unchanged


def read_managed(project: Path) -> list[str]:
    """The names an older mck kept in .mck/addons.json; [] when there are none."""
    try:
        names = json.loads((project / STATE_DIR / MANAGED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def read_enabled(ansible: Ansible, member: str) -> tuple[set[str] | None, str]:
    """The enabled addons read on `member`, or None and why not."""
    result = ansible.playbook(PLAYBOOK, extravars={"mck_leader": member}, capture={READ_TASK})
    res = result.captured.get(member, {}).get(READ_TASK)
    if res is None or int(res.get("rc", 1)) != 0:
        return None, _why(result, res)
    enabled = addons.enabled_from_status(str(res.get("stdout", "")))
    if enabled is None:
        return None, "`microk8s status --format yaml` listed no addons (microk8s not running?)"
    return enabled, ""


def preview(
    ansible: Ansible | None, member: str | None, declared: list[addons.Addon], managed: list[str]
) -> tuple[list[str], addons.AddonPlan | None]:
    """`mck plan`'s addon section and what it found: read through `member` of today's cluster,
    changing nothing. With no cluster yet, every declared addon is enabled once it forms. No
    plan (None) when the cluster's addons could not be read."""
    if not declared and not managed:
        return [], addons.AddonPlan()
    if ansible is None or member is None:
        lines = [f"addon {a.entry}: enable, once the cluster has formed" for a in declared]
        return lines, addons.AddonPlan(enable=list(declared))
    enabled, why = read_enabled(ansible, member)
    if enabled is None:
        return [f"addons: not read through {member}: {why}"], None
    found = addons.plan(declared, managed, enabled)
    return found.lines(), found


def converge_addons(
    run: Run, member: str | None, declared: list[addons.Addon], managed: list[str], *, yes: bool
) -> Converged:
    """Bring the cluster's addons to `declared` through `member` (a ready member); `managed`:
    the names declared at the last addon converge (the cluster's record), what may be disabled.
    The result's `managed` is what the record should say next."""
    done = Converged()
    if not declared and not managed:
        return done  # never declared: nothing to read
    run.ui.phase("addons", f"{len(declared)} declared")
    if member is None:
        done.problems.append("addons: not converged: no ready member to run microk8s through")
        return done
    enabled, why = read_enabled(run.ansible, member)
    if enabled is None:
        done.problems.append(f"addons: not read through {member}: {why}")
        return done
    wanted = addons.plan(declared, managed, enabled)
    for line in wanted.lines():
        run.ui.say(line)
    for addon in wanted.enable:
        error = _change(run, member, addon.enable_argv())
        if error:
            done.problems.append(f"addon {addon.name}: enable through {member} failed: {error}")
        else:
            done.enabled.append(addon.name)
    kept = []
    for name in wanted.disable:
        refusal = _consent(run, name, yes)
        error = refusal or _change(run, member, addons.disable_argv(name))
        if error:
            kept.append(name)  # still enabled: the next converge asks again
            verb = "not disabled" if refusal else f"disable through {member} failed"
            done.problems.append(f"addon {name}: {verb}: {error}")
        else:
            done.disabled.append(name)
    done.managed = addons.still_managed(declared, kept)
    return done


def _consent(run: Run, name: str, yes: bool) -> str:
    """ "" when `name` may be disabled; otherwise why not (one line)."""
    if name not in addons.HOLDS_DATA or yes:
        return ""
    ask = run.settings.ask
    agreed = ask(f"Disable addon {name}? Its data (volumes) is deleted.") if ask else None
    if agreed is None:
        return (
            "disabling it deletes its data and there is no terminal to ask on; "
            "run `mck --yes` to disable it, or declare it again to keep it"
        )
    return "" if agreed else "kept: you said no (declare it again to stop being asked)"


def _change(run: Run, member: str, argv: list[str]) -> str:
    """Run `microk8s <argv>` on `member`; "" on success, else why not."""
    run.ui.say(f"microk8s {' '.join(argv)} through {member}")
    result = run.ansible.playbook(
        PLAYBOOK,
        extravars={
            "mck_leader": member,
            "mck_addon_argv": argv,
            "mck_addon_timeout": CHANGE_TIMEOUT,
        },
        capture={CHANGE_TASK},
    )
    if result.ok:
        return ""
    return _why(result, result.captured.get(member, {}).get(CHANGE_TASK))


def _why(result: PlayResult, res: dict[str, object] | None) -> str:
    """The last line microk8s printed, else ansible's failure."""
    if res is not None:
        for stream in ("stderr", "stdout", "msg"):
            lines = [ln for ln in str(res.get(stream) or "").splitlines() if ln.strip()]
            if lines:
                return lines[-1].strip()
    failure = next(iter(result.failures), None)
    if failure is not None:
        return f"{failure.task}: {failure.message}"
    return f"ansible-runner {result.status}, rc {result.rc}"


def declared(project: Path, value: object) -> list[addons.Addon]:
    """Preflight's check of the `addons` variable's value against microk8s' core addons of the
    pinned channel (microk8s_channel in roles/microk8s/defaults): a bad entry exits 2."""
    from mck import versions

    return addons.parse(addons.from_variable(value), versions.pinned_channel(project))
