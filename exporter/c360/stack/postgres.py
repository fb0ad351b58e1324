"""The local PostgreSQL cluster under `<home>/postgres/`.

It uses Debian's `postgresql` package binaries but its own data directory, port
and socket directory, so it never touches a system cluster. PostgreSQL refuses
to run as root: when we are root, initdb and pg_ctl run as the `postgres`
system user, which then owns everything under `<home>/postgres/`.

    <home>/postgres/data/        the cluster (c360.conf holds our settings)
    <home>/postgres/run/         the Unix socket
    <home>/postgres/postgres.log the server log
"""

from __future__ import annotations

import os
import pwd
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from c360.config import Settings
from c360.errors import ServerUnavailableError
from c360.pg import connect, ensure_staging_database, open_connection
from c360.stack._system import (
    Report,
    apt_install,
    is_root,
    output_of,
    quiet,
    read_pid,
    require_free_port,
    run,
    tail,
    wait_for,
)

MIN_VERSION = 15
PACKAGE = "postgresql"
PG_ROOT = Path("/usr/lib/postgresql")
SYSTEM_USER = "postgres"
START_TIMEOUT = 60.0
EXTENSIONS = ("postgres_fdw", "pg_trgm")

# Sized for bulk loads on a 2-core, 24 GiB machine that also runs Neo4j (4 GiB)
# and dbt. A local dev stack trades durability of the last few commits for speed
# (synchronous_commit off); fsync stays on so a crash never corrupts the cluster.
PERFORMANCE = {
    "shared_buffers": "'3GB'",
    "effective_cache_size": "'12GB'",
    "work_mem": "'64MB'",
    "maintenance_work_mem": "'1GB'",
    "max_wal_size": "'8GB'",
    "min_wal_size": "'1GB'",
    "checkpoint_timeout": "'15min'",
    "checkpoint_completion_target": "0.9",
    "wal_buffers": "'64MB'",
    "synchronous_commit": "off",
    # Every dbt table and sync record is created and filled in one transaction;
    # at `minimal` such a table skips the WAL (its files are synced at commit),
    # sparing a second, WAL copy of every row a build writes. No replica or
    # archive reads this WAL.
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "wal_compression": "on",
    "random_page_cost": "1.1",
    "effective_io_concurrency": "200",
    "max_worker_processes": "4",
    "max_parallel_workers": "2",
    "max_parallel_workers_per_gather": "2",
    "max_parallel_maintenance_workers": "2",
    # JIT compiles for seconds to save milliseconds on dbt's many small queries.
    "jit": "off",
    "max_connections": "100",
    "log_min_duration_statement": "'5s'",
}


@dataclass(frozen=True)
class PostgresPaths:
    root: Path

    @classmethod
    def of(cls, settings: Settings) -> PostgresPaths:
        return cls(settings.home / "postgres")

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    @property
    def pid_file(self) -> Path:
        return self.data / "postmaster.pid"


def find_bindir() -> Path | None:
    """The newest PostgreSQL >= 15 installed by Debian's packages."""
    versions = sorted(
        (int(entry.name), entry / "bin")
        for entry in (PG_ROOT.iterdir() if PG_ROOT.is_dir() else [])
        if entry.name.isdigit()
        and int(entry.name) >= MIN_VERSION
        and (entry / "bin" / "pg_ctl").is_file()
    )
    return versions[-1][1] if versions else None


def ensure_installed(report: Report = quiet) -> Path:
    bindir = find_bindir()
    if bindir is None:
        apt_install(
            [PACKAGE],
            f"PostgreSQL {MIN_VERSION}+ is not installed (nothing under {PG_ROOT})",
            report,
        )
        bindir = find_bindir()
    if bindir is None:
        raise ServerUnavailableError(
            f"installed {PACKAGE} but found no PostgreSQL {MIN_VERSION}+ under {PG_ROOT}"
        )
    return bindir


def _as_server_user(args: list[str | os.PathLike[str]]) -> list[str | os.PathLike[str]]:
    return ["runuser", "-u", SYSTEM_USER, "--", *args] if is_root() else args


def _give_to_server_user(path: Path) -> None:
    """Let the `postgres` user own `path` when we are root (it cannot run as root)."""
    if not is_root():
        return
    account = pwd.getpwnam(SYSTEM_USER)
    os.chown(path, account.pw_uid, account.pw_gid)
    for current, _dirs, files in os.walk(path):
        os.chown(current, account.pw_uid, account.pw_gid)
        for name in files:
            os.chown(os.path.join(current, name), account.pw_uid, account.pw_gid)


def _check_traversable(path: Path) -> None:
    """The `postgres` user must be able to walk down to the data directory."""
    if not is_root():
        return
    for parent in reversed(path.parents):
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            raise ServerUnavailableError(
                f"the PostgreSQL server runs as the '{SYSTEM_USER}' user, which cannot enter "
                f"{parent} (mode {stat.filemode(mode)}): run `chmod o+x {parent}` or set "
                "C360_HOME to a directory outside it"
            )


def pid(settings: Settings) -> int | None:
    return read_pid(PostgresPaths.of(settings).pid_file)


def init_cluster(settings: Settings, bindir: Path, report: Report = quiet) -> None:
    """initdb once: superuser `c360` with the local secret, scram-sha-256 everywhere."""
    paths = PostgresPaths.of(settings)
    if (paths.data / "PG_VERSION").exists():
        return
    report(f"creating a PostgreSQL cluster in {paths.data}")
    for directory in (paths.root, paths.data, paths.socket_dir):
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    _check_traversable(paths.root)
    # initdb reads the password from a file only the server user can read, so it
    # never shows up in a process listing.
    pwfile = paths.root / ".initdb-password"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(settings.postgres.password or "")
    _give_to_server_user(paths.root)
    try:
        result = run(
            _as_server_user(
                [
                    bindir / "initdb",
                    "-D",
                    paths.data,
                    "-U",
                    settings.postgres.user,
                    f"--pwfile={pwfile}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            timeout=300,
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if result.returncode != 0:
        raise ServerUnavailableError(
            f"initdb failed for {paths.data}:\n{output_of(result)}\n"
            f"remove {paths.data} before trying again"
        )
    with (paths.data / "postgresql.conf").open("a") as conf:
        conf.write(
            "\n# c360: settings that follow C360_* live in this file.\ninclude 'c360.conf'\n"
        )


def write_config(settings: Settings, paths: PostgresPaths) -> None:
    """c360.conf from the settings; rewritten each start so a port change applies."""
    lines = [
        "# Written by c360-export stack: edits are overwritten on the next start.",
        "listen_addresses = '127.0.0.1'",
        f"port = {settings.postgres.port}",
        f"unix_socket_directories = '{paths.socket_dir}'",
        "password_encryption = 'scram-sha-256'",
        *(f"{name} = {value}" for name, value in PERFORMANCE.items()),
    ]
    (paths.data / "c360.conf").write_text("\n".join(lines) + "\n")
    paths.socket_dir.mkdir(parents=True, exist_ok=True)
    _give_to_server_user(paths.socket_dir)
    _give_to_server_user(paths.data / "c360.conf")


def start(settings: Settings, report: Report = quiet, timeout: float = START_TIMEOUT) -> int:
    """Create (once) and start the cluster, wait for SELECT 1; returns the pid."""
    paths = PostgresPaths.of(settings)
    running = read_pid(paths.pid_file)
    if running is None:
        require_free_port(settings.postgres.port, "PostgreSQL", "C360_PG_PORT")
        bindir = ensure_installed(report)
        init_cluster(settings, bindir, report)
        write_config(settings, paths)
        if not paths.log_file.exists():
            paths.log_file.touch()
        _give_to_server_user(paths.log_file)
        report(f"starting PostgreSQL on 127.0.0.1:{settings.postgres.port}")
        result = run(
            _as_server_user(
                [
                    bindir / "pg_ctl",
                    "start",
                    "-D",
                    paths.data,
                    "-l",
                    paths.log_file,
                    "-w",
                    "-t",
                    str(int(timeout)),
                ]
            ),
            timeout=timeout + 30,
        )
        if result.returncode != 0:
            raise _start_failure(settings, paths, output_of(result))
        running = read_pid(paths.pid_file)
    wait_for_select(settings, timeout=timeout)
    ensure_staging_database(settings)
    return running or 0


def _start_failure(settings: Settings, paths: PostgresPaths, output: str) -> ServerUnavailableError:
    log = tail(paths.log_file)
    if re.search(r"could not bind .*Address already in use", log):
        return ServerUnavailableError(
            f"PostgreSQL could not bind port {settings.postgres.port}: the port is already in "
            f"use; stop the process holding it or set C360_PG_PORT to a free port "
            f"(see {paths.log_file})"
        )
    return ServerUnavailableError(
        f"PostgreSQL did not start; see {paths.log_file}:\n{output}\n{log}".rstrip()
    )


def wait_for_select(settings: Settings, timeout: float = START_TIMEOUT) -> None:
    paths = PostgresPaths.of(settings)
    last_error: list[str] = []

    def answers() -> bool:
        try:
            conn = open_connection(settings.postgres.dsn("postgres"), connect_timeout=5)
            try:
                with conn.cursor() as cursor:
                    cursor.execute("select 1")
                    return cursor.fetchone() == (1,)
            finally:
                conn.close()
        except ServerUnavailableError as error:
            message = str(error).strip()
            if "password authentication failed" in message:
                raise ServerUnavailableError(
                    f"PostgreSQL on port {settings.postgres.port} refused the password of "
                    f"user {settings.postgres.user!r} from {settings.home / 'secrets'}: "
                    f"the cluster in {paths.data} was created with another one; remove "
                    "that directory to start over, or stop whatever else serves this port"
                ) from None
            last_error[:] = [message]
            return False

    if not wait_for(answers, timeout=timeout):
        raise ServerUnavailableError(
            f"PostgreSQL did not answer on 127.0.0.1:{settings.postgres.port} within "
            f"{timeout:.0f}s ({' '.join(last_error)}); see {paths.log_file}:\n"
            f"{tail(paths.log_file)}"
        )


def stop(settings: Settings, timeout: float = START_TIMEOUT) -> bool:
    """Stop the cluster (fast shutdown); returns whether it was running."""
    paths = PostgresPaths.of(settings)
    if read_pid(paths.pid_file) is None:
        return False
    bindir = ensure_installed()
    result = run(
        _as_server_user(
            [
                bindir / "pg_ctl",
                "stop",
                "-D",
                paths.data,
                "-m",
                "fast",
                "-w",
                "-t",
                str(int(timeout)),
            ]
        ),
        timeout=timeout + 30,
    )
    if result.returncode != 0:
        raise ServerUnavailableError(
            f"pg_ctl stop failed for {paths.data}:\n{output_of(result)}\nsee {paths.log_file}"
        )
    return True


def available_extensions(settings: Settings) -> set[str]:
    """Which of the extensions c360 needs the server can create."""
    conn = connect(settings, "postgres")
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "select name from pg_available_extensions where name = any(%s)",
                (list(EXTENSIONS),),
            )
            return {row[0] for row in cursor.fetchall()}
    finally:
        conn.close()
