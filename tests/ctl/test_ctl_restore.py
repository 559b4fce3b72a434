"""cetcdctl snapshot restore: a snapshot saved from a running cetcd
(cetcdctl snapshot save) restored into a new data directory, then a member
started there with the restore's flags serves the keys and revisions; the
checks etcdctl makes (existing data dir, name missing from the initial
cluster, a corrupted file). cetcd only: the file is cetcd's format."""

import json
import os

import pytest

from ctlutil import cluster
from test_ctl_v3 import run

pytestmark = pytest.mark.skipif(cluster.is_etcd(), reason="cetcd's snapshot format")


def test_save_restore_start(server_factory, tmp_path):
    s = server_factory()
    for i in range(5):
        assert run(s.client_url, ["put", "rk%d" % i, "v%d" % i]).returncode == 0
    rev = run(s.client_url, ["get", "rk4", "-w", "json"]).stdout
    path = str(tmp_path / "snap.db")
    assert run(s.client_url, ["snapshot", "save", path]).returncode == 0
    new = server_factory(start=False, name="restored")
    flags = ["--name", new.name, "--initial-cluster", "%s=%s" % (new.name, new.peer_url),
             "--initial-advertise-peer-urls", new.peer_url, "--data-dir", new.data_dir]
    p = run(None, ["snapshot", "restore", path] + flags)
    assert p.returncode == 0, p.stderr
    assert os.path.isdir(os.path.join(new.data_dir, "member", "db"))
    new.start()
    g = run(new.client_url, ["get", "rk", "--prefix", "--print-value-only"])
    assert g.stdout == "".join("v%d\n" % i for i in range(5))
    got = json.loads(run(new.client_url, ["get", "rk4", "-w", "json"]).stdout)
    want = json.loads(rev)
    assert got["kvs"][0]["mod_revision"] == want["kvs"][0]["mod_revision"]
    assert got["header"]["revision"] >= want["header"]["revision"]
    # a second restore into the same directory is refused, as etcdctl does
    p = run(None, ["snapshot", "restore", path] + flags)
    assert p.returncode == 1 and 'data-dir "%s" exists' % new.data_dir in p.stderr


def test_restore_checks(server_factory, tmp_path):
    s = server_factory()
    path = str(tmp_path / "snap.db")
    assert run(s.client_url, ["snapshot", "save", path]).returncode == 0
    p = run(None, ["snapshot", "restore", path, "--name", "x",
                   "--initial-cluster", "y=http://127.0.0.1:1", "--data-dir", str(tmp_path / "d")])
    assert p.returncode != 0 and 'couldn\'t find local name "x"' in p.stderr
    with open(path, "r+b") as f:
        f.seek(40)
        b = f.read(1)
        f.seek(40)
        f.write(bytes([b[0] ^ 0xff]))
    p = run(None, ["snapshot", "restore", path, "--data-dir", str(tmp_path / "e")])
    assert p.returncode == 1 and p.stderr.strip()
    assert not os.path.exists(str(tmp_path / "e" / "member" / "db"))
