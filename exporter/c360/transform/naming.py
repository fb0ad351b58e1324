"""The one place where model (hence graph table) names are made.

`graph.graph_catalog` reads them back from dbt's graph at run time, so no
other module derives a table name.
"""

from __future__ import annotations

import re

from c360.control.model import SCHEMA_SEPARATOR, SOURCE_SCHEMA_PREFIX, Table, local_schema

# The change columns every graph table ends with (macros/graph_table_rows.sql
# makes them): the row's hash and the change batch of the build that last wrote it.
ROW_HASH_COLUMN = "c360_row_hash"
CHANGE_BATCH_COLUMN = "c360_batch"
CHANGE_COLUMNS = (ROW_HASH_COLUMN, CHANGE_BATCH_COLUMN)


def snake(name: str) -> str:
    """`PaymentMethod` -> `payment_method`, `IPAddress` -> `ip_address`, `USED_IP` -> `used_ip`."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return re.sub(r"_+", "_", spaced).lower()


def staging_model(source_name: str, table_name: str) -> str:
    """`stg_<source>__<table>`, the table as control rows write it, a schema's
    `.` written `__`: `helpdesk.tickets` -> `stg_support__helpdesk__tickets`."""
    return f"stg_{source_name}__{table_name.replace(SCHEMA_SEPARATOR, '__')}"


def dbt_source(source_name: str, remote_schema: str) -> str:
    """The dbt source of one schema of a source: its local schema's name without
    `src_` (`support__helpdesk`; `profiles` for profiles' `public`)."""
    return local_schema(source_name, remote_schema).removeprefix(SOURCE_SCHEMA_PREFIX)


def node_model(label: str) -> str:
    return f"node_{snake(label)}"


def edge_model(relationship_type: str) -> str:
    return f"edge_{snake(relationship_type)}"


def read_model(table: Table) -> str:
    """The model a graph model reads a control row's table through: the source
    table's staging model, or the project's own model itself."""
    if table.source_name is None:
        return table.table_name
    return staging_model(table.source_name, table.table_name)
