"""The microk8s stand-in: snap, microk8s commands and the node daemon, stdlib only.

Everything here runs under a lab host's /usr/bin/python3 (Debian 12, 3.11, no third-party
packages). The entry points are the scripts one directory up: snap.py, microk8s.py and
microk8sd.py. Each module names the upstream files it imitates; they were read at:
- canonical/microk8s branches 1.28-1.35 (scripts/wrappers/*.py, microk8s-resources/wrappers,
  actions/common/utils.sh, snap/hooks/install, default-args), master at d099c907 (2026-06);
- canonical/microk8s-cluster-agent 33e4ad06 (pkg/api/v2, pkg/snap, pkg/k8sinit, pkg/util);
- canonical/k8s-dqlite pkg/server/server.go (how k8s-dqlite starts its dqlite node: the lab's
  node program in tests/standins/dqlite does the same with Debian's go-dqlite 1.11.5);
- canonical/snapd bee548f7 (cmd/snapd/cli, snap/channel);
- canonical/microk8s-core-addons branch 1.32 (addons.yaml).
"""
