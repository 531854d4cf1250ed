"""Creating and replacing the node's dqlite backend (its datastore identity).

- fresh(): utils.sh init_cluster at install, and leave.py reinit_cluster (which reuses the
  cluster.crt/key saved in backend.backup when the node had joined a cluster, else makes new
  ones): init.yaml `Address: 127.0.0.1:19001`, a one-node cluster. The shared state it starts
  with (one Node, the launch configuration's addons) is seeded into dqlite once it runs.
- for_join(): join.py update_dqlite: the old backend moves to backend.backup, the cluster's
  cert/key are stored, and init.yaml says to join the voters at <the IP the leader saw>:<port>.
"""

from __future__ import annotations

import shutil
from typing import Any

from . import calico_config, certs, identity, paths, store


def self_node(agent_ip: str = "127.0.0.1", *, worker: bool = False) -> dict[str, Any]:
    return store.node_entry(
        identity.hostname(),
        identity.node_ip(),
        f"{agent_ip}:{identity.agent_port()}",
        identity.version(),
        worker=worker,
    )


def fresh(cluster_addons: list[str]) -> None:
    directory, backup = paths.backend(), paths.backend_backup()
    with store.locked():
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        if (backup / "cluster.crt").is_file():
            shutil.copy(backup / "cluster.crt", directory / "cluster.crt")
            shutil.copy(backup / "cluster.key", directory / "cluster.key")
        else:
            certs.make_cluster_cert(directory)
        (directory / "init.yaml").write_text("Address: 127.0.0.1:19001\n")
        shared = store.fresh_shared(self_node(), cluster_addons)
        # The node's Calico manifest, applied to its fresh datastore.
        shared["calico_config"] = calico_config.applied(shared["cluster_id"])
        store.write_seed(shared)
        store.set_local(dqlite_error=None)


def old_port() -> str:
    return store.address().rsplit(":", 1)[1]


def for_join(
    cluster_cert: str, cluster_key: str, voters: list[str], host: str, cluster_id: str
) -> str:
    """Swap in the joined cluster's identity; returns this node's new dqlite address."""
    directory, backup = paths.backend(), paths.backend_backup()
    with store.locked():
        port = old_port()
        shutil.rmtree(backup, ignore_errors=True)
        shutil.move(str(directory), str(backup))
        directory.mkdir(parents=True)
        (directory / "cluster.crt").write_text(cluster_cert)
        (directory / "cluster.key").write_text(cluster_key)
        (directory / "cluster.key").chmod(0o600)
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        init = "Cluster:\n" + "".join(f"- {v}\n" for v in voters) + f"Address: {address}\n"
        (directory / "init.yaml").write_text(init)
        store.seed_path().unlink(missing_ok=True)
        store.set_local(dqlite_error=None, cluster_id=cluster_id)
    return address


def for_worker(cluster_id: str) -> None:
    """A worker runs no dqlite; it only remembers which cluster it serves (for liveness)."""
    store.seed_path().unlink(missing_ok=True)
    store.set_local(cluster_id=cluster_id, dqlite_error=None)
