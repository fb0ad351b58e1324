"""The type mapping, without servers: source type -> graph type -> Neo4j, and where
each mode writes it (contracts and tests, CSV headers, Cypher statements)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from c360 import types
from c360.control.load import load_control_rows
from c360.control.model import CONTROL_DIR, ControlRows
from c360.errors import ConfigError
from c360.export import bulk, merge, script
from c360.export.catalog import Column, GraphPlan, LabelPlan, TypePlan
from c360.transform.columns import SourceColumn
from c360.transform.render import render
from c360.types import SourceType
from neo4j.exceptions import ClientError

PROJECT = Path(__file__).resolve().parents[2]

CONTROL = {
    "source_databases": [
        "source_name,host,port,database_name,user_name,password_env_var,fetch_size,"
        "is_active,description,schemas",
        "shop,,,shop_db,shop_reader,C360_SHOP_DB_PASSWORD,,true,Shop.",
    ],
    "node_label_mappings": [
        "label,source_name,table_name,key_columns,property_columns,one_node_per_key,"
        "is_active,description,is_extension",
        "Order,shop,orders,order_id,,false,true,An order.",
        "Day,shop,days,day,,false,true,A day.",
    ],
    "field_exclusion_rules": ["source_name,table_name,column_name,is_excluded,reason"],
    "relationship_mappings": [
        "relationship_type,from_label,from_column,to_label,to_column,via_source_name,"
        "via_table_name,via_from_column,via_to_column,normalize,is_active,execution_order,"
        "description,dangling_severity,key_columns,property_columns",
        "ON_DAY,Order,placed_on,Day,day,,,,,,true,1,An order placed on a day.,",
    ],
    "table_change_tracking": [
        "source_name,table_name,strategy,key_columns,watermark_column,is_active,description"
    ],
}

ORDERS = (
    SourceColumn("order_id", "bigint"),
    SourceColumn("placed_on", "date"),
    SourceColumn("total", "numeric", "numeric", 10, 2),
    SourceColumn("units", "numeric", "numeric", 18, 0),
    SourceColumn("tags", "ARRAY", "_text"),
    SourceColumn("paid_at", "timestamp with time zone"),
    SourceColumn("wait", "interval"),
    SourceColumn("receipt", "bytea"),
)
DAYS = (SourceColumn("day", "date"),)


def project(
    tmp_path: Path,
    extra: dict[str, list[str]] | None = None,
    replace: dict[str, list[str]] | None = None,
) -> ControlRows:
    """Control rows in `tmp_path`: CONTROL's, plus `extra` rows, or `replace`'s instead."""
    (tmp_path / CONTROL_DIR).mkdir(parents=True)
    for seed, (header, *lines) in CONTROL.items():
        lines = (replace or {}).get(seed, lines) + (extra or {}).get(seed, [])
        (tmp_path / CONTROL_DIR / f"{seed}.csv").write_text("\n".join([header, *lines]) + "\n")
    return load_control_rows(tmp_path)


def rendered(rows: ControlRows, *orders: SourceColumn) -> dict[Path, str]:
    return render(rows, {("shop", "orders"): ORDERS + orders, ("shop", "days"): DAYS}, frozenset())


def yaml_models(files: dict[Path, str], folder: str) -> dict[str, Any]:
    document = yaml.safe_load(files[Path(f"models/graph/{folder}/_{folder}__models.yml")])
    return {m["name"]: m for m in document["models"]}


@pytest.mark.parametrize(
    ("source", "graph"),
    [
        (SourceType("character varying"), "text"),
        (SourceType("uuid"), "text"),
        (SourceType("jsonb"), "text"),
        (SourceType("json"), "text"),
        (SourceType("smallint"), "integer"),
        (SourceType("numeric", "numeric", 18, 0), "bigint"),
        (SourceType("numeric", "numeric", 9, 0), "bigint"),
        (SourceType("numeric", "numeric", 15, 2), "double precision"),
        (SourceType("numeric", "numeric", 5, 2), "double precision"),
        (SourceType("real"), "double precision"),
        (SourceType("interval"), "interval"),
        (SourceType("bytea"), "bytea"),
        (SourceType("ARRAY", "_text"), "text[]"),
        (SourceType("ARRAY", "_varchar"), "text[]"),
        (SourceType("ARRAY", "_int4"), "integer[]"),
        (SourceType("ARRAY", "_int8"), "bigint[]"),
        (SourceType("ARRAY", "_float4"), "double precision[]"),
        (SourceType("ARRAY", "_bool"), "boolean[]"),
        (SourceType("ARRAY", "_date"), "date[]"),
        (SourceType("ARRAY", "_timestamptz"), "timestamp with time zone[]"),
    ],
)
def test_source_types_that_convert_exactly(source, graph):
    assert types.graph_type(source) == graph


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (SourceType("numeric", "numeric"), "unconstrained numeric"),
        (SourceType("numeric", "numeric", 19, 0), "19 digits do not fit a 64-bit integer"),
        (SourceType("numeric", "numeric", 30, 0), "30 digits do not fit a 64-bit integer"),
        (SourceType("numeric", "numeric", 16, 2), "16 significant digits do not fit a float"),
        (SourceType("money"), "money has no Neo4j type"),
        (SourceType("time without time zone"), "has no Neo4j type"),
        (SourceType("USER-DEFINED", "mood"), "USER-DEFINED has no Neo4j type"),
        (SourceType("ARRAY", "_numeric"), "a list of numeric has no exact Neo4j list"),
        (SourceType("ARRAY", "_jsonb"), "a list of jsonb"),
    ],
)
def test_source_types_that_would_change_value_are_refused(source, reason):
    with pytest.raises(types.UnsupportedTypeError, match=reason):
        types.graph_type(source)


@pytest.mark.parametrize(
    ("graph", "name", "header", "cast"),
    [
        ("text", "String", "", ""),
        ("bigint", "Integer", "long", ""),
        ("double precision", "Float", "double", ""),
        ("timestamp with time zone", "DateTime", "datetime", "datetime"),
        ("interval", "Duration", "duration", "duration"),
        ("bytea", "ByteArray", "byte[]", ""),
        ("text[]", "List<String>", "string[]", ""),
        ("integer[]", "List<Integer>", "long[]", ""),
        ("double precision[]", "List<Float>", "double[]", ""),
        ("boolean[]", "List<Boolean>", "boolean[]", ""),
        ("date[]", "List<Date>", "date[]", ""),
        ("timestamp without time zone[]", "List<LocalDateTime>", "localdatetime[]", ""),
    ],
)
def test_graph_types_map_to_neo4j_types(graph, name, header, cast):
    assert types.neo4j_type(graph) == types.Neo4jType(name, header, cast)


@pytest.mark.parametrize("graph", ["numeric", "uuid", "bytea[]", "interval[]", "jsonb"])
def test_graph_types_without_a_neo4j_type_are_refused(graph):
    with pytest.raises(types.UnsupportedTypeError, match="no Neo4j mapping"):
        types.neo4j_type(graph)


def test_graph_table_arrays_are_read_as_lists_of_their_element():
    assert types.graph_table_type("ARRAY", "_int8") == "bigint[]"
    assert types.graph_table_type("ARRAY", "_timestamptz") == "timestamp with time zone[]"
    assert types.graph_table_type("interval", "interval") == "interval"


def test_the_documented_mapping_is_the_one_in_the_code():
    doc = (PROJECT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = doc.split("### Type mapping")[1].split("\n\n")[2]
    documented = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        documented[cells[0].strip("`")] = (cells[2], cells[3].strip("`"))
    scalars = [t for t in types.graph_types() if types.element_type(t) is None]
    assert set(documented) == {*scalars, "<element>[]"}
    for graph in scalars:
        neo4j = types.neo4j_type(graph)
        assert documented[graph] == (neo4j.name, neo4j.header or "string")


def test_models_generate_refuses_a_numeric_that_would_lose_digits(tmp_path):
    wide = SourceColumn("balance", "numeric", "numeric", 30, 0)
    loose = SourceColumn("ratio", "numeric", "numeric")
    with pytest.raises(ConfigError) as refused:
        rendered(project(tmp_path), wide, loose)
    message = str(refused.value)
    assert "shop.orders.balance (numeric(30,0)): 30 digits do not fit a 64-bit integer" in message
    assert "shop.orders.ratio (numeric): an unconstrained numeric" in message
    assert "field_exclusion_rules" in message
    assert "cast it before c360 reads it" in message


def test_models_generate_refuses_an_unknown_type_instead_of_making_it_text(tmp_path):
    with pytest.raises(ConfigError, match=r"shop\.orders\.price \(money\): money has no Neo4j"):
        rendered(project(tmp_path), SourceColumn("price", "money"))


def test_only_columns_that_reach_a_graph_table_are_checked(tmp_path):
    wide = SourceColumn("balance", "numeric", "numeric", 30, 0)
    excluded = project(
        tmp_path / "excluded",
        {"field_exclusion_rules": ["shop,orders,balance,true,Too wide."]},
    )
    assert "balance" not in yaml_models(rendered(excluded, wide), "nodes")["node_order"]["columns"]
    _, order, day = CONTROL["node_label_mappings"]
    chosen = order.replace(",,false", ",placed_on total,false")
    rows = project(tmp_path / "narrowed", replace={"node_label_mappings": [chosen, day]})
    columns = yaml_models(rendered(rows, wide), "nodes")["node_order"]["columns"]
    # then the change columns every graph table ends with
    assert [c["name"] for c in columns] == [
        "order_id", "placed_on", "total", "c360_row_hash", "c360_batch"
    ]  # fmt: skip


def test_a_key_of_a_type_that_cannot_identify_a_node_is_refused(tmp_path):
    rows = project(tmp_path, {"node_label_mappings": ["Wait,shop,orders,wait,,true,true,W."]})
    with pytest.raises(ConfigError, match=r"shop\.orders\.wait \(interval\): key of Wait"):
        rendered(rows)


def test_contracts_carry_the_graph_types_and_the_value_tests(tmp_path):
    files = rendered(project(tmp_path))
    columns = {c["name"]: c for c in yaml_models(files, "nodes")["node_order"]["columns"]}
    assert {name: c["data_type"] for name, c in columns.items()} == {
        "order_id": "bigint",
        "placed_on": "date",
        "total": "double precision",
        "units": "bigint",
        "tags": "text[]",
        "paid_at": "timestamp with time zone",
        "wait": "interval",
        "receipt": "bytea",
        "c360_row_hash": "bigint",
        "c360_batch": "bigint",
    }
    assert columns["placed_on"]["data_tests"] == [
        {"finite_temporal": {"arguments": {"data_type": "date"}}}
    ]
    assert columns["paid_at"]["data_tests"] == [
        {"finite_temporal": {"arguments": {"data_type": "timestamp with time zone"}}}
    ]
    assert columns["tags"]["data_tests"] == ["storable_list"]
    assert "data_tests" not in columns["total"]
    assert "(numeric(10,2))" in columns["total"]["description"]
    edge = yaml_models(files, "edges")["edge_on_day"]
    end = next(c for c in edge["columns"] if c["name"] == "end_day")
    assert {"finite_temporal": {"arguments": {"data_type": "date"}}} in end["data_tests"]


ORDER = LabelPlan(
    "Order",
    "node_order",
    (Column("order_id", "bigint"),),
    (
        Column("tags", "text[]"),
        Column("days", "date[]"),
        Column("wait", "interval"),
        Column("receipt", "bytea"),
        Column("paid_at", "timestamp with time zone"),
    ),
)
DAY = LabelPlan("Day", "node_day", (Column("day", "date"),), ())
ON_DAY = TypePlan(
    "ON_DAY",
    "edge_on_day",
    "Order",
    "Day",
    (Column("start_order_id", "bigint"),),
    (Column("end_day", "date"),),
    ("order_id",),
    ("day",),
    (Column("waited", "interval"),),
)


def test_bulk_headers_type_lists_durations_and_byte_arrays():
    assert bulk.node_header(ORDER) == [
        ":ID(Order)",
        "order_id:long",
        "tags:string[]",
        "days:date[]",
        "wait:duration",
        "receipt:byte[]",
        "paid_at:datetime",
        ":LABEL",
    ]
    assert bulk.relationship_header(ON_DAY)[2] == "waited:duration"


def test_bulk_import_splits_list_elements_at_the_unit_separator():
    args = bulk.import_args([], "neo4j", Path("report.txt"))
    assert "--array-delimiter=U+001F" in args
    assert types.LIST_SEPARATOR == "\x1f"


def test_merge_rebuilds_durations_and_temporals_from_text_and_sends_lists_as_they_are():
    statement = merge.node_statement(ORDER)
    assert "`tags`: row[1], `days`: row[2], `wait`: duration(row[3])" in statement
    assert "`receipt`: row[4], `paid_at`: datetime(row[5])" in statement
    assert "`waited`: duration(row[2])" in merge.relationship_statement(ON_DAY)


def test_the_script_rebuilds_only_durations_from_text():
    statement = script._statement(ORDER)
    assert "`days`: row[2], `wait`: duration(row[3])" in statement
    assert "`paid_at`: row[5]" in statement


def test_the_script_refuses_byte_arrays_naming_the_column():
    with pytest.raises(ConfigError, match=r"graph\.node_order\.receipt: Cypher has no byte"):
        script.check_plan(GraphPlan((ORDER,), ()))
    script.check_plan(GraphPlan((DAY,), ()))


class RefusalError(ClientError):
    """A batch refused by Neo4j, as the driver raises it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self._text = message

    @property
    def message(self) -> str:  # type: ignore[override]
        return self._text


def test_a_refused_batch_names_the_column_of_the_value():
    statement = merge.node_statement(ORDER)
    rows: list[tuple[object, ...]] = [
        (1, ["a"], None, "P0M0DT0S", None, "2024-01-01T00:00:00+00:00"),
        (2, ["b"], None, "P0M0DT0S", None, "infinity"),
    ]
    refused = merge.refused_value(
        statement, rows, RefusalError('Text cannot be parsed to a DateTime\n"infinity"\n ^')
    )
    assert refused is not None
    assert refused.startswith("graph.node_order.paid_at: Neo4j cannot read 'infinity' as a")
    assert "finite_temporal" in refused
    nulls = [(3, ["c", None], None, None, None, None)]
    refused = merge.refused_value(
        statement, nulls, RefusalError("Collections containing null values can not be stored")
    )
    assert refused is not None
    assert refused.startswith("graph.node_order.tags: ")
    assert merge.refused_value(str(statement), rows, RefusalError('"infinity"')) is None
