"""The lab: stand-in VMs (network namespaces running sshd on a private overlay of the root) and
the fake cloud API (`labd`) that the stand-in terraform providers talk to."""
