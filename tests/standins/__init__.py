"""Stand-ins for the real tools mck drives (cloud providers, microk8s), used by the lab tests."""
