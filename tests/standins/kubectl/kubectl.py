#!/usr/bin/env python3
"""A host-side `kubectl` for the lab: the user's own kubectl, on the user's machine. Stdlib only.

Reads a kubeconfig the way kubectl does (`--kubeconfig FILE`, else every file in `$KUBECONFIG`
merged with the first definition of a name winning, else `~/.kube/config`), picks `--context`
or the current context, and talks HTTPS to the cluster's `server`: the server certificate is
verified against the cluster's CA *with* hostname/IP checking (so the API certificate's SANs
must cover the address in `server:`), and the user's client certificate (or bearer token) is
presented. Implements `get nodes|node|no [NAME…] [--no-headers] [-o json|name]`, printed like
kubectl (the table comes from the microk8s stand-in's kubectl printer). Anything else is
refused with exit 1.

Error lines follow kubectl's; the x509 one names the address but not the certificate's SANs
(the stdlib cannot list them without the handshake succeeding).
"""

from __future__ import annotations

import base64
import calendar
import http.client
import json
import os
import ssl
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "microk8s"))

from mk8s import miniyaml
from mk8s.cmd_kubectl import human_duration, table

DIAL_TIMEOUT = 10.0  # seconds; kubectl's dialer gives up after 30, the lab needs less


class Fail(Exception):
    pass


def main(argv: list[str]) -> int:
    try:
        return run(argv)
    except Fail as err:
        print(str(err), file=sys.stderr)
        return 1


def run(argv: list[str]) -> int:
    kubeconfig, context, output, headers, positional = None, None, "", True, []
    args = iter(argv)
    for arg in args:
        if arg == "--kubeconfig":
            kubeconfig = next(args, "")
        elif arg.startswith("--kubeconfig="):
            kubeconfig = arg.split("=", 1)[1]
        elif arg == "--context":
            context = next(args, "")
        elif arg.startswith("--context="):
            context = arg.split("=", 1)[1]
        elif arg in ("-o", "--output"):
            output = next(args, "")
        elif arg.startswith(("-o=", "--output=")):
            output = arg.split("=", 1)[1]
        elif arg == "--no-headers":
            headers = False
        elif arg.startswith("-"):
            raise Fail(f"error: the kubectl stand-in does not implement the flag {arg}")
        else:
            positional.append(arg)
    if positional[:1] != ["get"] or positional[1:2] not in (["nodes"], ["node"], ["no"]):
        raise Fail(f"error: the kubectl stand-in does not implement: kubectl {' '.join(argv)}")
    if output not in ("", "json", "name"):
        raise Fail(f"error: the kubectl stand-in does not implement -o {output}")
    cluster, user = select(load_config(kubeconfig), context)
    names = positional[2:]
    if not names:
        code, body = request(cluster, user, "/api/v1/nodes")
        check(code, body)
        return print_nodes(body["items"], output, headers)
    items, rc = [], 0
    for name in names:
        code, body = request(cluster, user, f"/api/v1/nodes/{name}")
        if code == 404:
            print(f"Error from server (NotFound): {body.get('message')}", file=sys.stderr)
            rc = 1
            continue
        check(code, body)
        items.append(body)
    if items:
        print_nodes(items, output, headers)
    return rc


# ---- kubeconfig -----------------------------------------------------------------------------


def load_config(explicit: str | None) -> dict[str, Any]:
    if explicit is not None:
        files = [Path(explicit)]
        if not files[0].exists():
            raise Fail(f"error: stat {explicit}: no such file or directory")
    elif os.environ.get("KUBECONFIG"):
        files = [Path(p) for p in os.environ["KUBECONFIG"].split(os.pathsep) if p]
    else:
        files = [Path.home() / ".kube" / "config"]
    merged: dict[str, Any] = {"clusters": {}, "users": {}, "contexts": {}, "current-context": ""}
    for path in files:
        try:
            text = path.read_text()
        except FileNotFoundError:
            continue
        try:
            doc = (miniyaml.load_all(text) or [None])[0] or {}
        except ValueError as err:
            raise Fail(f'error: error loading config file "{path}": {err}') from None
        if not isinstance(doc, dict):
            raise Fail(f'error: error loading config file "{path}": not a kubeconfig')
        for kind, field in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
            for entry in doc.get(kind) or []:
                merged[kind].setdefault(entry.get("name"), entry.get(field) or {})
        merged["current-context"] = merged["current-context"] or doc.get("current-context") or ""
    return merged


def select(config: dict[str, Any], context: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    name = context or config["current-context"]
    if context and context not in config["contexts"]:
        raise Fail(f'error: context "{context}" does not exist')
    ctx = config["contexts"].get(name)
    if not name or ctx is None:
        # kubectl falls back to its built-in default server
        raise Fail(
            "The connection to the server localhost:8080 was refused"
            " - did you specify the right host or port?"
        )
    cluster = config["clusters"].get(ctx.get("cluster"))
    if cluster is None or not cluster.get("server"):
        raise Fail(f'error: cluster "{ctx.get("cluster")}" of context "{name}" has no server')
    return cluster, config["users"].get(ctx.get("user")) or {}


def _data(entry: dict[str, Any], key: str) -> bytes | None:
    if entry.get(f"{key}-data"):
        return base64.b64decode(str(entry[f"{key}-data"]))
    if entry.get(key):
        return Path(str(entry[key])).read_bytes()
    return None


# ---- HTTPS ----------------------------------------------------------------------------------


def request(cluster: dict[str, Any], user: dict[str, Any], path: str) -> tuple[int, Any]:
    url = urlsplit(str(cluster["server"]))
    if url.scheme != "https" or not url.hostname:
        raise Fail(f"error: the kubectl stand-in speaks only https, not {cluster['server']}")
    host, port = url.hostname, url.port or 443
    context = ssl.create_default_context()  # CERT_REQUIRED, check_hostname: SANs must match
    ca = _data(cluster, "certificate-authority")
    if ca is not None:
        context.load_verify_locations(cadata=ca.decode())
    headers = {"Accept": "application/json"}
    with tempfile.TemporaryDirectory(prefix="kubectl-") as tmp:
        cert, key = _data(user, "client-certificate"), _data(user, "client-key")
        if cert and key:
            (Path(tmp) / "c.crt").write_bytes(cert)
            (Path(tmp) / "c.key").write_bytes(key)
            context.load_cert_chain(str(Path(tmp) / "c.crt"), str(Path(tmp) / "c.key"))
        if user.get("token"):
            headers["Authorization"] = f"Bearer {user['token']}"
        conn = http.client.HTTPSConnection(host, port, timeout=DIAL_TIMEOUT, context=context)
        try:
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        except ssl.SSLCertVerificationError as err:
            raise Fail(f"Unable to connect to the server: {_x509(err, host)}") from None
        except ConnectionRefusedError:
            raise Fail(
                f"The connection to the server {url.netloc} was refused"
                " - did you specify the right host or port?"
            ) from None
        except TimeoutError:
            timeout = f"Unable to connect to the server: dial tcp {url.netloc}: i/o timeout"
            raise Fail(timeout) from None
        except (ssl.SSLError, OSError) as err:
            raise Fail(f"Unable to connect to the server: {err}") from None
        finally:
            conn.close()
    try:
        return resp.status, json.loads(raw)
    except ValueError:
        return resp.status, {"message": raw.decode(errors="replace")}


def _x509(err: ssl.SSLCertVerificationError, host: str) -> str:
    if "mismatch" in str(err.verify_message) or "match" in str(err.verify_message):
        return f"tls: failed to verify certificate: x509: certificate is not valid for {host}"
    return "tls: failed to verify certificate: x509: certificate signed by unknown authority"


def check(code: int, body: Any) -> None:
    if code == 200:
        return
    if code == 401:
        raise Fail("error: You must be logged in to the server (Unauthorized)")
    reason = body.get("reason") if isinstance(body, dict) else None
    message = body.get("message") if isinstance(body, dict) else body
    raise Fail(f"Error from server ({reason or code}): {message}")


# ---- printing -------------------------------------------------------------------------------


def print_nodes(items: list[dict[str, Any]], output: str, headers: bool) -> int:
    if output == "json":
        objects = [{"apiVersion": "v1", "kind": "Node", **i} for i in items]
        doc = {"apiVersion": "v1", "items": objects, "kind": "List"}
        doc["metadata"] = {"resourceVersion": ""}
        print(json.dumps(doc, indent=4))
        return 0
    if output == "name":
        for i in items:
            print(f"node/{i['metadata']['name']}")
        return 0
    if not items:
        print("No resources found", file=sys.stderr)
        return 0
    rows = [["NAME", "STATUS", "ROLES", "AGE", "VERSION"]] if headers else []
    rows += [_row(i) for i in items]
    print(table(rows))
    return 0


def _row(node: dict[str, Any]) -> list[str]:
    meta, status = node["metadata"], node.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    state = "Ready" if ready and ready.get("status") == "True" else "NotReady"
    if (node.get("spec") or {}).get("unschedulable"):
        state += ",SchedulingDisabled"
    prefix = "node-role.kubernetes.io/"
    roles = sorted(k[len(prefix) :] for k in meta.get("labels") or {} if k.startswith(prefix))
    created = calendar.timegm(time.strptime(meta["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ"))
    return [
        meta["name"],
        state,
        ",".join(roles) or "<none>",
        human_duration(time.time() - created),
        status.get("nodeInfo", {}).get("kubeletVersion", ""),
    ]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
