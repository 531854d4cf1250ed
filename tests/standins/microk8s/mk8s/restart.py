"""The waits and the full restart that `microk8s join` and `leave` go through, in modelled
time (timescale: MCK_LAB_TIME_SCALE scales them, nothing skips them).

Checked against canonical/microk8s scripts/wrappers/join.py (update_dqlite: stop apiserver
and k8s-dqlite, `time.sleep(10)`, start them, wait for the node in `.cluster`, then
`restart_all_services()`), scripts/wrappers/leave.py (stop, `time.sleep(10)`, remove, start,
apply_cni: `time.sleep(10)` then wait for the API, then `restart_all_services()`) and
scripts/wrappers/common/cluster/utils.py (`restart_all_services`: microk8s-stop.wrapper, then
microk8s-start.wrapper, which returns once the services are started, not ready).
"""

from __future__ import annotations

from . import service, timescale

DQLITE_SETTLE = 10.0  # join.py/leave.py: time.sleep(10) after stopping apiserver and k8s-dqlite
CNI_SETTLE = 10.0  # leave.py apply_cni: time.sleep(10) before waiting for the API
# kubelite's start-up after a restart: until then the API server refuses and `status` says
# not ready. Tens of seconds on a small cloud VM.
API_START = 20.0


def settle(seconds: float) -> None:
    timescale.pause(seconds)


def restart_all_services() -> None:
    """Every service down (the API refuses), then up again; returns before the API serves."""
    service.stop()
    service.start(warmup=timescale.scaled(API_START))
