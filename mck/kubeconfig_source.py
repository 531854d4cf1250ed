"""`mck kubeconfig`: read the admin kubeconfig from a ready voter and hand it to the user.

The node is asked once (mck/playbooks/kubeconfig.yml) for `microk8s config` and for its API
certificate's SANs. `microk8s config` names the address of the node's default route, or "none"
(lab hosts and some clouds have no usable one), so mck puts the node's public IP in `server:`,
and checks that the certificate covers it (the launch configuration lists it in extraSANs) or
the address `--server` gives (127.0.0.1 is always covered, for an SSH tunnel).
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mck import kubeconfig, run_lock, safe_output
from mck.ansible import PLAYBOOKS
from mck.destroy import KUBECONFIG_FILE
from mck.errors import ClusterError, MckError, UsageError
from mck.existing import probe_existing
from mck.phases.context import STATE_DIR, Settings
from mck.preflight import cluster_name
from mck.private_files import temp_prefix
from mck.report import Ui
from mck.status import NodeStatus, node_statuses

SANS_TASK = "Read the API certificate's addresses"


@dataclass(frozen=True)
class Request:
    output: str | None = None  # a path, "-" for stdout; None: the default for the mode
    merge: bool = False
    use: bool = False  # with merge: make the cluster's context the current one
    server: str | None = None  # instead of the node's public address
    force: bool = False  # replace a file mck did not write


@dataclass(frozen=True)
class Admin:
    cluster_name: str
    node: str
    public_ip: str
    ssh_user: str
    public_api: bool
    sans: frozenset[str]
    cluster: dict[str, Any]
    user: dict[str, Any]


def export(settings: Settings, request: Request, ui: Ui) -> Path | None:
    """Write (or print) the kubeconfig; returns the file written, None for stdout."""
    if request.output == "-" and request.merge:
        raise UsageError("--merge writes a file: drop -o - (or drop --merge to print it)")
    project = settings.project.resolve()
    target = _target(project, request, settings)
    if target is not None and not request.merge:
        kubeconfig.check_replaceable(target, force=request.force)
    if request.server:
        kubeconfig.check_server(request.server)
    # Writing a file is a change: not while a converge or a destroy runs (a destroy removes
    # the project's kubeconfig; one written meanwhile would outlive the cluster it is for).
    # Without .mck/ no run ever changed this project, so there is no cluster to read: no lock
    # file is made in a directory that is not a project.
    state_dir = project / STATE_DIR
    locks = target is not None and state_dir.is_dir()
    held = run_lock.acquire(state_dir, "kubeconfig") if locks else None
    try:
        return _export(settings, request, ui, target)
    finally:
        if held is not None:
            held.release()


def _export(settings: Settings, request: Request, ui: Ui, target: Path | None) -> Path | None:
    admin = read_admin(settings, ui)
    server = request.server or kubeconfig.server_url(admin.public_ip)
    host = kubeconfig.check_server(server)
    if not kubeconfig.covered(host, set(admin.sans)):
        raise ClusterError(
            f"the API certificate of {admin.node} does not cover {host} (it covers "
            f"{', '.join(sorted(admin.sans))}): kubectl would refuse it; give --server with one "
            "of those addresses"
        )
    if not request.server and not admin.public_api:
        ui.warn(
            f"the API port is closed to the internet (public_api = false), so {server} answers "
            "only the nodes: set public_api = true in instances.tf and run mck, or tunnel "
            f"(ssh -L 16443:127.0.0.1:16443 {admin.ssh_user}@{admin.public_ip}) and pass "
            "--server https://127.0.0.1:16443"
        )
    doc = kubeconfig.standalone(admin.cluster_name, server, admin.cluster, admin.user)
    if target is None:
        # The kubeconfig is this command's whole result: not written is a failure, not a crash.
        if not safe_output.echo(kubeconfig.dump(doc, admin.cluster_name), sys.stdout):
            raise MckError("cannot write the kubeconfig to stdout (closed): pass -o FILE instead")
        return None
    if request.merge:
        doc = kubeconfig.merge(kubeconfig.load(target), doc, use=request.use)
    text = kubeconfig.dump(doc, admin.cluster_name, mark=not request.merge)
    written = kubeconfig.write_private(target, text)
    what = f"merged context {admin.cluster_name} into" if request.merge else "wrote"
    ui.say(f"{what} {written} (server {server}, from {admin.node})")
    return written


def _target(project: Path, request: Request, settings: Settings) -> Path | None:
    if request.output == "-":
        return None
    if request.output:
        return Path(request.output)
    if request.merge:
        home = Path(settings.env.get("HOME") or os.path.expanduser("~"))
        return kubeconfig.merge_target(settings.env, home)
    return project / KUBECONFIG_FILE


def read_admin(settings: Settings, ui: Ui) -> Admin:
    """The admin credentials and API certificate SANs of the first ready voter."""
    existing = probe_existing(settings, ui)
    nodes = existing.nodes
    ansible = existing.ansible  # the state's nodes, never a hand-edited inventory's
    source = _source(node_statuses(nodes, existing.probes, existing.cluster_ips))
    ssh_user = next(n.ssh_user for n in nodes if n.name == source.name)
    with tempfile.TemporaryDirectory(prefix=temp_prefix("kubeconfig")) as tmp:
        os.chmod(tmp, 0o700)
        dest = Path(tmp) / "admin.config"
        result = ansible.playbook(
            PLAYBOOKS / "kubeconfig.yml",
            extravars={"mck_source": source.name, "mck_dest": str(dest)},
            capture={SANS_TASK},
        )
        if not result.ok or not dest.exists():
            failure = next(iter(result.failures), None)
            detail = f"{failure.task}: {failure.message}" if failure else result.status
            raise MckError(f"reading the kubeconfig from {source.name} failed: {detail}")
        text = dest.read_text(encoding="utf-8")
    sans_out = str(result.captured.get(source.name, {}).get(SANS_TASK, {}).get("stdout", ""))
    admin_cluster, admin_user = kubeconfig.parse_admin(text)
    return Admin(
        cluster_name=cluster_name(existing.project, existing.config, settings.env),
        node=source.name,
        public_ip=source.public_ip,
        ssh_user=ssh_user,
        public_api=existing.facts.public_api,
        sans=frozenset(kubeconfig.parse_sans(sans_out)),
        cluster=admin_cluster,
        user=admin_user,
    )


def _source(statuses: tuple[NodeStatus, ...]) -> NodeStatus:
    """The first ready voter (or a node alone): its credentials are the cluster's."""
    for s in statuses:
        if s.ready and s.role in ("voter", "single"):
            return s
    states = ", ".join(f"{s.name}: {s.role or 'no role'}, {s.state}" for s in statuses)
    raise ClusterError(
        f"no ready voter to read the kubeconfig from ({states}): run mck status, then mck"
    )
