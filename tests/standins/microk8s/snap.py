#!/usr/bin/python3
"""`snap` in a lab host: the lab's /usr/bin/snap wrapper execs this. See mk8s/snapcli.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mk8s import snapcli

if __name__ == "__main__":
    snapcli.main(sys.argv[1:])
