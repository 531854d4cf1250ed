"""Nodes: what mck knows about each VM, read from OpenTofu state JSON (`show -json`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Node:
    name: str  # the VM's name (hostname, inventory name, k8s node name)
    cloud: str  # digitalocean | linode | aws | hcloud
    public_ip: str  # address mck and the other nodes reach it on
    private_ip: str | None  # provider-private address, if any
    ssh_user: str  # root on DigitalOcean/Linode/Hetzner, admin on AWS Debian AMIs
    nat: bool  # True when public_ip is not bound on the VM (AWS 1:1 NAT)
    address: str  # resource address in state, e.g. module.x.aws_instance.node["a"]
