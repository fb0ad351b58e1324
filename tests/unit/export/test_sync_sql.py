"""The sync's SQL: what is diffed against the record, what is read back, what is deleted."""

from __future__ import annotations

from c360.export import sync
from c360.export.catalog import Column, LabelPlan, TypePlan
from c360.export.state import Position, TableState
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
SEEN = Position(table_oid=16384, change_batch=41)


def test_the_diff_full_joins_the_graph_table_and_the_record_on_the_keys():
    statement = text(sync._diff_sql(TableState(1, TAG, "t1_node_tag", 10, SEEN), "d1_node_tag"))
    assert statement.startswith('create unlogged table "c360_state"."d1_node_tag" as select')
    assert 'from "graph"."node_tag" g' in statement
    assert 'full join "c360_state"."t1_node_tag" s on "g"."tag_id" = "s"."tag_id"' in statement
    # insert where the record lacks the key, delete where the table does, else update
    assert 'case when "s"."c360_hash" is null then \'i\'' in statement
    assert "when \"g\".\"c360_hash\" is null then 'd' else 'u' end" in statement
    assert 'where "g"."c360_hash" is distinct from "s"."c360_hash"' in statement
    # the hash dbt computed once, in the graph table
    assert '"g"."c360_row_hash" as "c360_hash" from "graph"."node_tag" g' in statement


def test_a_table_changed_in_place_is_read_past_the_recorded_batch_only():
    statement = text(sync._change_diff_sql(TableState(1, TAG, "t1_node_tag", 10, SEEN), "d", 41))
    # rows of later batches, through the c360_batch index
    assert 'from "graph"."node_tag" g  where "g"."c360_batch" > 41' in statement
    # an upsert unless the record holds the same hash
    assert 'left join "c360_state"."t1_node_tag" s on "c"."tag_id" = "s"."tag_id"' in statement
    assert 'where c."c360_hash" is distinct from s."c360_hash"' in statement
    # removals logged later, typed by the graph table's row type, deleted only
    # when the record holds them and the key is not back in the table
    assert (
        'jsonb_populate_record(cast(null as "graph"."node_tag"), r.row_key) k'
        "  where r.table_name = 'node_tag' and r.c360_batch > 41"
    ) in statement
    assert 'from removed r join "c360_state"."t1_node_tag" s on "r"."tag_id" = "s"."tag_id"' in (
        statement
    )
    assert (
        'where not exists (select from "graph"."node_tag" g where "g"."tag_id" = "r"."tag_id")'
        in (statement)
    )


def test_an_edge_is_keyed_by_its_start_and_end_columns():
    entry = TableState(1, TAGGED, "t1_edge_tagged_with", 5, SEEN)
    statement = text(sync._diff_sql(entry, "d1_edge_tagged_with"))
    assert (
        'on "g"."start_ticket_id" = "s"."start_ticket_id" and "g"."end_tag_id" = "s"."end_tag_id"'
    ) in statement


def test_deletes_read_their_keys_from_the_record_side_and_upserts_the_new_row():
    diff = sync.TableDiff(TableState(1, TAG, "t1_node_tag", 10, SEEN), "d1_node_tag", 1, 2, 3, SEEN)
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
