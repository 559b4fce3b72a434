"""pytest entry for tests/integration: the fixtures live in itfixtures.py
so that tests/fault can share them."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from itfixtures import *  # noqa: E402,F401,F403
