"""mck: converge a multi-cloud microk8s cluster from a few lines of OpenTofu."""

__version__ = "0.1.0"
