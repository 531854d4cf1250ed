"""Shared fixtures. The lab fixture (network namespaces, sshd hosts, fake cloud API) is
session-scoped: one lab serves every e2e scenario, each scenario with its own project copy."""

from tests.lab.fixtures import lab  # noqa: F401  (re-exported fixture)
