#!/usr/bin/python3
"""`microk8s` inside a lab host: /snap/bin/microk8s execs this file. See mk8s/cli.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mk8s import cli

if __name__ == "__main__":
    cli.main(sys.argv[1:])
