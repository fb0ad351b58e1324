"""The columns of the project's own dbt models that control rows read.

A label, an extension or a junction may read a model of this project (an
intermediate or mart model) instead of a source table. `models generate` runs
before `dbt build`, so such a model may not exist in the database yet: its
columns and their types come from its YAML, where a model computing graph
properties declares them anyway (its contract). PostgreSQL reads each declared
type, so `numeric(14,2)` or `text[]` is typed exactly as a source column of
that type would be.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import yaml
from psycopg2 import sql
from psycopg2.extensions import connection as pg_connection_type

from c360.control.model import Table
from c360.errors import ConfigError
from c360.transform.columns import SourceColumn
from c360.transform.files import MARKER

# A PostgreSQL type name as a model's YAML writes it: words, an optional
# (precision[, scale]) and optional []; anything else is refused before it
# reaches the DDL that reads it.
TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_ ]*(\(\d+(,\s*\d+)?\))?( ?\[\])?$", re.IGNORECASE)


@dataclass(frozen=True)
class DeclaredModel:
    """A model of the project: where its YAML is, and its columns as declared."""

    name: str
    yaml_path: Path
    columns: tuple[tuple[str, str | None], ...]


def declared_models(project_dir: Path) -> dict[str, DeclaredModel]:
    """Every hand-written model with a .sql file and a YAML entry, by name.

    Generated files are left out: a control row reading a graph table would
    make the graph depend on itself.
    """
    models_dir = project_dir / "models"
    sql_files = {p.stem for p in models_dir.rglob("*.sql") if not _generated(p)}
    found: dict[str, DeclaredModel] = {}
    for path in sorted(models_dir.rglob("*.yml")):
        if _generated(path):
            continue
        for entry in _model_entries(path):
            name = entry.get("name")
            if isinstance(name, str) and name in sql_files:
                columns = tuple(
                    (str(c["name"]), c.get("data_type"))
                    for c in entry.get("columns") or ()
                    if isinstance(c, dict) and "name" in c
                )
                found[name] = DeclaredModel(name, path.relative_to(project_dir), columns)
    return found


def model_columns(
    conn: pg_connection_type, project_dir: Path, tables: Iterable[Table]
) -> dict[Table, tuple[SourceColumn, ...]]:
    """The declared columns of each model in `tables` that exists, typed by PostgreSQL.

    A model missing from the project is left out (the control-row check names
    the row); a column without a readable data_type is refused here.
    """
    declared = declared_models(project_dir)
    problems: list[str] = []
    found: dict[Table, tuple[SourceColumn, ...]] = {}
    for table in tables:
        model = declared.get(table.table_name)
        if model is None:
            continue
        for column, data_type in model.columns:
            if not isinstance(data_type, str) or not TYPE_PATTERN.match(data_type.strip()):
                problems.append(
                    f"{model.yaml_path}: model {model.name}, column {column}: "
                    f"data_type {data_type!r} is not a PostgreSQL type name; c360 types the "
                    "graph properties from it, so declare it (e.g. numeric(14,2), text, date)"
                )
        if not problems:
            found[table] = _typed(conn, model)
    if problems:
        listing = "\n  ".join(problems)
        raise ConfigError(
            f"models read by control rows declare columns c360 cannot type:\n  {listing}"
        )
    return found


def _typed(conn: pg_connection_type, model: DeclaredModel) -> tuple[SourceColumn, ...]:
    """The model's columns as information_schema describes them, through a table
    of the declared types that is created and rolled back."""
    definition = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(str(data_type)))
        for name, data_type in model.columns
    )
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("create temporary table c360_declared ({})").format(definition))
            cur.execute(
                "select column_name, data_type, udt_name, numeric_precision, numeric_scale"
                " from information_schema.columns where table_name = 'c360_declared'"
                " and table_schema like 'pg_temp%%' order by ordinal_position"
            )
            return tuple(SourceColumn(*row) for row in cur.fetchall())
    except psycopg2.Error as error:
        said = (error.pgerror or str(error)).strip().splitlines()[0]
        raise ConfigError(
            f"{model.yaml_path}: model {model.name}: PostgreSQL cannot read its declared "
            f"column types ({said}); fix the data_type entries"
        ) from None
    finally:
        conn.rollback()


def _model_entries(path: Path) -> Iterator[Mapping[str, object]]:
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for entry in document.get("models") or () if isinstance(document, dict) else ():
        if isinstance(entry, dict):
            yield entry


def _generated(path: Path) -> bool:
    with path.open(encoding="utf-8") as handle:
        return MARKER in handle.readline()
