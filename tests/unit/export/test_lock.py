"""The export lock as a later step of the same run finds it."""

from __future__ import annotations

from typing import cast

import pytest
from c360.errors import ExportFailedError
from c360.export.lock import TargetLock, lock_key
from psycopg2.extensions import connection


def test_a_lock_covers_only_its_own_target():
    held = TargetLock("neo4j-dbms:a/neo4j", cast(connection, None))
    with pytest.raises(ExportFailedError, match="holds the lock of neo4j-dbms:a/neo4j"):
        held.confirm("neo4j-dbms:b/neo4j")


def test_the_key_is_stable_and_signed_64_bit():
    assert lock_key("neo4j-dbms:a/neo4j") == lock_key("neo4j-dbms:a/neo4j")
    assert lock_key("neo4j-dbms:a/neo4j") != lock_key("neo4j-dbms:b/neo4j")
    assert -(2**63) <= lock_key("x") < 2**63
