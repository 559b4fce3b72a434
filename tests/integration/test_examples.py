"""The seed scenarios as the runnable scripts in contrib/examples run them
(service registry with TTL refresh, publish/subscribe, a work queue, a
lock, compare-and-swap, leader election): each script checks every answer
itself and exits non-zero on a surprise."""

import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.normpath(os.path.join(HERE, "..", "..", "contrib", "examples"))
SCRIPTS = ["service-registry.sh", "pubsub.sh", "queue.sh", "lock.sh", "cas.sh",
           "election.sh"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_script(server, script):
    env = dict(os.environ, ETCD_ENDPOINT=server.client_url)
    p = subprocess.run(["sh", os.path.join(EXAMPLES, script)], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, timeout=60)
    assert p.returncode == 0, p.stdout.decode(errors="replace")[-2000:]
