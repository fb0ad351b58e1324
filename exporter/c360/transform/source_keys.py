"""A source database's tables with their primary and foreign keys, read from `pg_catalog`.

Read from the source database itself, as its `source_databases` row logs in
(`sources attach`'s password rule), never from the staging database: the
foreign tables `sources attach` imports carry no constraints. Only the schemas
`sources attach` imports (the row's `schemas`) are read, each table named as
control rows write it (`written_table_name`: short unless two schemas share
the name); ordinary and partitioned tables, not their partitions, which share
their parent's keys.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from psycopg2.extensions import connection as pg_connection
from psycopg2.extensions import make_dsn

from c360.config import Settings
from c360.control.model import (
    CONTROL_DIR,
    DEFAULT_SCHEMA,
    SOURCE_FILE,
    SourceDatabase,
)
from c360.control.rules import written_table_name
from c360.errors import ConfigError
from c360.pg import open_connection
from c360.transform.attach import source_password


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    # as control rows write it; `schema.table` when outside the schemas read
    referenced_table: str
    referenced_columns: tuple[str, ...]

    def __str__(self) -> str:
        return (
            f"{self.name} ({', '.join(self.columns)}) -> "
            f"{self.referenced_table} ({', '.join(self.referenced_columns)})"
        )


@dataclass(frozen=True)
class SourceTable:
    name: str
    columns: tuple[str, ...]
    # empty when the table has none
    primary_key: tuple[str, ...]
    # in the order of their first column in the table
    foreign_keys: tuple[ForeignKey, ...]


_TABLES = """
select c.oid, n.nspname::text, c.relname::text,
       array(select a.attname::text from pg_attribute a
             where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
             order by a.attnum)
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any(%(schemas)s) and c.relkind in ('r', 'p') and not c.relispartition
order by c.relname, n.nspname
"""

# Key columns in constraint order (conkey's order, not the table's); a foreign
# key on a partitioned table or to one is read once, from its parent constraint.
_CONSTRAINTS = """
select con.conrelid, con.contype::text, con.conname::text,
       array(select a.attname::text
             from unnest(con.conkey) with ordinality k(attnum, position)
             join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum
             order by k.position),
       con.confrelid,
       rn.nspname || '.' || r.relname,
       array(select a.attname::text
             from unnest(con.confkey) with ordinality k(attnum, position)
             join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum
             order by k.position)
from pg_constraint con
join pg_class t on t.oid = con.conrelid
join pg_namespace tn on tn.oid = t.relnamespace
left join pg_class r on r.oid = con.confrelid
left join pg_namespace rn on rn.oid = r.relnamespace
where tn.nspname = any(%(schemas)s) and con.contype in ('p', 'f') and con.conparentid = 0
order by con.conname
"""


def read_keys(
    conn: pg_connection, schemas: tuple[str, ...] = (DEFAULT_SCHEMA,)
) -> tuple[SourceTable, ...]:
    """The tables of `schemas` with their columns, primary key and foreign keys,
    by name as control rows write it."""
    with conn.cursor() as cur:
        cur.execute(_TABLES, {"schemas": list(schemas)})
        found = cur.fetchall()
        cur.execute(_CONSTRAINTS, {"schemas": list(schemas)})
        constraints = cur.fetchall()
    holders = Counter(name for _, _, name, _ in found)
    written = {
        oid: written_table_name(schema, name, holders[name]) for oid, schema, name, _ in found
    }
    tables = {oid: (written[oid], tuple(columns)) for oid, _, _, columns in found}
    primary_keys: dict[int, tuple[str, ...]] = {}
    foreign_keys: dict[int, list[ForeignKey]] = {oid: [] for oid in tables}
    for oid, kind, name, columns, referenced_oid, qualified, referenced_columns in constraints:
        if oid not in tables:
            continue
        if kind == "p":
            primary_keys[oid] = tuple(columns)
        else:
            referenced = written.get(referenced_oid, qualified)
            foreign_keys[oid].append(
                ForeignKey(name, tuple(columns), referenced, tuple(referenced_columns))
            )
    return tuple(
        SourceTable(name, columns, primary_keys.get(oid, ()), _in_order(columns, foreign_keys[oid]))
        for oid, (name, columns) in tables.items()
    )


def _in_order(columns: tuple[str, ...], keys: list[ForeignKey]) -> tuple[ForeignKey, ...]:
    return tuple(sorted(keys, key=lambda fk: (columns.index(fk.columns[0]), fk.name)))


def read_source_keys(
    settings: Settings, source: SourceDatabase, env: Mapping[str, str]
) -> tuple[SourceTable, ...]:
    """`read_keys` of the source's database, logged in as its row says.

    Blank host and port mean the server hosting the staging database, which
    this process reaches at the staging connection's host and port.
    """
    dsn = make_dsn(
        host=source.host or settings.postgres.host,
        port=source.port or settings.postgres.port,
        user=source.user_name,
        password=source_password(settings, source, env),
        dbname=source.database_name,
    )
    hint = (
        f"check host, port, database_name and user_name of source {source.source_name!r} "
        f"in {CONTROL_DIR / SOURCE_FILE.file}, and {source.password_env_var}"
    )
    conn = open_connection(dsn, autocommit=True, hint=hint)
    try:
        tables = read_keys(conn, source.schemas)
    finally:
        conn.close()
    if not tables:
        raise ConfigError(
            f"source {source.source_name!r}: database {source.database_name} has no tables "
            f"in its schemas ({' '.join(source.schemas)}), so there is nothing to propose"
        )
    return tables
