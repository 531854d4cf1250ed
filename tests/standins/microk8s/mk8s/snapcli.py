"""The `snap` command, for the snaps a lab host needs: core and microk8s.

Messages and exit codes from snapd cmd/snap (cmd_snap_op.go, error.go, cmd_list.go,
cmd_services.go, main.go): errors print "error: <message>" to stderr and exit 1; installing an
installed snap prints `snap "<name>" is already installed, see 'snap help refresh'` to stderr
and exits 0; success prints "<name> (<channel>) <version> from Canonical** installed" (the
channel only when it is not plain stable; `**` is the verified mark without a unicode
terminal); microk8s needs --classic; channels parse like snapd; `snap list` and
`snap services` are tabwriter tables (min width 5, padding 2); removing a snap that is not
installed prints `snap "<name>" is not installed` and exits 0.
Refuses to run anywhere but a lab host (whose root is an overlay), so it cannot write into the
machine's real /snap or /var/snap.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, NoReturn

from . import channels, install, paths, service, snap_refresh

NEEDS_CLASSIC = """\
This revision of snap "microk8s" was published using classic confinement and thus may perform
arbitrary system changes outside of the security sandbox that snaps are usually confined to,
which may put your system at risk.

If you understand and want to proceed repeat the command including --classic."""

SERVICES = (
    "apiserver-kicker",
    "apiserver-proxy",
    "cluster-agent",
    "containerd",
    "etcd",
    "flanneld",
    "k8s-dqlite",
    "kubelite",
)


def _error(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def _require_lab_host() -> None:
    fstype = ""
    try:
        with open("/proc/self/mountinfo") as mounts:
            for line in mounts:
                fields = line.split()
                if fields[4] == "/":
                    fstype = fields[fields.index("-") + 1]
    except OSError:
        pass
    if fstype not in ("overlay", "tmpfs"):
        _error(
            "the microk8s stand-in's snap runs only inside a lab host (an overlay root), "
            f"not on this machine (root filesystem: {fstype or 'unknown'})"
        )


def _require_root() -> None:
    if os.geteuid() != 0:
        _error("access denied (try with sudo)")


def _registry() -> dict[str, dict[str, Any]]:
    try:
        data: dict[str, dict[str, Any]] = json.loads(paths.SNAPD_STATE.read_text())
        return data
    except (OSError, ValueError):
        return {}


def _save_registry(registry: dict[str, dict[str, Any]]) -> None:
    paths.SNAPD_STATE.parent.mkdir(parents=True, exist_ok=True)
    paths.SNAPD_STATE.write_text(json.dumps(registry, indent=1, sort_keys=True))


def tabwriter(rows: list[list[str]]) -> str:
    widths = [max(5, max(len(r[i]) for r in rows) + 2) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + r[-1] for r in rows
    )


def cmd_install(args: list[str]) -> None:
    _require_root()
    classic = False
    channel_text = ""
    names: list[str] = []
    it = iter(args)
    for arg in it:
        if arg == "--classic":
            classic = True
        elif arg.startswith("--channel="):
            channel_text = arg.split("=", 1)[1]
        elif arg == "--channel":
            channel_text = next(it, "")
        elif arg in ("--stable", "--candidate", "--beta", "--edge"):
            if channel_text:
                _error("please specify a single channel")
            channel_text = arg[2:]
        elif arg.startswith("-"):
            _error(f"unknown flag `{arg.lstrip('-')}'")
        else:
            names.append(arg)
    if not names:
        _error("the required argument `<snap> (at least 1 argument)` was not provided")
    try:
        channel = channels.parse_channel(channel_text or "latest/stable")
    except ValueError as err:
        _error(f"cannot parse channel: {err}")
    for name in names:
        _install_one(name, channel, classic)


def _install_one(name: str, channel: channels.Channel, classic: bool) -> None:
    registry = _registry()
    if name in registry:
        print(f"snap \"{name}\" is already installed, see 'snap help refresh'", file=sys.stderr)
        return
    shown = "" if channel.name == "stable" else f" ({channel.name})"
    if name == "core":
        version, revision = channels.CORE_SNAP
        _require_lab_host()
        install.install_core(revision)
        notes = "core"
    elif name == "microk8s":
        if not classic:
            _error(NEEDS_CLASSIC)
        try:
            version, revision = channels.microk8s_release(channel)
        except ValueError as err:
            _error(str(err))
        _require_lab_host()
        try:
            install.install(version, revision)
        except install.HookError as err:
            _error(
                "cannot perform the following tasks:\n"
                f'- Run install hook of "microk8s" snap if present (run hook "install": \n'
                f"-----\n{err}\n-----)"
            )
        notes = "classic"
    else:
        _error(f'snap "{name}" not found')
    registry[name] = {
        "version": version,
        "revision": revision,
        "tracking": channel.full if not channel.branch else channel.name,
        "notes": notes,
    }
    _save_registry(registry)
    print(f"{name}{shown} {version} from Canonical** installed")


def cmd_remove(args: list[str]) -> None:
    _require_root()
    names = [a for a in args if not a.startswith("-")]
    registry = _registry()
    for name in names:
        if name not in registry:
            print(f'snap "{name}" is not installed', file=sys.stderr)
            continue
        _require_lab_host()
        if name == "microk8s":
            install.remove_files()
        else:
            install.remove_core()
        del registry[name]
        _save_registry(registry)
        print(f"{name} removed")


def cmd_list(args: list[str]) -> None:
    registry = _registry()
    names = [a for a in args if not a.startswith("-")]
    if not registry:
        if names:
            _error("no matching snaps installed")
        print("No snaps are installed yet. Try 'snap install hello-world'.", file=sys.stderr)
        return
    chosen = sorted(n for n in registry if not names or n in names)
    if not chosen:
        _error("no matching snaps installed")
    rows = [["Name", "Version", "Rev", "Tracking", "Publisher", "Notes"]]
    for n in chosen:
        s = registry[n]
        notes = s["notes"] + (",held" if s.get("held") else "")  # snapd's notes.go order
        rows.append([n, s["version"], s["revision"], s["tracking"], "canonical**", notes])
    print(tabwriter(rows))


def _service_states() -> list[list[str]]:
    running = service.pid() is not None
    disabled = paths.has_lock("standin-services-disabled")
    worker = paths.has_lock("clustered.lock")
    rows = []
    for svc in SERVICES:
        active = running and svc not in ("etcd", "flanneld")
        if svc == "apiserver-proxy":
            active = active and worker
        if svc == "k8s-dqlite":
            active = active and not worker
        startup = "disabled" if disabled and svc not in ("etcd", "flanneld") else "enabled"
        rows.append([f"microk8s.daemon-{svc}", startup, "active" if active else "inactive", "-"])
    return rows


def cmd_services(args: list[str]) -> None:
    if "microk8s" not in _registry():
        if args:
            _error(f'snap "{args[0].split(".")[0]}" not found')
        print("There are no services provided by installed snaps.", file=sys.stderr)
        return
    print(tabwriter([["Service", "Startup", "Current", "Notes"], *_service_states()]))


def cmd_start_stop(verb: str, args: list[str]) -> None:
    _require_root()
    names = [a for a in args if not a.startswith("-")]
    if not names or names[0].split(".")[0] != "microk8s" or "microk8s" not in _registry():
        _error(f'snap "{names[0] if names else ""}" not found')
    _require_lab_host()
    if verb in ("stop", "restart"):
        service.stop()
        if "--disable" in args:
            paths.set_lock("standin-services-disabled")
    if verb in ("start", "restart"):
        service.start()
        if "--enable" in args:
            paths.clear_lock("standin-services-disabled")
    print({"stop": "Stopped.", "start": "Started.", "restart": "Restarted."}[verb])


def main(argv: list[str]) -> None:
    if not argv:
        _error(
            "Please specify one command of: install, list, refresh, remove, services, start,"
            " stop, wait"
        )
    verb, args = argv[0], argv[1:]
    if verb == "install":
        cmd_install(args)
    elif verb == "remove":
        cmd_remove(args)
    elif verb == "list":
        cmd_list(args)
    elif verb == "services":
        cmd_services(args)
    elif verb in ("start", "stop", "restart"):
        cmd_start_stop(verb, args)
    elif verb == "refresh":
        _require_root()
        _require_lab_host()
        snap_refresh.main(args, _registry(), _save_registry, _error)
    elif verb == "wait":
        return  # `snap wait system seed.loaded`: the lab host is always seeded
    elif verb == "version":
        print("snap    2.63\nsnapd   2.63\nseries  16\ndebian  12")
    else:
        _error(f"unknown command \"{verb}\", see 'snap help'.")
    sys.exit(0)
