"""Settings from the environment: what a user can set and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from c360.config import Settings
from c360.errors import ConfigError


def test_neo4j_memory_sizes_reach_the_settings(tmp_path: Path) -> None:
    settings = Settings.from_env({"C360_HOME": str(tmp_path), "C360_NEO4J_PAGECACHE": "6g"})
    assert (settings.neo4j_heap, settings.neo4j_pagecache) == ("2g", "6g")


@pytest.mark.parametrize("value", ["6 GB", "0g", "-1g", "lots"])
def test_a_malformed_memory_size_is_refused_by_name(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="C360_NEO4J_HEAP must be a size"):
        Settings.from_env({"C360_HOME": str(tmp_path), "C360_NEO4J_HEAP": value})
