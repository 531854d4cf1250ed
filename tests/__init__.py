"""mck's test suite: unit tests, the lab (network-namespace VMs and a fake cloud) and e2e tests."""
