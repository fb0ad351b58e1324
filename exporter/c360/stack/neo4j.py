"""The local Neo4j Community 5.26 server under `<home>/neo4j/`.

Neo4j's distribution archive is not published to the Maven registry, but its
jars are: Maven resolves the community server, the admin tool and the import
tool into `<home>/neo4j/<version>/lib`, and Neo4j's own launchers
(`Neo4jCommand` is what `bin/neo4j` runs, `Neo4jAdminCommand` what
`bin/neo4j-admin` runs) start the real server and `neo4j-admin` from there.

Layout (NEO4J_HOME is the versioned directory, so an upgrade is a new download
while data, configuration and logs stay put):

    <home>/neo4j/5.26.x/pom.xml, lib/     the resolved jars (cached)
    <home>/neo4j/conf/neo4j.conf           rewritten on every start
    <home>/neo4j/data/ logs/ run/ import/
    <home>/neo4j/staged/                   a bulk import's new store, until swapped in
    <home>/neo4j/previous/                 the store it replaced, until the server is up
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable

from c360.config import Settings
from c360.errors import ServerUnavailableError
from c360.stack._system import (
    Report,
    output_of,
    pid_alive,
    quiet,
    raise_open_files_limit,
    read_pid,
    require_free_port,
    run,
    tail,
    wait_for,
)
from c360.stack.java import ensure_java_home, ensure_maven

# The newest 5.26 LTS patch on the registry when this was written; 5.26 is the
# last release line that runs on Java 17.
NEO4J_VERSION = "5.26.30"
# The server, both launchers and the import tool; their transitive
# dependencies make up the rest of what the distribution's lib/ holds.
ARTIFACTS = (
    ("org.neo4j", "neo4j"),
    ("org.neo4j.app", "neo4j-server"),
    ("org.neo4j", "neo4j-command-line"),
    ("org.neo4j", "neo4j-import-tool"),
)
LAUNCHER = "org.neo4j.server.startup.Neo4jCommand"
ADMIN_LAUNCHER = "org.neo4j.server.startup.Neo4jAdminCommand"
JVM_OPTIONS = "\n".join(
    f"server.jvm.additional={option}"
    for option in (
        "-XX:+UseG1GC",
        "-XX:-OmitStackTraceInFastThrow",
        "-XX:+UnlockExperimentalVMOptions",
        "-XX:+TrustFinalNonStaticFields",
        "-XX:+DisableExplicitGC",
        "-Djdk.nio.maxCachedBufferSize=1024",
        "-Dio.netty.tryReflectionSetAccessible=true",
        "-Djdk.tls.ephemeralDHKeySize=2048",
        "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
        "-XX:FlightRecorderOptions=stackdepth=256",
        "-XX:+UnlockDiagnosticVMOptions",
        "-XX:+DebugNonSafepoints",
        # Without these the page cache falls back to slower buffer access.
        "--add-opens=java.base/java.nio=ALL-UNNAMED",
        "--add-opens=java.base/java.io=ALL-UNNAMED",
        "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
        "--enable-native-access=ALL-UNNAMED",
        "-Dlog4j2.disable.jmx=true",
    )
)
DOWNLOAD_TIMEOUT = 1800.0
START_TIMEOUT = 180.0
STOP_TIMEOUT = 120.0


@dataclass(frozen=True)
class Neo4jPaths:
    root: Path

    @classmethod
    def of(cls, settings: Settings) -> Neo4jPaths:
        return cls(settings.home / "neo4j")

    @property
    def neo4j_home(self) -> Path:
        return self.root / NEO4J_VERSION

    @property
    def lib(self) -> Path:
        return self.neo4j_home / "lib"

    @property
    def conf_dir(self) -> Path:
        return self.root / "conf"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def import_dir(self) -> Path:
        return self.root / "import"

    @property
    def staged(self) -> Path:
        """Where a bulk import writes: a data directory of its own, with its own conf."""
        return self.root / "staged"

    @property
    def previous(self) -> Path:
        return self.root / "previous"

    @property
    def pid_file(self) -> Path:
        return self.run / "neo4j.pid"

    @property
    def log_file(self) -> Path:
        return self.logs / "neo4j.log"

    @property
    def launcher_log(self) -> Path:
        """What the launcher itself prints (Java checks, early failures)."""
        return self.logs / "launcher.log"


@dataclass(frozen=True)
class Neo4jRuntime:
    """Everything needed to run Neo4j's launchers: paths and the chosen Java."""

    paths: Neo4jPaths
    java_home: Path

    def env(
        self, extra: Mapping[str, str] | None = None, conf_dir: Path | None = None
    ) -> dict[str, str]:
        env = {
            **os.environ,
            "JAVA_HOME": str(self.java_home),
            "NEO4J_HOME": str(self.paths.neo4j_home),
            "NEO4J_CONF": str(conf_dir or self.paths.conf_dir),
        }
        # A stray JAVA_OPTS or NEO4J_* setting from the user's shell would silently
        # override the configuration written below.
        env.pop("JAVA_OPTS", None)
        return {**env, **(extra or {})}

    def launcher(self, main_class: str, *args: str) -> list[str]:
        return [
            str(self.java_home / "bin" / "java"),
            "-cp",
            f"{self.paths.lib}/*",
            main_class,
            *args,
        ]


def prepare(settings: Settings, report: Report = quiet) -> Neo4jRuntime:
    """Java chosen, jars downloaded (once), configuration written."""
    paths = Neo4jPaths.of(settings)
    java_home = ensure_java_home(os.environ, report)
    runtime = Neo4jRuntime(paths, java_home)
    download(runtime, report)
    write_config(settings, paths)
    return runtime


def download(runtime: Neo4jRuntime, report: Report = quiet) -> None:
    """Resolve Neo4j's jars into `lib/` with Maven; a no-op once done."""
    paths = runtime.paths
    done = paths.neo4j_home / ".complete"
    if done.exists():
        return
    mvn = ensure_maven(report)
    report(f"downloading Neo4j {NEO4J_VERSION} with Maven into {paths.lib} (first run only)")
    paths.neo4j_home.mkdir(parents=True, exist_ok=True)
    pom = paths.neo4j_home / "pom.xml"
    pom.write_text(_pom())
    staging = paths.neo4j_home / "lib.partial"
    shutil.rmtree(staging, ignore_errors=True)
    result = run(
        [
            mvn,
            "-B",
            "-q",
            "-f",
            pom,
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging}",
        ],
        env=runtime.env(),
        timeout=DOWNLOAD_TIMEOUT,
    )
    if result.returncode != 0 or not any(staging.glob("neo4j-server-*.jar")):
        raise ServerUnavailableError(
            f"could not fetch Neo4j {NEO4J_VERSION} with Maven (pom: {pom}); check that "
            f"Maven can reach its registry (proxy settings in ~/.m2/settings.xml):\n"
            f"{output_of(result)}"
        )
    # Swap in whole, so an interrupted download is never mistaken for a complete one.
    shutil.rmtree(paths.lib, ignore_errors=True)
    staging.rename(paths.lib)
    done.write_text(NEO4J_VERSION + "\n")


def _pom() -> str:
    dependencies = "\n".join(
        f"    <dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
        f"<version>{NEO4J_VERSION}</version></dependency>"
        for group, artifact in ARTIFACTS
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by c360-export: lists the Neo4j jars to copy into lib/. -->
<project>
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.c360</groupId>
  <artifactId>neo4j-runtime</artifactId>
  <version>{NEO4J_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
{dependencies}
  </dependencies>
</project>
"""


def write_config(settings: Settings, paths: Neo4jPaths) -> None:
    """neo4j.conf from the settings; rewritten each time so port changes apply."""
    # neo4j-admin reads plugins/ when an import fails; without it, the missing
    # directory is all it reports and the import's own error is lost.
    for directory in (
        paths.conf_dir,
        paths.data,
        paths.logs,
        paths.run,
        paths.import_dir,
        paths.neo4j_home / "plugins",
    ):
        directory.mkdir(parents=True, exist_ok=True)
    bolt = settings.bolt_port
    http = settings.http_port
    (paths.conf_dir / "neo4j.conf").write_text(
        f"""# Written by c360-export stack: edits are overwritten on the next start.
server.directories.data={paths.data}
server.directories.logs={paths.logs}
server.directories.run={paths.run}
server.directories.import={paths.import_dir}

# Local only.
server.default_listen_address=127.0.0.1
server.default_advertised_address=127.0.0.1
server.bolt.listen_address=127.0.0.1:{bolt}
server.bolt.advertised_address=127.0.0.1:{bolt}
server.http.enabled=true
server.http.listen_address=127.0.0.1:{http}
server.http.advertised_address=127.0.0.1:{http}
server.https.enabled=false
dbms.security.auth_enabled=true
dbms.usage_report.enabled=false

# C360_NEO4J_HEAP and C360_NEO4J_PAGECACHE
server.memory.heap.initial_size={settings.neo4j_heap}
server.memory.heap.max_size={settings.neo4j_heap}
server.memory.pagecache.size={settings.neo4j_pagecache}
# A dev graph is rebuilt, not restored: keep little transaction log.
db.tx_log.rotation.retention_policy=1G size
# Bolt otherwise idles 2 x 5 s on shutdown, and the bulk import stops the server.
internal.dbms.bolt.netty_server_shutdown_quiet_period=0

# The JVM options of the distribution's own neo4j.conf, minus AlwaysPreTouch
# (it would touch all of the heap before a dev server may answer).
{JVM_OPTIONS}"""
    )


def pid(settings: Settings) -> int | None:
    """The running server's pid, or None."""
    return read_pid(Neo4jPaths.of(settings).pid_file)


def set_initial_password(runtime: Neo4jRuntime, password: str) -> None:
    """Set the `neo4j` user's password; only has an effect before the first start."""
    result = run(
        # `--`: a generated password may start with "-" and be taken for an option.
        runtime.launcher(ADMIN_LAUNCHER, "dbms", "set-initial-password", "--", password),
        env=runtime.env(),
        timeout=300,
    )
    if result.returncode != 0:
        raise ServerUnavailableError(
            f"neo4j-admin dbms set-initial-password failed:\n{output_of(result)}"
        )


def start(settings: Settings, report: Report = quiet, timeout: float = START_TIMEOUT) -> int:
    """Start the server in the background (no-op when running) and wait for Bolt.

    Returns the server's pid.
    """
    paths = Neo4jPaths.of(settings)
    running = read_pid(paths.pid_file)
    if running is not None:
        wait_for_bolt(settings, timeout=timeout, server_pid=running)
        return running
    # Checked before the download so a clash is reported at once, and again from
    # the log below in case another process takes the port in between.
    require_free_port(settings.bolt_port, "Neo4j Bolt", "C360_NEO4J_BOLT_PORT")
    require_free_port(settings.http_port, "Neo4j HTTP", "C360_NEO4J_HTTP_PORT")
    runtime = prepare(settings, report)
    if not (paths.data / "databases" / "system").exists():
        set_initial_password(runtime, settings.neo4j.password)
    report(f"starting Neo4j {NEO4J_VERSION} on bolt://127.0.0.1:{settings.bolt_port}")
    log_offset = paths.log_file.stat().st_size if paths.log_file.exists() else 0
    with paths.launcher_log.open("w") as launcher_log:
        # The launcher forks the server JVM (which outlives it), writes the pid
        # file and returns once the server is up or has failed.
        try:
            result = subprocess.run(
                runtime.launcher(LAUNCHER, "start"),
                env=runtime.env(),
                stdin=subprocess.DEVNULL,
                stdout=launcher_log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
                preexec_fn=raise_open_files_limit,
            )
        except subprocess.TimeoutExpired:
            raise ServerUnavailableError(
                f"Neo4j's launcher did not return within {timeout:.0f}s; "
                f"see {paths.launcher_log} and {paths.log_file}"
            ) from None
    server_pid = read_pid(paths.pid_file)
    if result.returncode != 0 or server_pid is None:
        raise _start_failure(settings, paths, log_offset)
    wait_for_bolt(settings, timeout=timeout, server_pid=server_pid, log_offset=log_offset)
    return server_pid


def wait_for_bolt(
    settings: Settings,
    *,
    timeout: float = START_TIMEOUT,
    server_pid: int | None = None,
    log_offset: int = 0,
) -> None:
    """Wait until `RETURN 1` answers over Bolt; fail early when the server dies."""
    paths = Neo4jPaths.of(settings)
    config = settings.neo4j
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    with GraphDatabase.driver(
        config.uri, auth=(config.user, config.password), connection_timeout=5
    ) as driver:
        while time.monotonic() < deadline:
            try:
                # An auto-commit query: execute_query would itself retry for up
                # to 30 s with backoff and so answer late.
                with driver.session(database=config.database) as session:
                    session.run("RETURN 1").consume()
                return
            except AuthError as error:
                raise ServerUnavailableError(
                    f"Neo4j at {config.uri} refused the password for user {config.user!r} "
                    f"({error.message}). The password is set only before the first start: "
                    f"use the one the data was created with, or delete {paths.data} "
                    "to start over"
                ) from None
            except (ServiceUnavailable, Neo4jError, OSError) as error:
                last_error = error
            if server_pid is not None and not pid_alive(server_pid):
                raise _start_failure(settings, paths, log_offset)
            time.sleep(0.25)
    raise ServerUnavailableError(
        f"Neo4j did not answer on {config.uri} within {timeout:.0f}s ({last_error}); "
        f"see {paths.log_file}:\n{tail(paths.log_file)}"
    )


def _start_failure(
    settings: Settings, paths: Neo4jPaths, log_offset: int
) -> ServerUnavailableError:
    """The most useful explanation of a failed start the logs give."""
    text = ""
    if paths.log_file.exists():
        with paths.log_file.open(errors="replace") as handle:
            handle.seek(log_offset)
            text = handle.read()
    launcher = tail(paths.launcher_log)
    bind = re.search(r"bind to the socket /?\[?([0-9a-fA-F.:]+?)\]?:(\d+)", text + launcher)
    if bind is not None:
        port = int(bind.group(2))
        env_var = "C360_NEO4J_BOLT_PORT" if port == settings.bolt_port else "C360_NEO4J_HTTP_PORT"
        return ServerUnavailableError(
            f"Neo4j could not bind port {port} on {bind.group(1)}: the port is already in use; "
            f"stop the process holding it or set {env_var} to a free port "
            f"(see {paths.log_file})"
        )
    errors = [
        line for line in text.splitlines() if " ERROR " in line or line.startswith("Caused by:")
    ]
    detail = "\n".join(errors[-8:]) or tail(paths.log_file)
    return ServerUnavailableError(
        f"Neo4j did not start; see {paths.log_file} and {paths.launcher_log}:\n"
        f"{launcher}\n{detail}".rstrip()
    )


def stop(settings: Settings, timeout: float = STOP_TIMEOUT) -> bool:
    """Stop the server; returns whether one was running.

    SIGTERM is what `neo4j stop` sends: the server checkpoints and exits cleanly.
    """
    paths = Neo4jPaths.of(settings)
    server_pid = read_pid(paths.pid_file)
    if server_pid is None:
        paths.pid_file.unlink(missing_ok=True)
        return False
    os.kill(server_pid, signal.SIGTERM)
    if not wait_for(lambda: not pid_alive(server_pid), timeout=timeout, interval=0.3):
        raise ServerUnavailableError(
            f"Neo4j (pid {server_pid}) did not stop within {timeout:.0f}s; "
            f"see {paths.log_file}, or kill {server_pid}"
        )
    paths.pid_file.unlink(missing_ok=True)
    return True
