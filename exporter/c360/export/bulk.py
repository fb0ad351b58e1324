"""Bulk mode: graph tables -> neo4j-admin CSV files -> `neo4j-admin database import full`.

PostgreSQL writes each file itself through `COPY ... TO STDOUT WITH CSV`, streamed
straight to disk. Headers are typed (`created_at:datetime`, `tags:string[]`),
temporals and durations are ISO 8601 (in UTC), booleans `true`/`false`, list
elements joined by U+001F, byte arrays signed bytes, so the import gives the
same property types as merge mode (`Column.csv_sql`). The key stays a typed
property beside the unnamed `:ID` column, so a later merge finds the node by
the same key.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from psycopg2 import sql
from psycopg2.extensions import cursor as pg_cursor

from c360 import parallel, types
from c360.errors import ConfigError
from c360.export.catalog import GRAPH_SCHEMA, Column, LabelPlan, TablePlan, TypePlan
from c360.export.snapshot import GraphSnapshot

# Joins the values of a composite key into one import id; a control character
# no key value is expected to hold.
ID_SEPARATOR = "\x1f"

# A header entry is `name:type(group){options}` with no escape: neo4j-admin cuts
# the first '(' to the last ')' and '{' to '}' out of it, then splits at the last ':'.
HEADER_UNSAFE = "(){}"


@dataclass(frozen=True)
class CsvFile:
    plan: TablePlan
    header: Path
    data: Path
    rows: int


def _typed(column: Column, name: str | None = None) -> str:
    suffix = column.neo4j_type
    return f"{name or column.name}:{suffix}" if suffix else (name or column.name)


def _id_sql(columns: Sequence[Column]) -> sql.Composable:
    if len(columns) == 1:
        return sql.SQL("({})::text").format(columns[0].csv_sql())
    return sql.SQL("concat_ws({}, {})").format(
        sql.Literal(ID_SEPARATOR), sql.SQL(", ").join(c.csv_sql() for c in columns)
    )


def header_problem(name: str) -> str | None:
    """Why neo4j-admin cannot read `name` as a property of a CSV header, or None."""
    found = sorted(set(name) & set(HEADER_UNSAFE))
    if found:
        return f"neo4j-admin's CSV header cannot carry {' '.join(found)} in a property name"
    return None


def _property(plan: TablePlan, column: Column) -> str:
    problem = header_problem(column.name)
    if problem is not None:
        raise ConfigError(
            f"{GRAPH_SCHEMA}.{plan.table}.{column.name}: {problem}; export with "
            "--mode merge, or exclude or rename the column"
        )
    entry = _typed(column)
    # the type spelt out, so the name's own ':' is not read as the type's
    return f"{entry}:string" if entry == column.name and ":" in entry else entry


def node_header(plan: LabelPlan) -> list[str]:
    return [
        f":ID({plan.name})",
        *(_property(plan, c) for c in plan.columns),
        ":LABEL",
    ]


def relationship_header(plan: TypePlan) -> list[str]:
    return [
        f":START_ID({plan.from_label})",
        f":END_ID({plan.to_label})",
        *(_property(plan, c) for c in plan.properties),
        ":TYPE",
    ]


def header_line(entries: Sequence[str]) -> str:
    """The header as a CSV line quoted as neo4j-admin reads its data (`"` doubled)."""
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow(entries)
    return line.getvalue()


def copy_sql(plan: TablePlan) -> sql.Composed:
    """The COPY whose output lines up with the plan's header."""
    if isinstance(plan, LabelPlan):
        columns = [_id_sql(plan.keys), *(c.csv_sql() for c in plan.columns)]
    else:
        columns = [_id_sql(plan.start), _id_sql(plan.end), *(c.csv_sql() for c in plan.properties)]
    columns.append(sql.Literal(plan.name))
    return sql.SQL("COPY (SELECT {} FROM {}.{}) TO STDOUT WITH (FORMAT csv)").format(
        sql.SQL(", ").join(columns), sql.Identifier(GRAPH_SCHEMA), sql.Identifier(plan.table)
    )


def _write_csv(cur: pg_cursor, table: TablePlan, directory: Path) -> CsvFile:
    prefix = "nodes" if isinstance(table, LabelPlan) else "relationships"
    header_path = directory / f"{prefix}_{table.name}.header.csv"
    data_path = directory / f"{prefix}_{table.name}.csv"
    header = node_header(table) if isinstance(table, LabelPlan) else relationship_header(table)
    header_path.write_text(header_line(header), encoding="utf-8")
    with data_path.open("wb") as handle:
        cur.copy_expert(copy_sql(table), handle, size=1 << 20)
    return CsvFile(table, header_path, data_path, cur.rowcount)


def _copy_worker(
    snapshot: GraphSnapshot,
    tables: Iterator[TablePlan],
    directory: Path,
    on_table: Callable[[TablePlan, int, float], None] | None,
) -> list[CsvFile]:
    files = []
    with snapshot.connection() as conn, conn.cursor() as cur:
        cur.execute("SET TimeZone = 'UTC'")
        cur.execute("SET client_encoding = 'UTF8'")
        # shortest exact text for doubles, whatever the server's default
        cur.execute("SET extra_float_digits = 1")
        for table in tables:
            started = time.monotonic()
            files.append(_write_csv(cur, table, directory))
            if on_table is not None:
                on_table(table, files[-1].rows, time.monotonic() - started)
    return files


def write_csvs(
    snapshot: GraphSnapshot,
    tables: Sequence[TablePlan],
    directory: Path,
    on_table: Callable[[TablePlan, int, float], None] | None = None,
    *,
    workers: int = 2,
) -> list[CsvFile]:
    """One header file and one data file per label and type, written by COPY.

    `workers` connections copy at once, each taking the next table in `tables`'
    order (largest first balances them best); the files come back in that order.
    `on_table` hears of each table copied: its rows and seconds.
    """
    directory.mkdir(parents=True, exist_ok=True)
    files = parallel.share(
        tables, workers, lambda mine: _copy_worker(snapshot, mine, directory, on_table)
    )
    written = {f.plan: f for f in files}
    return [written[table] for table in tables]


def import_args(files: Sequence[CsvFile], database: str, report: Path) -> list[str]:
    """Arguments of `neo4j-admin` for a full import of `files` into `database`."""
    args = [
        "database",
        "import",
        "full",
        # before the options: --nodes/--relationships take several values each
        database,
        "--overwrite-destination=true",
        # quoted values may hold newlines; PostgreSQL quotes them
        "--multiline-fields=true",
        "--delimiter=,",
        '--quote="',
        # list elements, as Column.csv_sql joins them
        f"--array-delimiter=U+{ord(types.LIST_SEPARATOR):04X}",
        "--id-type=string",
        "--ignore-empty-strings=false",
        "--trim-strings=false",
        "--skip-bad-relationships=false",
        "--skip-duplicate-nodes=false",
        f"--report-file={report}",
    ]
    for file in files:
        option = "--nodes" if isinstance(file.plan, LabelPlan) else "--relationships"
        args.append(f"{option}={file.header},{file.data}")
    return args
