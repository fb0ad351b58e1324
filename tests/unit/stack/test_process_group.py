"""A tool's process group is gone when `end_process_group` returns."""

from __future__ import annotations

import os
import subprocess

import pytest
from c360.stack._system import end_process_group


def test_a_child_that_ignores_sigterm_is_gone_on_return():
    # the leader exits on SIGTERM; its child ignores it, as a JVM in its shutdown hooks may
    leader = subprocess.Popen(
        ["sh", "-c", "(trap '' TERM; sleep 60) & sleep 60"],
        start_new_session=True,
        text=True,
    )
    end_process_group(leader, grace=5)
    with pytest.raises(ProcessLookupError):
        os.killpg(leader.pid, 0)
