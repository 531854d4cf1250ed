"""What the roles' docs and comments say about facts outside mck stays true (issue 13 item 12):
microk8s' own default launch configuration enables only dns
(canonical/microk8s microk8s-resources/microk8s.default.yaml), and /etc/hosts lists the address
the cluster lives on, the mesh address with the mesh (templates/hosts.j2)."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
# microk8s-resources/microk8s.default.yaml, as canonical/microk8s ships it (read 2026-06-30).
MICROK8S_DEFAULT_ADDONS = ["dns"]


def test_the_addons_comment_names_microk8s_default_as_it_is() -> None:
    text = (REPO / "roles/microk8s/defaults/main.yml").read_text()
    comment = text.split("microk8s_addons:")[0].rsplit("\n\n", 1)[-1]
    assert "enables only dns" in comment, comment
    assert "default set" not in comment and "default's addons" not in comment, comment
    listed = [a["name"] for a in yaml.safe_load(text)["microk8s_addons"]]
    assert set(MICROK8S_DEFAULT_ADDONS) <= set(listed)  # never lose what the default enabled


def test_the_common_readme_says_hosts_lists_mesh_addresses() -> None:
    template = (REPO / "templates/hosts.j2").read_text()
    readme = (REPO / "roles/common/README.md").read_text()
    assert "mck_mesh_ip" in template and "mck_public_ip" in template
    assert "`mck_mesh_ip  name` with the WireGuard mesh" in readme
    assert "(`mck_public_ip  name`, sorted by name" not in readme
