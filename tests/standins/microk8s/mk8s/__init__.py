"""The microk8s stand-in: snap, microk8s commands and the node daemon, stdlib only.

Everything here runs under a lab host's /usr/bin/python3 (Debian 12, 3.11, no third-party
packages). Behaviour was read from upstream source; each module names the files it imitates.
The entry points are the scripts one directory up: snap.py, microk8s.py and microk8sd.py.
"""
