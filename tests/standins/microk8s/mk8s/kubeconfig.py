"""The admin kubeconfig, credentials/client.config, as utils.sh create_kubeconfig_x509 writes it.

Template: microk8s-resources/client-x509.config.template with certificate-authority-data,
client-certificate-data and client-key-data (base64 of the files, no line breaks), server
https://127.0.0.1:16443 (`microk8s config` swaps in the default interface's address).
"""

from __future__ import annotations

import base64

from . import certs, paths, svcargs

TEMPLATE = """\
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: {ca}
    server: https://127.0.0.1:{port}
  name: microk8s-cluster
contexts:
- context:
    cluster: microk8s-cluster
    user: admin
  name: microk8s
current-context: microk8s
kind: Config
preferences: {{}}
users:
- name: admin
  user:
    client-certificate-data: {cert}
    client-key-data: {key}
"""


def _b64(name: str) -> str:
    return base64.b64encode(paths.certs(name).read_bytes()).decode()


def write_client_config() -> None:
    """(Re)issue the admin client certificate from the current CA and write the kubeconfig."""
    certs.make_client_cert()
    path = paths.credentials("client.config")
    path.parent.mkdir(parents=True, exist_ok=True)
    port = svcargs.get("kube-apiserver", "--secure-port") or "16443"
    path.write_text(
        TEMPLATE.format(
            ca=_b64("ca.crt"), port=port, cert=_b64("client.crt"), key=_b64("client.key")
        )
    )
    # root:root 0660 and no microk8s group: like a fresh install, only root (sudo) may use it.
    path.chmod(0o660)
