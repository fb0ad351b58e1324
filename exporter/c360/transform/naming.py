"""The one place where model (hence graph table) names are made.

`graph.graph_catalog` reads them back from dbt's graph at run time, so no
other module derives a table name.
"""

from __future__ import annotations

import re


def snake(name: str) -> str:
    """`PaymentMethod` -> `payment_method`, `IPAddress` -> `ip_address`, `USED_IP` -> `used_ip`."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return re.sub(r"_+", "_", spaced).lower()


def staging_model(source_name: str, table_name: str) -> str:
    return f"stg_{source_name}__{table_name}"


def node_model(label: str) -> str:
    return f"node_{snake(label)}"


def edge_model(relationship_type: str) -> str:
    return f"edge_{snake(relationship_type)}"
