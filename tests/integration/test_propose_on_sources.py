"""`models propose` on the reference sources, and the keys it reads on a database of odd cases.

The reference sources are the ones the session's `graph_tables` fixture loaded
(`samples load`); the proposal is compared with their keys (sources/*/schema.sql)
and with the default control rows of seeds/control/.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from c360.config import Settings
from c360.control.load import load_control_rows
from c360.control.model import CONTROL_DIR, NODE_FILE, RELATIONSHIP_FILE, ControlFile, Table
from c360.pg import pg_connection
from c360.samples.load import drop_database, recreate_database
from c360.transform.propose import STANDING_NOTE, propose
from c360.transform.source_keys import read_keys, read_source_keys
from graph_helpers import cli, pg_execute

PROJECT = Path(__file__).resolve().parents[2]
SOURCES = ("profiles", "streaming", "support", "core_banking", "kyc", "payments")

# Every column but the description, in the control file's order.
EXPECTED_NODES = {
    "profiles": [
        "Account,profiles,accounts,account_id,,false,true,false",
        "PaymentMethod,profiles,payment_methods,payment_method_id,,false,true,false",
        "Plan,profiles,plans,plan_id,,false,true,false",
        "Subscription,profiles,subscriptions,subscription_id,,false,true,false",
    ],
    "streaming": [
        "MediaContent,streaming,media_content,media_id,,false,true,false",
        "PlayEvent,streaming,play_events,event_id,,false,true,false",
    ],
    "support": [
        "Agent,support,agents,agent_id,,false,true,false",
        "TicketTag,support,ticket_tags,tag_id,,false,true,false",
        "Ticket,support,tickets,ticket_id,,false,true,false",
    ],
    "core_banking": [
        "BankAccount,core_banking,bank_accounts,account_id,,false,true,false",
        "Person,core_banking,persons,person_id,,false,true,false",
    ],
    "kyc": [
        "Address,kyc,addresses,address_id,,false,true,false",
        "Phone,kyc,phones,phone_id,,false,true,false",
    ],
    "payments": [
        "Transaction,payments,transactions,transaction_id,,false,true,false",
    ],
}
EXPECTED_RELATIONSHIPS = {
    "profiles": [
        "PAYMENT_METHOD_ACCOUNT,PaymentMethod,account_id,Account,account_id,,,,,,true,1,,,",
        "SUBSCRIPTION_ACCOUNT,Subscription,account_id,Account,account_id,,,,,,true,2,,,",
        "PLAN,Subscription,plan_id,Plan,plan_id,,,,,,true,3,,,",
    ],
    "streaming": [
        "MEDIA,PlayEvent,media_id,MediaContent,media_id,,,,,,true,1,,,",
    ],
    "support": [
        "TICKET_TAG_LINK,Ticket,ticket_id,TicketTag,tag_id,"
        "support,ticket_tag_link,ticket_id,tag_id,,true,1,,,",
    ],
    "core_banking": [
        "OWNER_PERSON,BankAccount,owner_person_id,Person,person_id,,,,,,true,1,,,",
    ],
    # person_id points into another database and a transfer may name an
    # external account: no foreign keys, so no relationships
    "kyc": [],
    "payments": [],
}
# The foreign key each relationship's description names.
EXPECTED_KEYS = {
    "profiles": [
        "payment_methods_account_id_fkey",
        "subscriptions_account_id_fkey",
        "subscriptions_plan_id_fkey",
    ],
    "streaming": ["play_events_media_id_fkey"],
    "support": ["ticket_tag_link_ticket_id_fkey, ticket_tag_link_tag_id_fkey"],
    "core_banking": ["bank_accounts_owner_person_id_fkey"],
    "kyc": [],
    "payments": [],
}

Column = tuple[Table, str]
Join = frozenset[frozenset[Column]]


@pytest.fixture(scope="module")
def proposals(
    graph_tables: Settings, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[list[dict[str, str]], list[dict[str, str]], str]]:
    """Each reference source's proposed label rows, relationship rows and printed report."""
    done = {}
    for source in SOURCES:
        output = tmp_path_factory.mktemp(f"proposal_{source}")
        result = cli(graph_tables, "models", "propose", source, "--output", str(output))
        assert result.exit_code == 0, result.output
        done[source] = (
            read_rows(output, NODE_FILE),
            read_rows(output, RELATIONSHIP_FILE),
            result.stdout,
        )
    return done


def read_rows(directory: Path, control_file: ControlFile) -> list[dict[str, str]]:
    with (directory / control_file.file).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == control_file.columns
        return list(reader)


def without_description(rows: list[dict[str, str]], control_file: ControlFile) -> list[str]:
    columns = [c for c in control_file.columns if c != "description"]
    return [",".join(row[c] for c in columns) for row in rows]


@pytest.mark.parametrize("source", SOURCES)
def test_each_reference_source_gets_exactly_the_rows_its_keys_give(proposals, source):
    nodes, relationships, report = proposals[source]
    assert without_description(nodes, NODE_FILE) == EXPECTED_NODES[source]
    assert without_description(relationships, RELATIONSHIP_FILE) == EXPECTED_RELATIONSHIPS[source]
    assert all("primary key" in row["description"] for row in nodes)
    for row, key in zip(relationships, EXPECTED_KEYS[source], strict=True):
        assert key in row["description"]
    # every table has a primary key and every foreign key one column: nothing left out
    assert report == f"note: {STANDING_NOTE}\n"


def label_tables(rows: list[dict[str, str]]) -> dict[str, Table]:
    """Each label's table. A label whose rows come from a model of the project
    (BankAccount: bank accounts and external counterparties) stands on the source
    table that extends it under the same key: its keys are the model's keys."""
    tables = {
        row["label"]: Table(row["source_name"] or None, row["table_name"])
        for row in rows
        if row["is_extension"] != "true"
    }
    for row in rows:
        base = tables.get(row["label"])
        if row["is_extension"] == "true" and row["source_name"] and base and not base.source_name:
            tables[row["label"]] = Table(row["source_name"], row["table_name"])
    return tables


def join_of(row: Mapping[str, str], tables: Mapping[str, Table]) -> Join:
    """The equalities a relationship joins on, whatever its direction."""
    start, end = tables[row["from_label"]], tables[row["to_label"]]
    if not row["via_table_name"]:
        return frozenset({frozenset({(start, row["from_column"]), (end, row["to_column"])})})
    via = Table(row["via_source_name"] or None, row["via_table_name"])
    return frozenset(
        {
            frozenset({(start, row["from_column"]), (via, row["via_from_column"])}),
            frozenset({(via, row["via_to_column"]), (end, row["to_column"])}),
        }
    )


@pytest.fixture(scope="module")
def default_rows() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The default rows of seeds/control/."""
    return read_rows(PROJECT / CONTROL_DIR, NODE_FILE), read_rows(
        PROJECT / CONTROL_DIR, RELATIONSHIP_FILE
    )


def test_every_default_relationship_with_a_foreign_key_behind_it_is_proposed(
    graph_tables, proposals, default_rows
):
    rows = load_control_rows(PROJECT)
    keyed: set[frozenset[Column]] = set()
    for source in SOURCES:
        for table in read_source_keys(graph_tables, rows.source(source), os.environ):
            for fk in table.foreign_keys:
                if len(fk.columns) == 1:
                    keyed.add(
                        frozenset(
                            {
                                (Table(source, table.name), fk.columns[0]),
                                (Table(source, fk.referenced_table), fk.referenced_columns[0]),
                            }
                        )
                    )
    proposed_nodes = [row for source in SOURCES for row in proposals[source][0]]
    proposed_tables = label_tables(proposed_nodes)
    proposed = {join_of(row, proposed_tables) for source in SOURCES for row in proposals[source][1]}
    nodes, relationships = default_rows
    default_tables = label_tables([row for row in nodes if row["is_active"] == "true"])
    backed = [
        row
        for row in relationships
        if row["is_active"] == "true" and join_of(row, default_tables) <= keyed
    ]
    assert {row["relationship_type"] for row in backed} == {
        "HAS_PAYMENT_METHOD",
        "HAS_SUBSCRIPTION",
        "SUBSCRIBED_TO",
        "PLAYED",
        "TAGGED_WITH",
        "OWNS",
    }
    for row in backed:
        assert join_of(row, default_tables) in proposed, row["relationship_type"]


def test_every_default_label_keyed_by_its_tables_primary_key_is_proposed(
    graph_tables, proposals, default_rows
):
    rows = load_control_rows(PROJECT)
    primary_keys = {
        Table(source, table.name): table.primary_key
        for source in SOURCES
        for table in read_source_keys(graph_tables, rows.source(source), os.environ)
        if table.primary_key
    }
    proposed = {
        (Table(row["source_name"], row["table_name"]), row["key_columns"])
        for source in SOURCES
        for row in proposals[source][0]
    }
    junctions = {
        Table(row["via_source_name"], row["via_table_name"])
        for source in SOURCES
        for row in proposals[source][1]
        if row["via_table_name"]
    }
    nodes = default_rows[0]
    # identity nodes (one_node_per_key) are keyed by a column, not the primary key
    labels = [
        row
        for row in nodes
        if row["is_active"] == "true"
        and row["is_extension"] != "true"
        and row["one_node_per_key"] == "false"
        and Table(row["source_name"] or None, row["table_name"]) in primary_keys
    ]
    assert labels, "no default label is on a table with a primary key"
    for row in labels:
        table = Table(row["source_name"], row["table_name"])
        if table in junctions:
            # a junction table (TicketTagLink's) is proposed as the relationship through it
            assert row["key_columns"].split() == list(primary_keys[table])
            continue
        assert (table, row["key_columns"]) in proposed, row["label"]


ODD_KEYS = """
create schema reference;
create table reference.currencies (code text primary key);
create table shops (shop_id integer, region text, primary key (region, shop_id));
create table orders (
    order_id integer primary key,
    legacy integer,
    region text,
    shop_id integer,
    currency text constraint orders_currency_fk references reference.currencies (code),
    constraint orders_shop_fk foreign key (shop_id, region) references shops (shop_id, region)
);
alter table orders drop column legacy;
create table audit_log (order_id integer constraint audit_order_fk references orders, note text);
create table events (
    event_id integer,
    happened_on date,
    order_id integer constraint events_order_fk references orders,
    primary key (event_id, happened_on)
) partition by range (happened_on);
create table events_2024 partition of events for values from ('2024-01-01') to ('2025-01-01');
create table event_flags (
    flag_id integer primary key,
    event_id integer,
    happened_on date,
    constraint event_flags_event_fk foreign key (event_id, happened_on) references events
);
create table products (product_id integer primary key);
create table order_products (
    product_id integer constraint op_product_fk references products,
    order_id integer constraint op_order_fk references orders,
    quantity integer,
    primary key (order_id, product_id)
);
"""


@pytest.fixture(scope="module")
def odd_database(graph_tables: Settings) -> Iterator[str]:
    """A database of the cases the reference sources lack, on the session's server."""
    name = "c360_test_propose_keys"
    recreate_database(graph_tables, name)
    pg_execute(graph_tables, ODD_KEYS, name)
    yield name
    drop_database(graph_tables, name)


def test_keys_are_read_in_constraint_order_without_partitions_or_other_schemas(
    graph_tables, odd_database
):
    with pg_connection(graph_tables.postgres.dsn(odd_database)) as conn:
        tables = {table.name: table for table in read_keys(conn)}
    assert list(tables) == [
        "audit_log",
        "event_flags",
        "events",
        "order_products",
        "orders",
        "products",
        "shops",
    ]
    orders = tables["orders"]
    assert orders.columns == ("order_id", "region", "shop_id", "currency")
    assert [str(fk) for fk in orders.foreign_keys] == [
        "orders_shop_fk (shop_id, region) -> shops (shop_id, region)",
        "orders_currency_fk (currency) -> reference.currencies (code)",
    ]
    assert tables["shops"].primary_key == ("region", "shop_id")
    assert tables["order_products"].primary_key == ("order_id", "product_id")
    assert tables["audit_log"].primary_key == ()
    # the partition's copies of the foreign keys are not read a second time
    assert [fk.name for fk in tables["event_flags"].foreign_keys] == ["event_flags_event_fk"]
    assert [fk.name for fk in tables["events"].foreign_keys] == ["events_order_fk"]

    proposal = propose("shop", list(tables.values()))
    assert [(n.label, n.key_columns) for n in proposal.nodes] == [
        ("EventFlag", ("flag_id",)),
        ("Event", ("event_id", "happened_on")),
        ("Order", ("order_id",)),
        ("Product", ("product_id",)),
        ("Shop", ("region", "shop_id")),
    ]
    assert [
        (r.relationship_type, r.from_label, r.to_label, r.via_table_name, r.property_columns)
        for r in proposal.relationships
    ] == [
        ("ORDER", "Event", "Order", None, ()),
        ("ORDER_PRODUCTS", "Order", "Product", "order_products", ("quantity",)),
    ]
    assert [str(u) for u in proposal.unmapped] == [
        "table audit_log: no primary key, so no label (a label needs a key)",
        "foreign key audit_order_fk (order_id) -> orders (order_id) on audit_log: "
        "audit_log has no proposed label",
        "foreign key event_flags_event_fk (event_id, happened_on) -> events (event_id, "
        "happened_on) on event_flags: more than one column, and a relationship joins on "
        "one: write its row by hand",
        "foreign key orders_shop_fk (shop_id, region) -> shops (shop_id, region) on orders: "
        "more than one column, and a relationship joins on one: write its row by hand",
        "foreign key orders_currency_fk (currency) -> reference.currencies (code) on orders: "
        "reference.currencies has no proposed label (outside the proposal)",
    ]


def test_an_unknown_source_is_refused_naming_the_rows(graph_tables, tmp_path):
    result = cli(graph_tables, "models", "propose", "billing", "--output", str(tmp_path))
    assert result.exit_code == 2
    assert "'billing' is not a row of seeds/control/source_databases.csv" in result.stderr
    assert list(tmp_path.iterdir()) == []
