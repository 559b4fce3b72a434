"""pytest entry for tests/ctl: the integration harness's fixtures
(server, server_factory, kp) shared from tests/integration."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))

from itfixtures import *  # noqa: E402,F401,F403
