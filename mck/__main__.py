"""Entry point for `python -m mck` and for `python3 mck` from the repo root.

`python3 mck` runs this file as a script with `mck/` itself on sys.path, so the
package's parent (the repo root) is put first to make `import mck` resolve.
"""

import os
import sys

if not __package__:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mck.cli import main

main()
