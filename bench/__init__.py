"""The converge benchmark (issue 5): `python bench/converge.py --nodes 3,6,12`. Not a test."""
