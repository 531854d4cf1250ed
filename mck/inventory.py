"""The Ansible inventory: rendered from the nodes through `templates/inventory.j2`, written
atomically so a failed run never leaves a half-written file for `ansible-playbook` to read."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from mck.errors import MckError
from mck.nodes import CLOUDS, Node, name_key

# Every value lands unquoted in an INI line: anything outside this set (spaces, '=', '#',
# newlines) would split the line or smuggle in other variables.
_INI_VALUE = re.compile(r"[A-Za-z0-9._:-]+")


def render(
    nodes: list[Node],
    *,
    template: Path,
    cluster_name: str,
    mesh_ips: Mapping[str, str],
    encryption: str = "mesh",
    public_api: bool = False,
    ssh_public_key_file: str = "",
) -> str:
    """The inventory text: one group per cloud (empty ones left out), all of them in `k8s`.
    `mesh_ips` maps every node's name to its WireGuard mesh address (see mck/mesh.py).
    `ssh_public_key_file`: the user's current key, which the common role keeps authorized."""
    missing = [n.name for n in nodes if n.name not in mesh_ips]
    if missing:
        raise MckError(f"no mesh address for {', '.join(missing)}: a bug in mck")
    _check_values(nodes, cluster_name)
    _check_mesh_ips(mesh_ips)
    import jinja2  # here, not at the top: only a converge renders (`mck status` needs no jinja2)

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template.parent)),
        undefined=jinja2.StrictUndefined,  # a typo in the template fails instead of rendering ""
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # INI, not HTML
    )
    try:
        return env.get_template(template.name).render(
            groups=_groups(nodes),
            cluster_name=cluster_name,
            mesh_ips=mesh_ips,
            encryption=encryption,
            public_api=public_api,
            # A Python string literal, as INI inventory values are read: any path survives.
            ssh_public_key_file=json.dumps(ssh_public_key_file) if ssh_public_key_file else "",
        )
    except jinja2.TemplateNotFound:
        raise MckError(
            f"the inventory template {template} is missing: restore templates/inventory.j2"
        ) from None
    except jinja2.TemplateError as exc:
        raise MckError(f"cannot render {template}: {exc.message}: fix the template") from exc


def previous_setting(text: str, name: str) -> str | None:
    """A cluster-wide setting (`[all:vars]` line `name=value`) from the inventory written last
    time: what the running cluster was built with."""
    in_vars = False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            in_vars = line == "[all:vars]"
        elif in_vars and line.startswith(f"{name}="):
            return line.split("=", 1)[1]
    return None


def _groups(nodes: list[Node]) -> list[tuple[str, list[Node]]]:
    """(cloud, nodes) pairs: known clouds in their usual order, any other cloud after them."""
    clouds = sorted({n.cloud for n in nodes}, key=lambda c: (_rank(c), c))
    return [
        (cloud, sorted((n for n in nodes if n.cloud == cloud), key=lambda n: name_key(n.name)))
        for cloud in clouds
    ]


def _rank(cloud: str) -> int:
    return CLOUDS.index(cloud) if cloud in CLOUDS else len(CLOUDS)


def _check_values(nodes: list[Node], cluster_name: str) -> None:
    values = [("cluster name", cluster_name)]
    for n in nodes:
        values += [(f"{n.name!r} {field}", v) for field, v in _fields(n) if v is not None]
    for what, value in values:
        if not _INI_VALUE.fullmatch(value):
            raise MckError(
                f"{what} {value!r} cannot go into the inventory: use letters, digits, '.', '-'"
            )


def _check_mesh_ips(mesh_ips: Mapping[str, str]) -> None:
    for name, value in mesh_ips.items():
        if not _INI_VALUE.fullmatch(value):
            raise MckError(f"{name!r} mesh address {value!r} cannot go into the inventory")


def _fields(n: Node) -> list[tuple[str, str | None]]:
    return [
        ("name", n.name),
        ("cloud", n.cloud),
        ("public IP", n.public_ip),
        ("private IP", n.private_ip),
        ("ssh user", n.ssh_user),
    ]
