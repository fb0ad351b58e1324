"""`c360-export stack`: real servers come up, answer, report, and fail clearly."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from c360 import stack as local_stack
from c360.cli import app
from c360.config import Settings
from c360.errors import ExitCode, ServerUnavailableError
from c360.stack import neo4j, postgres
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError
from typer.testing import CliRunner


@pytest.fixture(autouse=True)
def _local_only(stack: Settings) -> None:
    # These tests are about the local stack itself; against external servers they
    # would prove nothing. Failing, not skipping, keeps a misconfigured run visible.
    assert stack.stack_mode == "local", "test_stack.py needs C360_STACK=local"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port some other process listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.fixture
def spare_home(stack: Settings) -> Iterator[Path]:
    """A directory for a second stack home.

    Not under pytest's tmp_path: that is private to root, and PostgreSQL runs
    as the `postgres` user, which must be able to reach its data directory.
    """
    parent = stack.home / "spare"
    parent.mkdir(exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=parent))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def other_home(
    spare: Path, stack: Settings, environ: dict[str, str], **ports: int
) -> dict[str, str]:
    """The environment of a second local stack in `spare`.

    Neo4j's jars are linked from the session stack's home: a second Maven copy
    would only test the download again and cost a minute.
    """
    home = spare / "home"
    shared = neo4j.Neo4jPaths.of(stack).neo4j_home
    link = neo4j.Neo4jPaths(home / "neo4j").neo4j_home
    link.parent.mkdir(parents=True)
    link.symlink_to(shared, target_is_directory=True)
    env = dict(environ)
    env.update(
        C360_HOME=str(home),
        C360_PG_PORT=str(ports.get("pg", free_port())),
        C360_NEO4J_BOLT_PORT=str(ports.get("bolt", free_port())),
        C360_NEO4J_HTTP_PORT=str(ports.get("http", free_port())),
    )
    return env


def test_postgres_answers_as_configured(stack: Settings):
    conn = psycopg2.connect(stack.postgres.dsn())
    try:
        with conn.cursor() as cur:
            cur.execute("select 1")
            assert cur.fetchone() == (1,)
            cur.execute("select current_setting('server_version_num')::int")
            assert cur.fetchone()[0] >= 150000
            cur.execute("show listen_addresses")
            assert cur.fetchone() == ("127.0.0.1",)
            cur.execute("select rolsuper from pg_roles where rolname = current_user")
            assert cur.fetchone() == (True,)
            cur.execute("select distinct auth_method from pg_hba_file_rules")
            assert {row[0] for row in cur.fetchall()} == {"scram-sha-256"}
    finally:
        conn.close()
    assert postgres.available_extensions(stack) == {"postgres_fdw", "pg_trgm"}
    secret = stack.home / "secrets" / "postgres"
    assert secret.stat().st_mode & 0o777 == 0o600


def test_neo4j_answers_as_configured(stack: Settings):
    config = stack.neo4j
    with GraphDatabase.driver(config.uri, auth=(config.user, config.password)) as driver:
        records, _, _ = driver.execute_query("RETURN 1 AS one", database_=config.database)
        assert records[0]["one"] == 1
        records, _, _ = driver.execute_query(
            "CALL dbms.components() YIELD versions, edition RETURN versions[0] AS v, edition",
            database_="system",
        )
    assert records[0]["v"].startswith("5.26.")
    assert records[0]["edition"] == "community"


def test_neo4j_refuses_a_wrong_password(stack: Settings):
    with (
        GraphDatabase.driver(stack.neo4j.uri, auth=("neo4j", "not-the-password")) as driver,
        pytest.raises(AuthError),
    ):
        driver.verify_connectivity()


def test_up_twice_is_harmless(stack: Settings):
    before = {s.name: s.pid for s in local_stack.status(stack)}
    result = CliRunner().invoke(app, ["stack", "up"])
    assert result.exit_code == 0, result.output
    after = {s.name: s.pid for s in local_stack.status(stack)}
    assert before == after
    assert None not in after.values()


def test_status_reports_both_running(stack: Settings):
    result = CliRunner().invoke(app, ["stack", "status"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    for server in local_stack.status(stack):
        line = lines[server.name]
        assert "running" in line
        assert str(server.port) in line
        assert f"pid {server.pid}" in line
        assert str(server.data_dir) in line


def test_env_exports_work_for_psql_and_neo4j(stack: Settings, tmp_path: Path):
    result = CliRunner().invoke(app, ["stack", "env"])
    assert result.exit_code == 0, result.output
    exports = tmp_path / "stack.env"
    exports.write_text(result.output)
    # A clean shell: only what `eval` sets may reach psql.
    shell_env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    done = subprocess.run(
        ["bash", "-c", f'eval "$(cat {exports})" && psql -XAtc "select 1"'],
        env=shell_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
    done = subprocess.run(
        ["bash", "-c", f'eval "$(cat {exports})" && env'],
        env=shell_env,
        capture_output=True,
        text=True,
        check=True,
    )
    exported = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    neo = stack.neo4j
    assert (exported["NEO4J_URI"], exported["NEO4J_USER"]) == (neo.uri, neo.user)
    with GraphDatabase.driver(
        exported["NEO4J_URI"], auth=(exported["NEO4J_USER"], exported["NEO4J_PASSWORD"])
    ) as driver:
        driver.verify_connectivity()


def test_taken_bolt_port_is_named_before_anything_starts(
    stack: Settings, spare_home: Path, taken_port: int, stack_environ: dict[str, str]
):
    env = other_home(spare_home, stack, stack_environ, bolt=taken_port)
    result = CliRunner().invoke(app, ["stack", "up"], env=env)
    assert result.exit_code == ExitCode.UNAVAILABLE, result.output
    assert str(taken_port) in result.output
    assert "C360_NEO4J_BOLT_PORT" in result.output
    settings = Settings.from_env(env)
    assert not any(server.running for server in local_stack.status(settings))


def test_taken_bolt_port_is_named_from_the_log(
    stack: Settings,
    spare_home: Path,
    taken_port: int,
    monkeypatch: pytest.MonkeyPatch,
    stack_environ: dict[str, str],
):
    # Another process may take the port between the check and the bind; the
    # server's own log must then explain the failure.
    monkeypatch.setattr(neo4j, "require_free_port", lambda *_args: None)
    settings = Settings.from_env(other_home(spare_home, stack, stack_environ, bolt=taken_port))
    with pytest.raises(ServerUnavailableError) as failure:
        neo4j.start(settings, timeout=120)
    assert re.search(rf"\bport {taken_port}\b", str(failure.value)), failure.value
    assert neo4j.pid(settings) is None


def test_down_stops_both_and_up_restarts(
    stack: Settings, spare_home: Path, stack_environ: dict[str, str]
):
    env = other_home(spare_home, stack, stack_environ)
    # Generated passwords may start with a dash; neo4j-admin must not read an option.
    env["NEO4J_PASSWORD"] = "-dash-first-" + os.urandom(6).hex()
    settings = Settings.from_env(env)
    runner = CliRunner()
    try:
        result = runner.invoke(app, ["stack", "up"], env=env)
        assert result.exit_code == 0, result.output
        assert all(server.running for server in local_stack.status(settings))
        result = runner.invoke(app, ["stack", "down"], env=env)
        assert result.exit_code == 0, result.output
        assert not any(server.running for server in local_stack.status(settings))
        assert "stopped" in runner.invoke(app, ["stack", "status"], env=env).output
        # Stopping a stopped stack is not an error.
        assert runner.invoke(app, ["stack", "down"], env=env).exit_code == 0
    finally:
        local_stack.down(settings)


def test_external_stack_starts_nothing(tmp_path: Path, stack_environ: dict[str, str]):
    env = stack_environ | {
        "C360_STACK": "external",
        "C360_HOME": str(tmp_path / "home"),
        "NEO4J_PASSWORD": "unused",
    }
    for command in ("up", "down", "status"):
        result = CliRunner().invoke(app, ["stack", command], env=env)
        assert result.exit_code == 0, result.output
        assert "starts and stops nothing" in result.output
    assert not (tmp_path / "home").exists()
