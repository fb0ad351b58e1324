"""The test session's own stack: real PostgreSQL and Neo4j, never a developer's.

Tests run against `.c360/test` on their own ports (PostgreSQL 55433, Bolt 57688,
HTTP 57475) so a demo stack on the default ports keeps running undisturbed.
Override with C360_TEST_HOME, C360_TEST_PG_PORT, C360_TEST_BOLT_PORT and
C360_TEST_HTTP_PORT. With C360_STACK=external the tests use the servers named
by PG* and NEO4J_* instead and start nothing.

The stack is left running after the session, so the next run starts warm; set
C360_TEST_STOP_STACK=1 (CI) to stop it at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from c360 import stack as local_stack
from c360.config import Settings

PROJECT = Path(__file__).resolve().parents[1]

# Left over from `eval "$(c360-export stack env)"` for the demo stack, these
# would point the tests at it.
DEMO_STACK_VARIABLES = (
    "NEO4J_URI",
    "NEO4J_USER",
    "NEO4J_PASSWORD",
    "NEO4J_DATABASE",
    "PGHOST",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
)


def isolated_environment(base: Mapping[str, str]) -> dict[str, str]:
    """`base` with the test stack's home and ports (unless the stack is external)."""
    env = dict(base)
    env["C360_PROJECT_DIR"] = str(PROJECT)
    if env.get("C360_STACK", "local") == "external":
        return env
    for name in DEMO_STACK_VARIABLES:
        env.pop(name, None)
    env.update(
        C360_HOME=base.get("C360_TEST_HOME", str(PROJECT / ".c360" / "test")),
        C360_PG_PORT=base.get("C360_TEST_PG_PORT", "55433"),
        C360_NEO4J_BOLT_PORT=base.get("C360_TEST_BOLT_PORT", "57688"),
        C360_NEO4J_HTTP_PORT=base.get("C360_TEST_HTTP_PORT", "57475"),
    )
    return env


@pytest.fixture(scope="session")
def stack() -> Iterator[Settings]:
    """The test stack, up and answering; yields its Settings.

    The process environment is pointed at it for the whole session, so CLI
    invocations and subprocesses (dbt, psql) reach the test stack by default.
    """
    env = isolated_environment(os.environ)
    with pytest.MonkeyPatch.context() as patch:
        for name in DEMO_STACK_VARIABLES:
            if name not in env:
                patch.delenv(name, raising=False)
        for name, value in env.items():
            if os.environ.get(name) != value:
                patch.setenv(name, value)
        settings = Settings.from_env(env)
        local_stack.up(settings)
        yield settings
        if os.environ.get("C360_TEST_STOP_STACK") == "1":
            local_stack.down(settings)


@pytest.fixture
def stack_environ(stack: Settings) -> dict[str, str]:
    """A copy of the environment the test stack's CLI and subprocesses see."""
    return isolated_environment(os.environ)
