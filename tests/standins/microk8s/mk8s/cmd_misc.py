"""`microk8s config | version | start | stop | enable | disable`.

Checked against the matching wrappers in microk8s-resources/wrappers (1.32) and
scripts/wrappers/version.py, enable.py / common/utils.py xable: a worker answers `config`,
`start` and `stop` with a sentence and exit 0; `config` prints client.config with 127.0.0.1
replaced by the default interface's address (`get_default_ip`, "none" when there is no default
route) and a trailing empty line; `stop` prints snap's "Stopped." twice and leaves
stopped.lock; `enable`/`disable` infer the `core` repository and report already-(en|dis)abled.
"""

from __future__ import annotations

import sys

from . import addons, common, identity, netinfo, paths, service, timescale


def config(argv: list[str]) -> None:
    if common.is_worker():
        print(
            "This MicroK8s deployment is acting as a node in a cluster. Please use the microk8s"
            " config on the master."
        )
        sys.exit(0)
    loopback = False
    for arg in argv:
        if arg in ("-l", "--use-loopback"):
            loopback = True
        elif arg in ("-h", "--help"):
            print("Usage: microk8s config [OPTIONS]\n")
            print("Retrieve the client config, similar to microk8s kubectl config view --raw\n")
            print("Options:")
            print(" -h, --help          Show this help")
            print(" -l, --use-loopback  Report the cluster address using the loopback address")
            print("                     (127.0.0.1) rather than the default interface address")
            sys.exit(0)
        else:
            common.die(f"microk8s config: invalid option -- {arg}")
    common.exit_if_no_permissions()
    text = paths.credentials("client.config").read_text()
    if not loopback:
        ip = netinfo.default_ip()
        # sed -e "s/127.0.0.1/$IP/": the first match on each line.
        text = "\n".join(line.replace("127.0.0.1", ip, 1) for line in text.split("\n"))
    sys.stdout.write(text)
    print()


def version(argv: list[str]) -> None:
    common.exit_if_no_permissions()
    print(f"MicroK8s {identity.version()} revision {identity.revision()}")


def start(argv: list[str]) -> None:
    if common.is_worker():
        print("This MicroK8s deployment is acting as a node in a cluster.")
        print("Use 'snap start microk8s' to start services on this node.")
        sys.exit(0)
    common.exit_if_no_permissions()
    for arg in argv:
        if arg not in ("--disable-low-memory-guard",):
            common.die(f"microk8s start: invalid option -- {arg}")
    service.start()
    paths.clear_lock("stopped.lock")
    service.wait_ready(60)  # utils.sh wait_for_node: up to 60 s, silently


def stop(argv: list[str]) -> None:
    if common.is_worker():
        print("This MicroK8s deployment is acting as a node in a cluster.")
        print("Use 'snap stop microk8s' to stop services on this node.")
        sys.exit(0)
    common.exit_if_no_permissions()
    for arg in argv:
        common.die(f"microk8s stop: invalid option -- {arg}")
    service.stop()
    print("Stopped.")
    print("Stopped.")
    paths.set_lock("stopped.lock")


def _xable(action: str, argv: list[str]) -> None:
    common.exit_if_no_permissions()
    if not argv:
        print(f"Usage: microk8s {action} [OPTIONS] ADDONS...", file=sys.stderr)
        print(f"Try 'microk8s {action} -h' for help.", file=sys.stderr)
        print("", file=sys.stderr)
        print("Error: Missing argument 'ADDONS...'.", file=sys.stderr)
        sys.exit(2)
    if common.is_worker():
        print("This MicroK8s deployment is acting as a node in a cluster.")
        print("Please use the master node.")
        sys.exit(1)
    if paths.has_lock("stopped.lock"):
        common.die(common.NOT_RUNNING, 1, err=True)
    service.wait_ready(30)
    for arg in argv:
        name, *args = arg.split(":")  # common/utils.py parse_xable_single_arg
        addon = addons.find(name)
        if addon is None:
            common.die(
                f"Addon {name.rpartition('/')[2]} was not found in any repository", 1, err=True
            )
        if "/" not in name:
            print(f"Infer repository {addon.repository} for addon {addon.name}", file=sys.stderr)
        current = service.status(fresh=True)
        enabled, _ = addons.split(current["addons"] if current else [])
        if (addon in enabled) == (action == "enable"):
            print(f"Addon {addon.repository}/{addon.name} is already {action}d")
            continue
        if addon.name == "ha-cluster" and action == "disable":
            # Upstream this converts the node to etcd + flannel; the stand-in only does dqlite.
            common.die("Disabling ha-cluster is not implemented by the microk8s stand-in", 1)
        # xable waits for the node to be ready before and after the addon's script, and the
        # script itself takes the time its manifests, waits and sleeps take (addons.py).
        timescale.pause(addons.seconds(addon.name, action))
        if addon.local:
            lock = "ha-cluster" if addon.name == "ha-cluster" else f"standin-addon-{addon.name}"
            (paths.set_lock if action == "enable" else paths.clear_lock)(lock)
        else:
            change = {"op": "set_addon", "name": addon.name, "enabled": action == "enable"}
            answer = service.ask("change", {"op": change})
            if answer is None or answer[0] != 200:
                common.die(
                    f"Failed to {action} {addon.name}: the cluster did not accept the change", 1
                )
        if action == "disable" and addon.name in addons.ASKS_ON_DISABLE:
            _ask_to_remove_storage(args)
        print(f"Addon {addon.repository}/{addon.name} is {action}d")


def _ask_to_remove_storage(args: list[str]) -> None:
    """addons/hostpath-storage/disable (storage/disable calls it): the storage class and the
    provisioner are deleted first; then, unless given `destroy-storage`, it asks on the
    terminal (`read -p … (Y/N)`) and exits 1 on anything but yes, end of input included: the
    addon is already disabled then, its PV data still on disk."""
    print("Storage removed.")
    if args != ["destroy-storage"]:
        print("Remove PVC storage at $SNAP_COMMON/default-storage ? (Y/N): ", end="", flush=True)
        answer = sys.stdin.readline().strip()
        if answer not in ("y", "Y", "yes", "YES", "Yes"):
            sys.exit(1)
    print("Storage space reclaimed.")


def enable(argv: list[str]) -> None:
    _xable("enable", argv)


def disable(argv: list[str]) -> None:
    _xable("disable", argv)
