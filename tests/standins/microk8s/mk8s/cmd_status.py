"""`microk8s status`, byte for byte as microk8s 1.28-1.36 prints it.

Checked against microk8s-resources/wrappers/microk8s-status.wrapper (worker sentence, exit 0)
and scripts/wrappers/status.py + common/utils.py (stopped sentence exit 0; YAML written by hand
with Python's True/False; `high-availability.nodes` from `dqlite .cluster`, which comes back
empty after ~20 s of retries when dqlite cannot answer; "message:" and exit 1 when not ready;
addons only when ready). The retries are shortened here.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from . import addons, common, dqlite, paths, service

NOT_RUNNING_MESSAGE = "microk8s is not running. Use microk8s inspect for a deeper inspection."
DQLITE_RETRY_SECONDS = 0.05  # upstream sleeps 2-5 s per retry, 10 retries


def _dqlite_info(current: dict[str, Any] | None) -> list[tuple[str, str]]:
    if not paths.has_lock("ha-cluster"):
        return []
    if current is None or not current["dqlite_ok"]:
        for _ in range(10):
            time.sleep(DQLITE_RETRY_SECONDS)
        return []
    return [(m["address"], dqlite.ROLE_NAMES[m["role"]]) for m in current["members"]]


def print_yaml(
    ready: bool, info: list[tuple[str, str]], enabled: list[Any], disabled: list[Any]
) -> None:
    print("microk8s:")
    print("{:>2}{} {}".format("", "running:", ready))
    print("{:>2}".format("high-availability:"))
    ha_enabled = paths.has_lock("ha-cluster")
    print("{:>2}{} {}".format("", "enabled:", ha_enabled))
    if ha_enabled:
        print("{:>2}{}".format("", "nodes:"))
        for address, role in info:
            print("{:>6}address: {:<1}".format("- ", address))
            print("{:>6}role: {:<1}".format("", role))
    if ready:
        print("{:>2}".format("addons:"))
        for addon, state in [(a, "enabled") for a in enabled] + [(a, "disabled") for a in disabled]:
            print("{:>4}name: {:<1}".format("- ", addon.name))
            print("{:>4}repository: {:<1}".format("", addon.repository))
            print("{:>4}description: {:<1}".format("", addon.description))
            print("{:>4}version: {:<1}".format("", addon.version))
            print("{:>4}status: {}".format("", state))
    else:
        print("{:>2}{} {}".format("", "message:", NOT_RUNNING_MESSAGE))


def print_short(ready: bool, enabled: list[Any], disabled: list[Any]) -> None:
    if not ready:
        print(NOT_RUNNING_MESSAGE)
        return
    print("microk8s is running")
    print("addons:")
    for addon in enabled:
        print(f"{addon.repository}/{addon.name}: enabled")
    for addon in disabled:
        print(f"{addon.repository}/{addon.name}: disabled")


def print_pretty(
    ready: bool, info: list[tuple[str, str]], enabled: list[Any], disabled: list[Any]
) -> None:
    if not ready:
        print(NOT_RUNNING_MESSAGE)
        return
    print("microk8s is running")
    voters = [a for a, r in info if r == "voter"]
    standby = [a for a, r in info if r == "standby"]
    print("high-availability: yes" if len(voters) > 2 else "high-availability: no")
    print("{:>2}{} {}".format("", "datastore master nodes:", " ".join(voters) or "none"))
    print("{:>2}{} {}".format("", "datastore standby nodes:", " ".join(standby) or "none"))
    print("addons:")
    row = "{:>3} {:<20} # ({}) {}"
    if enabled:
        print("{:>2}{}".format("", "enabled:"))
        for a in enabled:
            print(row.format("", a.name, a.repository, a.description))
    if disabled:
        print("{:>2}{}".format("", "disabled:"))
        for a in disabled:
            print(row.format("", a.name, a.repository, a.description))


def main(argv: list[str]) -> None:
    common.exit_if_no_permissions()
    if common.is_worker():
        print("This MicroK8s deployment is acting as a node in a cluster.")
        print("Please use the control plane node.")
        sys.exit(0)
    if paths.has_lock("stopped.lock"):
        print(common.NOT_RUNNING)
        sys.exit(0)
    parser = argparse.ArgumentParser(
        description="Microk8s cluster status check.", prog="microk8s status"
    )
    parser.add_argument("--format", default="pretty", choices={"pretty", "yaml", "short"})
    parser.add_argument("-w", "--wait-ready", action="store_true")
    parser.add_argument("-t", "--timeout", type=int, default=0)
    parser.add_argument("-a", "--addon", default="all")
    parser.add_argument("--yaml", action="store_true")
    args = parser.parse_args(argv)

    if args.wait_ready:
        service.wait_ready(args.timeout)
    current = service.status(fresh=True)  # status.py runs `dqlite .cluster` each time
    ready = bool(current and current["ready"])
    cluster_addons = current["addons"] if current else []
    enabled, disabled = addons.split(cluster_addons) if ready else ([], [])
    if args.addon != "all":
        wanted = addons.find(args.addon)
        print("enabled" if wanted in enabled else "disabled")
    elif args.format == "yaml":
        print_yaml(ready, _dqlite_info(current), enabled, disabled)
    elif args.format == "short":
        print_short(ready, enabled, disabled)
    elif args.yaml:
        print("microk8s:")
        print("{:>2}{} {}".format("", "running:", ready))
        if ready:
            print("addons:")
            for a in enabled:
                print(f"  {a.repository}/{a.name}: enabled")
            for a in disabled:
                print(f"  {a.repository}/{a.name}: disabled")
        else:
            print("{:>2}{} {}".format("", "message:", NOT_RUNNING_MESSAGE))
    else:
        print_pretty(ready, _dqlite_info(current) if ready else [], enabled, disabled)
    if not ready:
        sys.exit(1)
