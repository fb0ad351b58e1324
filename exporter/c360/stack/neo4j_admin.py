"""`neo4j-admin` for the local server: one command, and the bulk import that
replaces the database without ever touching the running graph first."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from c360.config import Settings
from c360.errors import ExportFailedError, ServerUnavailableError
from c360.stack._system import run
from c360.stack.neo4j import ADMIN_LAUNCHER, Neo4jPaths, prepare, start, stop


def admin(
    settings: Settings,
    args: Sequence[str],
    *,
    heap: str | None = None,
    timeout: float | None = None,
    conf_dir: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `neo4j-admin <args>` (e.g. `database import full ...`) against the local server.

    `heap` sets the tool's JVM heap (neo4j-admin's HEAP_SIZE); `conf_dir` another
    configuration than the server's. Raises ExportFailedError with the tool's
    output when it exits non-zero.
    """
    runtime = prepare(settings)
    extra = {"HEAP_SIZE": heap} if heap else None
    try:
        result = run(
            runtime.launcher(ADMIN_LAUNCHER, *args),
            env=runtime.env(extra, conf_dir),
            timeout=timeout,
            cwd=runtime.paths.import_dir,
        )
    except ServerUnavailableError as error:
        # Only a timeout gets here: the import ran and did not finish.
        raise ExportFailedError(f"neo4j-admin {' '.join(args[:3])}: {error}") from None
    if result.returncode != 0:
        raise ExportFailedError(
            f"neo4j-admin {' '.join(args[:3])} exited with {result.returncode}: "
            f"{root_cause((result.stdout or '') + (result.stderr or ''))}"
        )
    return result


def replace_database(settings: Settings, import_args: Sequence[str], report: Path) -> None:
    """`neo4j-admin database import full` beside the running server, swapped in on success.

    `--overwrite-destination` deletes a store before it validates the input, so an
    import into the live directory that fails leaves no graph at all. The import
    writes `staged/` (its own data directory and configuration) while the server
    keeps serving the old graph; only then is the server stopped, the old store
    moved to `previous/`, the new one moved in and the server started. The old
    store goes once the server answers on the new one, and comes back if it cannot.
    A failed import raises ExportFailedError with the tool's output and the start
    of its report (`report`), and leaves the running graph untouched.
    """
    paths = Neo4jPaths.of(settings)
    shutil.rmtree(paths.staged, ignore_errors=True)
    conf_dir = paths.staged / "conf"
    conf_dir.mkdir(parents=True)
    live_conf = (paths.conf_dir / "neo4j.conf").read_text()
    (conf_dir / "neo4j.conf").write_text(
        live_conf.replace(
            f"server.directories.data={paths.data}", f"server.directories.data={paths.staged}/data"
        )
    )
    report.unlink(missing_ok=True)
    # --verbose: without it a failed import says only "Error importing csv file"
    verbose = [*import_args[:4], "--verbose", *import_args[4:]]
    try:
        admin(settings, verbose, conf_dir=conf_dir)
    except ExportFailedError as error:
        raise ExportFailedError(
            f"{error}\nThe running graph was not touched. {_report_excerpt(report)}".rstrip()
        ) from None
    stores = _store_directories(settings.neo4j.database)
    stop(settings)
    shutil.rmtree(paths.previous, ignore_errors=True)
    for store in stores:
        live, old = paths.data / store, paths.previous / store
        old.parent.mkdir(parents=True, exist_ok=True)
        if live.exists():
            live.rename(old)
        live.parent.mkdir(parents=True, exist_ok=True)
        (paths.staged / "data" / store).rename(live)
    try:
        start(settings)
    except ServerUnavailableError as error:
        with suppress(ServerUnavailableError):
            stop(settings)
        for store in stores:
            live, old = paths.data / store, paths.previous / store
            shutil.rmtree(live, ignore_errors=True)
            if old.exists():
                old.rename(live)
        start(settings)
        raise ExportFailedError(
            f"Neo4j did not start on the imported store, so the previous graph was put "
            f"back: {error}"
        ) from None
    shutil.rmtree(paths.previous, ignore_errors=True)
    shutil.rmtree(paths.staged, ignore_errors=True)


def _store_directories(database: str) -> tuple[Path, ...]:
    """A database's store and its transaction logs, relative to the data directory."""
    return (Path("databases") / database, Path("transactions") / database)


def root_cause(output: str) -> str:
    """The innermost `Caused by:` of a Java failure, else the output's last lines."""
    causes = [line for line in output.splitlines() if line.startswith("Caused by:")]
    if causes:
        return causes[-1].removeprefix("Caused by:").strip()
    return "\n" + "\n".join(output.splitlines()[-40:])


def _report_excerpt(report: Path, lines: int = 10) -> str:
    if not report.is_file() or report.stat().st_size == 0:
        return ""
    return f"The import's report ({report}) begins:\n{_head(report, lines)}"


def _head(path: Path, lines: int) -> str:
    with path.open(errors="replace") as handle:
        return "".join(handle.readline() for _ in range(lines)).rstrip()
