"""The sync's SQL: what is diffed against the record, what is read back, what is deleted."""

from __future__ import annotations

from c360.export import sync
from c360.export.catalog import Column, LabelPlan, TypePlan
from c360.export.state import TableState
from sql_text import text

TAG = LabelPlan("Tag", "node_tag", (Column("tag_id", "integer"),), (Column("name", "text"),))
TAGGED = TypePlan(
    "TAGGED_WITH",
    "edge_tagged_with",
    "Ticket",
    "Tag",
    (Column("start_ticket_id", "text"),),
    (Column("end_tag_id", "integer"),),
    ("ticket_id",),
    ("tag_id",),
    (),
)


def test_the_diff_full_joins_the_graph_table_and_the_record_on_the_keys():
    statement = text(sync._diff_sql(TableState(1, TAG, "t1_node_tag", 10), "d1_node_tag"))
    assert statement.startswith('create unlogged table "c360_state"."d1_node_tag" as select')
    assert 'from "graph"."node_tag" g' in statement
    assert 'full join "c360_state"."t1_node_tag" s on "g"."tag_id" = "s"."tag_id"' in statement
    # insert where the record lacks the key, delete where the table does, else update
    assert 'case when "s"."c360_hash" is null then \'i\'' in statement
    assert "when \"g\".\"c360_hash\" is null then 'd' else 'u' end" in statement
    assert 'where "g"."c360_hash" is distinct from "s"."c360_hash"' in statement
    assert 'hash_record_extended(row("g"."tag_id", "g"."name"), 0)' in statement


def test_an_edge_is_keyed_by_its_start_and_end_columns():
    entry = TableState(1, TAGGED, "t1_edge_tagged_with", 5)
    statement = text(sync._diff_sql(entry, "d1_edge_tagged_with"))
    assert (
        'on "g"."start_ticket_id" = "s"."start_ticket_id" and "g"."end_tag_id" = "s"."end_tag_id"'
    ) in statement


def test_deletes_read_their_keys_from_the_record_side_and_upserts_the_new_row():
    diff = sync.TableDiff(TableState(1, TAG, "t1_node_tag", 10), "d1_node_tag", 1, 2, 3)
    assert text(sync._deleted_sql(diff)) == (
        'select "c360_k0" from "c360_state"."d1_node_tag" where "c360_op" = \'d\''
    )
    assert text(sync._upserted_sql(diff)) == (
        'select "tag_id", "name" from "c360_state"."d1_node_tag" where "c360_op" <> \'d\''
    )
    assert diff.changed == 6


def test_relationships_are_deleted_between_their_end_nodes():
    statement = sync.delete_statement(TAGGED)
    assert statement.startswith("UNWIND $rows AS row MATCH (a:`Ticket` {`ticket_id`: row[0]})")
    assert "-[r:`TAGGED_WITH`]->(b:`Tag` {`tag_id`: row[1]}) DELETE r" in statement
