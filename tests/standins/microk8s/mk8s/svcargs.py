"""Service argument files under $SNAP_DATA/args, the way microk8s keeps them.

One argument per line, `--key=value` or `--key value` (microk8s-resources/default-args/*).
`update` follows microk8s-cluster-agent pkg/snap/services.go UpdateServiceArguments: existing
keys are rewritten in place as `key=value`, deleted keys dropped, new keys appended.
The defaults below are the subset of the 1.32 default-args that the stand-in reads.
"""

from __future__ import annotations

from . import paths

DEFAULT_ARGS: dict[str, str] = {
    "kube-apiserver": (
        "--cert-dir=${SNAP_DATA}/certs\n"
        "--service-cluster-ip-range=10.152.183.0/24\n"
        "--authorization-mode=AlwaysAllow\n"
        "--secure-port=16443\n"
        '--etcd-servers="unix://${SNAP_DATA}/var/kubernetes/backend/kine.sock:12379"\n'
        "--allow-privileged=true\n"
        "--kubelet-preferred-address-types=InternalIP,Hostname,InternalDNS,ExternalDNS,ExternalIP\n"
    ),
    "kubelet": (
        "--kubeconfig=${SNAP_DATA}/credentials/kubelet.config\n"
        "--cert-dir=${SNAP_DATA}/certs\n"
        "--client-ca-file=${SNAP_DATA}/certs/ca.crt\n"
        "--anonymous-auth=false\n"
        "--root-dir=${SNAP_COMMON}/var/lib/kubelet\n"
        "--fail-swap-on=false\n"
        "--container-runtime-endpoint=${SNAP_COMMON}/run/containerd.sock\n"
        '--node-labels="microk8s.io/cluster=true,'
        'node.kubernetes.io/microk8s-controlplane=microk8s-controlplane"\n'
        "--authentication-token-webhook=true\n"
        "--read-only-port=0\n"
    ),
    "kube-proxy": (
        "--kubeconfig=${SNAP_DATA}/credentials/proxy.config\n"
        "--cluster-cidr=10.1.0.0/16\n"
        "--healthz-bind-address=127.0.0.1\n"
    ),
    "cluster-agent": (
        "--bind 0.0.0.0:25000\n"
        '--keyfile "${SNAP_DATA}/certs/server.key"\n'
        '--certfile "${SNAP_DATA}/certs/server.crt"\n'
        "--timeout 240\n"
    ),
    "k8s-dqlite": (
        "--storage-dir=${SNAP_DATA}/var/kubernetes/backend/\n"
        "--listen=unix://${SNAP_DATA}/var/kubernetes/backend/kine.sock:12379\n"
    ),
    "cni-env": (
        "# Choose CNI to deploy. Only 'calico' is supported at the moment\n"
        "CNI=calico\n"
        "\n"
        "# IPv4 configuration\n"
        "IPv4_SUPPORT=true\n"
        "IPv4_CLUSTER_CIDR=10.1.0.0/16\n"
        "IPv4_SERVICE_CIDR=10.152.183.0/24\n"
        "\n"
        "# IPv6 configuration\n"
        "IPv6_SUPPORT=false\n"
        "# IPv6_CLUSTER_CIDR=fd01::/64\n"
        "# IPv6_SERVICE_CIDR=fd98::/108\n"
        "\n"
        "# Calico-specific configuration settings\n"
        "# CALICO_VETH_MTU=1450\n"
    ),
    # What the microk8s kubectl wrapper puts before the user's arguments.
    "kubectl": "--kubeconfig=${SNAP_DATA}/credentials/client.config\n",
    # The datastore's failure domain, copied into k8s-dqlite's storage dir when kubelite starts.
    "ha-conf": "failure-domain=1\n",
}


def write_defaults() -> None:
    for service, text in DEFAULT_ARGS.items():
        path = paths.args_file(service)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def read(service: str) -> str:
    try:
        return paths.args_file(service).read_text()
    except FileNotFoundError:
        return ""


def parse_line(line: str) -> tuple[str, str]:
    """(key, value) of one argument line (cluster-agent util.ParseArgumentLine)."""
    line = line.strip()
    for sep in ("=", " "):
        if sep in line:
            key, value = line.split(sep, 1)
            return key, value.strip()
    return line, ""


def get(service: str, key: str) -> str | None:
    """The value of `key` in the service's args file, unquoted; None when absent."""
    for line in read(service).splitlines():
        if line.strip() and not line.strip().startswith("#"):
            k, v = parse_line(line)
            if k == key:
                return v.strip("\"'")
    return None


def update(
    service: str, set_args: dict[str, str], delete: list[str] | tuple[str, ...] = ()
) -> bool:
    """Rewrite the service's args like UpdateServiceArguments; True when anything changed."""
    if not set_args and not delete:
        return False
    changed = False
    seen: set[str] = set()
    out: list[str] = []
    for raw in read(service).split("\n"):
        line = raw.strip()
        if not line:
            continue
        key, old = parse_line(line)
        seen.add(key)
        if key in set_args:
            out.append(f"{key}={set_args[key]}")
            changed = changed or old != set_args[key]
        elif key in delete:
            changed = True
        else:
            out.append(line)
    for key, value in set_args.items():
        if key not in seen:
            out.append(f"{key}={value}")
            changed = True
    path = paths.args_file(service)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n")
    return changed
