"""Pure unit tests: names, literals, statements, headers; no server needed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from c360 import queries
from c360.errors import ConfigError
from c360.export import bulk, cypher, merge, script, state, sync
from c360.export.audit import redact
from c360.export.catalog import Column, GraphPlan, LabelPlan, TypePlan
from c360.export.lock import lock_key

ACCOUNT = LabelPlan(
    "Account",
    "node_account",
    (Column("account_id", "text"),),
    (
        Column("email", "text"),
        Column("created_at", "timestamp with time zone"),
        Column("score", "double precision"),
        Column("active", "boolean"),
    ),
)
LINK = LabelPlan(
    "TicketTagLink",
    "node_ticket_tag_link",
    (Column("ticket_id", "text"), Column("tag_id", "bigint")),
    (),
)
OWNS = TypePlan(
    "HAS_LINK",
    "edge_has_link",
    "Account",
    "TicketTagLink",
    (Column("start_account_id", "text"),),
    (Column("end_ticket_id", "text"), Column("end_tag_id", "bigint")),
    ("account_id",),
    ("ticket_id", "tag_id"),
    (Column("since", "date"),),
)


@pytest.mark.parametrize("name", ["Account", "HAS_PAYMENT_METHOD", "IPAddress", "A1_b"])
def test_valid_labels_pass(name):
    assert cypher.label(name) == f"`{name}`"


@pytest.mark.parametrize(
    "name", ["", "account", "1Account", "Acc`ount", "Acc ount", "A-B", "A}) DETACH DELETE (n"]
)
def test_unsafe_labels_are_refused(name):
    with pytest.raises(ConfigError):
        cypher.check_label(name)


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("email", "`email`"),
        ('a"b', '`a"b`'),
        ("with space", "`with space`"),
        ("back`tick", "`back``tick`"),
        ("da-sh", "`da-sh`"),
        ("prénom", "`prénom`"),
        ("1x", "`1x`"),
        # Neo4j reads \uXXXX inside backticks: `x\u0060y` would end the name at x
        ("x\\u0060y", "`x\\u005cu0060y`"),
        ("C:\\users", "`C:\\u005cusers`"),
        ("two\nlines", "`two\\u000alines`"),
        ("`}) DETACH DELETE (n", "```}) DETACH DELETE (n`"),
    ],
)
def test_any_property_name_is_backtick_quoted(name, quoted):
    assert cypher.prop(name) == quoted


def test_an_empty_property_name_is_refused():
    with pytest.raises(ConfigError):
        cypher.check_property("")


def test_awkward_property_names_in_a_merge_stay_on_one_line():
    statement = cypher.merge_nodes("Person", ['a"b'], ["back`tick", "new\nline"], "$rows")
    assert statement == (
        'UNWIND $rows AS row MERGE (n:`Person` {`a"b`: row[0]}) '
        "SET n += {`back``tick`: row[1], `new\\u000aline`: row[2]}"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (-7, "-7"),
        (1.5, "1.5"),
        ("plain", "'plain'"),
        ("O'Brien", "'O\\'Brien'"),
        ("back\\slash", "'back\\\\slash'"),
        ('say "hi"', "'say \"hi\"'"),
        ("two\nlines\r\tx", "'two\\nlines\\r\\tx'"),
        ("bell\x07", "'bell\\u0007'"),
        ("", "''"),
        ("Zoë 東京 🎬", "'Zoë 東京 🎬'"),
        (date(2024, 2, 29), "date('2024-02-29')"),
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "datetime('2024-01-02T03:04:05+00:00')"),
        (
            datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone(timedelta(hours=2))),
            "datetime('2024-01-02T03:04:05.678000+02:00')",
        ),
        (datetime(2024, 1, 2, 3, 4, 5), "localdatetime('2024-01-02T03:04:05')"),
        ([1, "a", None], "[1, 'a', null]"),
        ((("x", 1),), "[['x', 1]]"),
    ],
)
def test_literals(value, expected):
    assert cypher.literal(value) == expected


def test_literal_never_spans_lines():
    assert "\n" not in cypher.literal(["a\nb", "c\u2028d", "e\rf"])


@pytest.mark.parametrize("value", [float("nan"), float("inf"), object()])
def test_literal_refuses_what_cypher_cannot_hold(value):
    with pytest.raises(ConfigError):
        cypher.literal(value)


def test_merge_nodes_lists_every_property_so_nulls_remove():
    statement = cypher.merge_nodes("Account", ["account_id"], ["email", "created_at"], "$rows")
    assert statement == (
        "UNWIND $rows AS row MERGE (n:`Account` {`account_id`: row[0]}) "
        "SET n += {`email`: row[1], `created_at`: row[2]}"
    )


def test_merge_nodes_composite_key_without_properties():
    statement = cypher.merge_nodes("TicketTagLink", ["ticket_id", "tag_id"], [], "$rows")
    assert statement == (
        "UNWIND $rows AS row MERGE (n:`TicketTagLink` {`ticket_id`: row[0], `tag_id`: row[1]})"
    )


def test_merge_relationships_offsets_end_keys_and_properties():
    statement = cypher.merge_relationships(
        "HAS_LINK", "Account", ["account_id"], "TicketTagLink", ["ticket_id", "tag_id"],
        ["since"], "$rows",
    )  # fmt: skip
    assert statement == (
        "UNWIND $rows AS row MATCH (a:`Account` {`account_id`: row[0]}) "
        "MATCH (b:`TicketTagLink` {`ticket_id`: row[1], `tag_id`: row[2]}) "
        "MERGE (a)-[r:`HAS_LINK`]->(b) SET r += {`since`: row[3]}"
    )


def test_create_relationships_is_merge_relationships_with_create():
    statement = cypher.merge_relationships(
        "USED_IP", "Account", ["account_id"], "IPAddress", ["ip_address"], [], "$rows",
        create=True,
    )  # fmt: skip
    assert statement == (
        "UNWIND $rows AS row MATCH (a:`Account` {`account_id`: row[0]}) "
        "MATCH (b:`IPAddress` {`ip_address`: row[1]}) CREATE (a)-[r:`USED_IP`]->(b)"
    )


TRANSFERRED = TypePlan(
    "TRANSFERRED",
    "edge_transferred",
    "Account",
    "Account",
    (Column("start_account_id", "text"),),
    (Column("end_account_id", "text"),),
    ("account_id",),
    ("account_id",),
    (Column("transfer_id", "bigint"), Column("amount", "double precision")),
    (Column("transfer_id", "bigint"),),
)


def test_a_keyed_relationship_is_merged_and_deleted_by_its_key_too():
    merged = merge.relationship_statement(TRANSFERRED)
    assert merged == (
        "UNWIND $rows AS row MATCH (a:`Account` {`account_id`: row[0]}) "
        "MATCH (b:`Account` {`account_id`: row[1]}) "
        # one seek finds the key wherever it is
        "OPTIONAL MATCH ()-[held:`TRANSFERRED` {`transfer_id`: row[2]}]->() "
        "WITH a, b, row, held, coalesce(startNode(held) = a AND endNode(held) = b, false) AS here "
        # between other nodes (the transfer was moved): deleted, then created here
        "FOREACH (_ IN CASE WHEN held IS NOT NULL AND NOT here THEN [1] ELSE [] END | DELETE held) "
        "FOREACH (_ IN CASE WHEN here THEN [1] ELSE [] END | "
        "SET held += {`transfer_id`: row[2], `amount`: row[3]}) "
        "FOREACH (_ IN CASE WHEN here THEN [] ELSE [1] END | "
        "CREATE (a)-[:`TRANSFERRED` {`transfer_id`: row[2], `amount`: row[3]}]->(b))"
    )
    # a new type: one CREATE per junction row, parallel relationships kept
    assert "CREATE (a)-[r:`TRANSFERRED`]->(b)" in merge.relationship_statement(
        TRANSFERRED, empty=True
    )
    assert sync.delete_statement(TRANSFERRED) == (
        "UNWIND $rows AS row MATCH (a:`Account` {`account_id`: row[0]})"
        "-[r:`TRANSFERRED` {`transfer_id`: row[2]}]->(b:`Account` {`account_id`: row[1]}) "
        "DELETE r"
    )
    # the record identifies it by its ends and its key: moving it is a delete and an insert
    assert [c.name for c in state.key_columns(TRANSFERRED)] == [
        "start_account_id",
        "end_account_id",
        "transfer_id",
    ]


def test_a_relationship_key_gets_a_uniqueness_constraint_community_enforces():
    assert merge.constraint_statements(GraphPlan((ACCOUNT,), (TRANSFERRED, OWNS))) == [
        cypher.unique_constraint("Account", ["account_id"]),
        "CREATE CONSTRAINT `c360_rel_transferred_key` IF NOT EXISTS "
        "FOR ()-[r:`TRANSFERRED`]-() REQUIRE (r.`transfer_id`) IS UNIQUE",
    ]


def test_clearing_a_label_first_deletes_its_relationships_a_batch_at_a_time():
    assert cypher.delete_touching_relationships_batch("Account") == (
        "MATCH (:`Account`)-[r]-() WITH DISTINCT r LIMIT $limit DELETE r RETURN count(*) AS deleted"
    )


def test_delete_nodes_by_key_takes_their_relationships():
    assert cypher.delete_nodes("TicketTagLink", ["ticket_id", "tag_id"], "$rows") == (
        "UNWIND $rows AS row MATCH (n:`TicketTagLink` {`ticket_id`: row[0], `tag_id`: row[1]}) "
        "DETACH DELETE n"
    )


def test_delete_relationships_offsets_end_keys():
    statement = cypher.delete_relationships(
        "HAS_LINK", "Account", ["account_id"], "TicketTagLink", ["ticket_id", "tag_id"], "$rows"
    )
    assert statement == (
        "UNWIND $rows AS row MATCH (a:`Account` {`account_id`: row[0]})-[r:`HAS_LINK`]->"
        "(b:`TicketTagLink` {`ticket_id`: row[1], `tag_id`: row[2]}) DELETE r"
    )


def test_state_shape_and_long_names():
    assert state.shape(LINK) == "node_ticket_tag_link|ticket_id,tag_id|ticket_id:text,tag_id:bigint"
    assert [c.name for c in state.key_columns(OWNS)] == [c.name for c in OWNS.start + OWNS.end]
    long = LabelPlan("Long", "node_" + "x" * 70, LINK.keys, ())
    name = state.table_name("t", 12, long)
    assert len(name) <= 63
    assert name != state.table_name("d", 12, long)


def test_unique_constraint_is_named_and_idempotent():
    assert cypher.unique_constraint("TicketTagLink", ["ticket_id", "tag_id"]) == (
        "CREATE CONSTRAINT `c360_tickettaglink_key` IF NOT EXISTS FOR (n:`TicketTagLink`) "
        "REQUIRE (n.`ticket_id`, n.`tag_id`) IS UNIQUE"
    )


def test_node_header_keeps_the_key_as_a_typed_property():
    assert bulk.node_header(ACCOUNT) == [
        ":ID(Account)",
        "account_id",
        "email",
        "created_at:datetime",
        "score:double",
        "active:boolean",
        ":LABEL",
    ]
    assert bulk.node_header(LINK) == [":ID(TicketTagLink)", "ticket_id", "tag_id:long", ":LABEL"]


def test_node_header_quotes_awkward_names_as_csv_and_spells_out_a_colons_type():
    person = LabelPlan(
        "Person",
        "node_person",
        (Column("id", "bigint"),),
        (Column('a"b', "text"), Column("x,y", "text"), Column("at:when", "date"),
         Column("ns:name", "text"), Column("prénom", "text")),
    )  # fmt: skip
    header = bulk.node_header(person)
    assert header == [
        ":ID(Person)", "id:long", 'a"b', "x,y", "at:when:date", "ns:name:string", "prénom",
        ":LABEL",
    ]  # fmt: skip
    assert bulk.header_line(header) == (
        ':ID(Person),id:long,"a""b","x,y",at:when:date,ns:name:string,prénom,:LABEL\n'
    )


@pytest.mark.parametrize("name", ["amount (usd)", "a{b}", "f)"])
def test_node_header_refuses_what_neo4j_admin_reads_as_group_or_options(name):
    plan = LabelPlan("Person", "node_person", (Column("id", "bigint"),), (Column(name, "text"),))
    with pytest.raises(ConfigError, match=r"node_person.*--mode merge"):
        bulk.node_header(plan)


def test_relationship_header_names_the_id_groups():
    assert bulk.relationship_header(OWNS) == [
        ":START_ID(Account)",
        ":END_ID(TicketTagLink)",
        "since:date",
        ":TYPE",
    ]


def test_import_args_overwrite_and_allow_multiline(tmp_path):
    files = [
        bulk.CsvFile(ACCOUNT, tmp_path / "h1", tmp_path / "d1", 3),
        bulk.CsvFile(OWNS, tmp_path / "h2", tmp_path / "d2", 2),
    ]
    args = bulk.import_args(files, "neo4j", tmp_path / "report")
    assert args[:4] == ["database", "import", "full", "neo4j"]
    assert "--overwrite-destination=true" in args
    assert "--multiline-fields=true" in args
    assert f"--nodes={tmp_path / 'h1'},{tmp_path / 'd1'}" in args
    assert f"--relationships={tmp_path / 'h2'},{tmp_path / 'd2'}" in args


def test_script_writes_one_statement_per_line(tmp_path):
    path = tmp_path / "graph.cypher"
    rows = [("a'1", "x\ny", datetime(2024, 1, 1, tzinfo=UTC), 1.0, True)]
    with path.open("w") as out:
        script.write_header(out, GraphPlan((ACCOUNT,), ()))
        assert script.write_table(out, ACCOUNT, [rows, rows]) == 2
    statements = list(script.statements(path.read_text().splitlines()))
    assert statements[0].startswith("CREATE CONSTRAINT")
    assert statements[-1].startswith("UNWIND [['a\\'1', 'x\\ny', datetime(")
    assert len(statements) == 4


def test_plan_selection():
    plan = GraphPlan((ACCOUNT, LINK), (OWNS,))
    assert plan.select().tables == plan.tables
    assert plan.select(["Account"]).types == ()
    assert plan.select(["Account", "TicketTagLink"]).types == (OWNS,)
    assert plan.select(types=["HAS_LINK"]).labels == ()
    with pytest.raises(ConfigError, match="known labels"):
        plan.select(["Nope"])


def test_redact_removes_credentials():
    assert (
        redact("neo4j+s://neo4j:s3cret@db.example:7687/neo4j") == "neo4j+s://db.example:7687/neo4j"
    )
    assert "s3cret" not in redact("connection failed: host=x password=s3cret user=y")


def test_lock_key_is_stable_and_signed_64_bit():
    key = lock_key("bolt://127.0.0.1:57687/neo4j")
    assert key == lock_key("bolt://127.0.0.1:57687/neo4j")
    assert key != lock_key("bolt://127.0.0.1:57687/other")
    assert -(2**63) <= key < 2**63


def test_eleven_packaged_queries():
    found = queries.all_queries()
    assert [q.number for q in found] == list(range(1, 12))
    assert queries.find("1").stem == "01_payment_fraud"
    assert queries.find("headline_shared_card_and_ip").number == 11
    with pytest.raises(ConfigError):
        queries.find("nope")


def test_casts_rebuild_temporals_sent_as_text_by_row_position():
    statement = cypher.merge_relationships(
        "PLAYED", "Account", ["account_id"], "Media", ["media_id"], ["at", "day"], "$rows",
        ["", "", "datetime", "date"],
    )  # fmt: skip
    assert statement == (
        "UNWIND $rows AS row MATCH (a:`Account` {`account_id`: row[0]}) "
        "MATCH (b:`Media` {`media_id`: row[1]}) "
        "MERGE (a)-[r:`PLAYED`]->(b) SET r += {`at`: datetime(row[2]), `day`: date(row[3])}"
    )


def test_casts_are_checked():
    with pytest.raises(ConfigError):
        cypher.create_nodes("Account", ["account_id"], [], "$rows", ["toString"])
