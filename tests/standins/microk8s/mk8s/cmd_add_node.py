"""`microk8s add-node`: register a join token and print how to use it.

Checked against microk8s-resources/wrappers/microk8s-add-node.wrapper (refused on a worker,
exit 1; stopped node: utils.sh exit_if_stopped) and scripts/wrappers/add_token.py (token of 32+
characters, default TTL -1 = single use, formats pretty|short|token|token-check|json|yaml,
json `{"token": "<token>/<check>", "urls": ["<ip>:<port>/<token>/<check>", ...]}` indent 2,
where <check> is the server certificate fingerprint and the IPs are `hostname -I`'s).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys

from . import certs, common, identity, netinfo, tokens


def _network() -> tuple[str, list[str], int]:
    return netinfo.default_ip(), netinfo.all_ips() or ["none"], identity.agent_port()


def main(argv: list[str]) -> None:
    if common.is_worker():
        common.die(
            "This MicroK8s deployment is acting as a node in a cluster. Please use the microk8s"
            " add-node on the master."
        )
    common.exit_if_no_permissions()
    common.exit_if_stopped()
    parser = argparse.ArgumentParser(
        description="Produce a connection string for a node to join the cluster.",
        prog="microk8s add-node",
    )
    parser.add_argument("--token-ttl", "-l", type=int, default="-1")
    parser.add_argument("--token", "-t")
    parser.add_argument(
        "--format",
        default="pretty",
        choices={"pretty", "short", "token", "token-check", "json", "yaml"},
    )
    args = parser.parse_args(argv)
    token = args.token if args.token is not None else secrets.token_hex(16)
    if len(token) < tokens.MIN_LENGTH:
        print("Invalid token size.  It must be 32 characters long.")
        sys.exit(1)
    tokens.add(token, args.token_ttl)
    check = certs.fingerprint()
    default_ip, all_ips, port = _network()
    if args.format == "pretty":
        print("From the node you wish to join to this cluster, run the following:")
        print(f"microk8s join {default_ip}:{port}/{token}/{check}\n")
        print(
            "Use the '--worker' flag to join a node as a worker not running the control plane, eg:"
        )
        print(f"microk8s join {default_ip}:{port}/{token}/{check} --worker\n")
        print(
            "If the node you are adding is not reachable through the default interface you can use"
            " one of the following:"
        )
        for ip in all_ips:
            print(f"microk8s join {ip}:{port}/{token}/{check}")
    elif args.format == "short":
        print(f"microk8s join {default_ip}:{port}/{token}/{check}")
        for ip in all_ips:
            if ip != default_ip:
                print(f"microk8s join {ip}:{port}/{token}/{check}")
    elif args.format == "token-check":
        print(f"{token}/{check}")
    elif args.format in ("json", "yaml"):
        info = {
            "token": f"{token}/{check}",
            "urls": [f"{ip}:{port}/{token}/{check}" for ip in all_ips],
        }
        if args.format == "json":
            print(json.dumps(info, indent=2))
        else:
            # PyYAML's dump(indent=2): keys sorted, list items at the key's indentation.
            print(f"token: {info['token']}\nurls:\n" + "".join(f"- {u}\n" for u in info["urls"]))
    else:
        print(token)
