#!/usr/bin/python3
"""The node daemon of a lab host, started by `snap install microk8s`. See mk8s/daemon.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mk8s import daemon

if __name__ == "__main__":
    daemon.main()
