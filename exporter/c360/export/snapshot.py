"""One consistent, published read of the graph tables for a whole export.

dbt replaces a table by building a new one and renaming it into place, and it
does so before the table's tests run. So an export must (1) read only tables
whose tests passed, and (2) never see a table swapped mid-read: a snapshot
taken before a swap resolves the name to the new table but cannot see its
rows, and reads it as empty (a sync would then delete everything).

(1) `dbt build` records, per model, the OID of each table that passed its
tests in `control.graph_builds` (macros/publish_built_models.sql); a table
whose current OID is not the published one is refused, naming why.

(2) A lead transaction takes ACCESS SHARE locks on the catalog and every
graph table *before* its snapshot is set, then exports that snapshot; every
connection that reads graph tables for the run imports it. While the lock is
held dbt's rename waits, so the names keep pointing at the tables the snapshot
sees. A reader that would queue behind such a waiting rename gives up after
`READER_LOCK_TIMEOUT` (otherwise dbt waits for the lead, which waits for the
reader) and the export fails, asking to run again once dbt is done.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg2
import psycopg2.errors
from psycopg2 import sql
from psycopg2.extensions import connection as pg_connection_type

from c360.errors import ExportFailedError, UnpublishedGraphError
from c360.export import catalog
from c360.export.catalog import CATALOG_TABLE, GRAPH_SCHEMA, GraphPlan, TablePlan
from c360.pg import pg_connection

# written by macros/publish_built_models.sql
BUILDS_TABLE = ("control", "graph_builds")
# How long the lead waits for a dbt swap already under way to commit.
LEAD_LOCK_TIMEOUT = "20s"
READER_LOCK_TIMEOUT = "5s"
# A dbt build that finishes between reading the catalog and locking changes
# the set of tables to lock; after this many tries the export gives up.
ATTEMPTS = 3

DBT_IS_SWAPPING = (
    "a dbt build is replacing graph tables this export reads; the export stopped "
    "so that dbt can finish. Run the export again once dbt is done"
)


@dataclass(frozen=True)
class Build:
    """A table's row of control.graph_builds."""

    table_oid: int | None
    invocation_id: str
    status: str
    detail: str | None
    dangling_rows: int | None


@dataclass(frozen=True)
class GraphSnapshot:
    """The exported snapshot every reader of one export shares."""

    dsn: str
    snapshot_id: str

    @contextmanager
    def connection(self) -> Iterator[pg_connection_type]:
        """A connection in one transaction that sees exactly the export's snapshot.

        Commit or roll back only at the end: a new transaction would not see it.
        """
        with pg_connection(self.dsn) as conn:
            conn.set_session(isolation_level="REPEATABLE READ")
            try:
                with conn.cursor() as cur:
                    cur.execute("set transaction snapshot %s", (self.snapshot_id,))
                    cur.execute("set local lock_timeout = %s", (READER_LOCK_TIMEOUT,))
                yield conn
            except psycopg2.errors.LockNotAvailable:
                raise ExportFailedError(DBT_IS_SWAPPING) from None


@dataclass(frozen=True)
class PublishedGraph:
    """What one export reads: the plan, row counts and dangling rows, all as of `snapshot`."""

    snapshot: GraphSnapshot
    plan: GraphPlan
    rows: dict[str, int]
    builds: dict[str, Build]
    oids: dict[str, int | None]

    def check_published(self, plan: GraphPlan) -> None:
        """UnpublishedGraphError naming every table of `plan` dbt did not publish."""
        problems = unpublished(
            [CATALOG_TABLE, *(t.table for t in plan.tables)], self.builds, self.oids
        )
        if problems:
            raise UnpublishedGraphError(
                "refusing to export graph tables that did not pass their dbt tests:\n  "
                + "\n  ".join(problems)
                + "\nNothing was written. Fix the cause, run `dbt build` (models and their "
                "tests), then export again"
            )

    def dangling(self, table: TablePlan) -> int | None:
        build = self.builds.get(table.table)
        return None if build is None else build.dangling_rows


def unpublished(
    tables: Sequence[str], builds: Mapping[str, Build], oids: Mapping[str, int | None]
) -> list[str]:
    """One line per table whose current OID is not the one dbt published after its tests."""
    problems = []
    for table in tables:
        name = f"{GRAPH_SCHEMA}.{table}"
        build = builds.get(table)
        if build is None:
            problems.append(f"{name}: no dbt build has recorded its tests")
        elif build.status == "failed":
            problems.append(f"{name}: dbt invocation {build.invocation_id}: {build.detail}")
        elif build.status == "untested":
            problems.append(
                f"{name}: built by dbt invocation {build.invocation_id} without its tests "
                f"({build.detail}); run `dbt build` or `dbt test`"
            )
        elif build.table_oid != oids.get(table):
            problems.append(
                f"{name}: replaced after dbt invocation {build.invocation_id} tested it"
            )
    return problems


@contextmanager
def published_graph(dsn: str) -> Iterator[PublishedGraph]:
    """Lock the graph tables, take the snapshot, read plan, counts and build records.

    The lock and snapshot live until the block ends: run the whole export inside.
    """
    for _ in range(ATTEMPTS):
        tables = _catalog_tables(dsn)
        with pg_connection(dsn) as lead:
            lead.set_session(isolation_level="REPEATABLE READ")
            found = _lock_and_read(lead, dsn, tables)
            if found is not None:
                yield found
                lead.rollback()
                return
    raise ExportFailedError(
        f"the graph tables kept changing while the export started ({ATTEMPTS} tries): "
        "a dbt build is probably running; export once it is done"
    )


def _catalog_tables(dsn: str) -> list[str]:
    """The catalog's tables as last committed (ConfigError when there is no catalog)."""
    with pg_connection(dsn, autocommit=True) as conn:
        plan = catalog.read_plan(conn)
    return sorted({t.table for t in plan.tables})


def _lock_and_read(lead: pg_connection_type, dsn: str, tables: list[str]) -> PublishedGraph | None:
    """The published graph as of a snapshot taken under the locks; None when the
    catalog changed between reading its tables and locking them."""
    locked = [CATALOG_TABLE, *tables]
    with lead.cursor() as cur:
        cur.execute("set local lock_timeout = %s", (LEAD_LOCK_TIMEOUT,))
        try:
            cur.execute(
                sql.SQL("lock table {} in access share mode").format(
                    sql.SQL(", ").join(sql.Identifier(GRAPH_SCHEMA, t) for t in locked)
                )
            )
        except psycopg2.errors.UndefinedTable:
            # dropped since the catalog was read: a dbt build finished meanwhile
            lead.rollback()
            return None
        except psycopg2.errors.LockNotAvailable:
            raise ExportFailedError(DBT_IS_SWAPPING) from None
        cur.execute("select pg_export_snapshot()")
        snapshot_id = str(cur.fetchone()[0])
    plan = catalog.read_plan(lead)
    if {t.table for t in plan.tables} - set(tables):
        lead.rollback()
        return None
    rows = {f"{t.kind}:{t.name}": catalog.count_rows(lead, t.table) for t in plan.tables}
    return PublishedGraph(
        GraphSnapshot(dsn, snapshot_id), plan, rows, _builds(lead), _oids(lead, locked)
    )


def _builds(conn: pg_connection_type) -> dict[str, Build]:
    with conn.cursor() as cur:
        builds = sql.Identifier(*BUILDS_TABLE)
        cur.execute("select to_regclass(%s)", (builds.as_string(conn),))
        if cur.fetchone()[0] is None:
            return {}
        cur.execute(
            sql.SQL(
                "select table_name, table_oid, invocation_id, status, detail, dangling_rows"
                " from {} where schema_name = %s"
            ).format(builds),
            (GRAPH_SCHEMA,),
        )
        return {
            str(table): Build(
                None if oid is None else int(oid),
                str(invocation),
                str(status),
                detail,
                None if dangling is None else int(dangling),
            )
            for table, oid, invocation, status, detail, dangling in cur.fetchall()
        }


def _oids(conn: pg_connection_type, tables: Sequence[str]) -> dict[str, int | None]:
    with conn.cursor() as cur:
        cur.execute(
            "select t, to_regclass(format('%%I.%%I', %s::text, t))::oid"
            " from unnest(%s::text[]) as t",
            (GRAPH_SCHEMA, list(tables)),
        )
        return {str(t): None if oid is None else int(oid) for t, oid in cur.fetchall()}
