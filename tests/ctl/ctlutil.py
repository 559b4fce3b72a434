"""Shared by the cetcdctl tests: which client binary runs (cetcdctl, or
Debian's etcdctl when recording expected output with CTL_RECORD=1) and the
common settings."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import cluster  # noqa: E402

RECORD = os.environ.get("CTL_RECORD") == "1"
CTL_TIMEOUT = 20


def ctl_binary():
    if RECORD:
        return cluster.ETCDCTL_BIN
    b = os.environ.get("CETCDCTL_BIN")
    if b:
        return b
    guess = os.path.normpath(os.path.join(HERE, "..", "..", "cetcdctl"))
    if os.access(guess, os.X_OK):
        return guess
    pytest.fail("cetcdctl not found: set CETCDCTL_BIN")
