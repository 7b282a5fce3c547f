"""``python -m landaulab.watch``: one live analysis (request on stdin, one JSON line out).

The watch server runs this in a separate process (see :mod:`landaulab.watch.verdict`).
"""

import sys

from landaulab.watch.verdict import analysis_main

sys.exit(analysis_main())
