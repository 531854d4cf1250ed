"""`microk8s refresh-certs --cert server.crt`: a new server certificate from csr.conf.template.

Checked against microk8s-resources/wrappers/microk8s-refresh-certs.wrapper and
scripts/wrappers/refresh_certs.py (1.32): on a worker (clustered.lock) a two-line sentence and
exit 0; not root: exit 50; the certs and credentials are backed up under
$SNAP_DATA/certs-backup/, then `refresh_csr_conf; gen_server_cert` (csr.conf re-rendered from
the template with the node's current addresses) and kubelite and the cluster agent restart.
The stand-in runs all services in one daemon, so restarting them is one daemon restart.
Only `--cert server.crt` is implemented; the rest (CA replacement, --check, --undo) is
refused loudly.
"""

from __future__ import annotations

import os
import shutil
import sys

from . import certs, netinfo, paths, service

USAGE = "Usage: refresh-certs [OPTIONS] [CA_DIR]\nTry 'refresh-certs -h' for help.\n"
CERTS = ("ca.crt", "server.crt", "front-proxy-client.crt")


def _usage_error(message: str) -> None:
    print(f"{USAGE}\nError: {message}", file=sys.stderr)
    sys.exit(2)


def main(argv: list[str]) -> None:
    if paths.has_lock("clustered.lock"):
        print(
            "This MicroK8s deployment is acting as a node in a cluster. Please use the microk8s"
            " refresh-certs command on the master"
        )
        print("and then return to this node to perform a microk8s leave and re-join.")
        sys.exit(0)
    cert, args = None, list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("-e", "--cert") or arg.startswith("--cert="):
            value = arg.split("=", 1)[1] if "=" in arg else (args.pop(0) if args else None)
            if value is None:
                _usage_error(f"Option '{arg}' requires an argument.")
            elif value not in CERTS:
                choices = ", ".join(f"'{c}'" for c in CERTS)
                _usage_error(
                    f"Invalid value for '-e' / '--cert': '{value}' is not one of {choices}."
                )
            cert = value
        else:
            print(
                f"microk8s refresh-certs {arg}: not implemented by the microk8s stand-in",
                file=sys.stderr,
            )
            sys.exit(1)
    if os.geteuid() != 0:
        print(
            "Elevated permissions is needed for this operation. Please run this command with sudo."
        )
        sys.exit(50)
    if cert is None:
        print("Please use the '--cert' flag to select the certificate you need refreshed.")
        sys.exit(3)
    if cert != "server.crt":
        print(f"refresh-certs --cert {cert}: not implemented by the microk8s stand-in")
        sys.exit(1)
    backup = paths.snap_data().resolve() / "certs-backup"
    print(f"Taking a backup of the current certificates under {backup}/")
    backup.mkdir(parents=True, exist_ok=True)
    for sub in ("certs", "credentials"):
        shutil.copytree(paths.snap_data() / sub, backup / sub, dirs_exist_ok=True)
    print("Creating new certificates")
    paths.certs("server.crt").unlink(missing_ok=True)
    certs.make_server_cert(netinfo.all_ips())
    for name in ("kubelite", "cluster-agent"):
        print(f"Restarting service {name}.", flush=True)
    if service.pid() is not None:
        service.stop()
        service.start()
