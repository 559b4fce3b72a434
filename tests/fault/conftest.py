"""pytest entry for tests/fault: reuses the integration harness
(tests/integration/cluster.py and itfixtures.py)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))

from itfixtures import *  # noqa: E402,F401,F403
