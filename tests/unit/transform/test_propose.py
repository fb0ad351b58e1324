"""Control rows proposed from a source's keys, on hand-written catalog descriptions."""

from __future__ import annotations

import csv

import pytest
from c360.control.load import load_control_rows
from c360.control.model import (
    CONTROL_DIR,
    EXCLUSION_FILE,
    NODE_FILE,
    RELATIONSHIP_FILE,
    SOURCE_FILE,
    TRACKING_FILE,
    ControlRows,
    RowRef,
    SourceDatabase,
)
from c360.errors import ConfigError
from c360.transform.propose import (
    Proposal,
    label_name,
    proposable_source,
    proposal_directory,
    propose,
    type_name,
    write_proposal,
)
from c360.transform.source_keys import ForeignKey, SourceTable


def table(
    name: str, columns: str, key: str = "", foreign_keys: tuple[ForeignKey, ...] = ()
) -> SourceTable:
    return SourceTable(name, tuple(columns.split()), tuple(key.split()), foreign_keys)


def fk(name: str, columns: str, referenced: str, referenced_columns: str) -> ForeignKey:
    return ForeignKey(name, tuple(columns.split()), referenced, tuple(referenced_columns.split()))


ACCOUNTS = table("accounts", "account_id email", "account_id")
PLANS = table("plans", "plan_id plan_name", "plan_id")
TAGS = table("tags", "tag_id name", "tag_id")


def labels(proposal: Proposal) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(n.label, n.table_name, n.key_columns) for n in proposal.nodes}


def joins(proposal: Proposal) -> list[tuple[str, ...]]:
    return [
        (r.relationship_type, r.from_label, r.from_column, r.to_label, r.to_column)
        for r in proposal.relationships
    ]


def unmapped(proposal: Proposal) -> list[str]:
    return [str(u) for u in proposal.unmapped]


@pytest.mark.parametrize(
    ("table_name", "label"),
    [
        ("accounts", "Account"),
        ("payment_methods", "PaymentMethod"),
        ("play_events", "PlayEvent"),
        ("media_content", "MediaContent"),
        ("addresses", "Address"),
        ("categories", "Category"),
        ("boxes", "Box"),
        ("status", "Status"),
        ("ticket_tag_link", "TicketTagLink"),
    ],
)
def test_a_label_is_the_table_name_singular_in_pascal_case(table_name, label):
    assert label_name(table_name) == label


@pytest.mark.parametrize(
    ("name", "relationship_type"),
    [("account_id", "ACCOUNT"), ("plan_id", "PLAN"), ("ticket_tag_link", "TICKET_TAG_LINK")],
)
def test_a_type_is_the_name_upper_cased_without_its_id(name, relationship_type):
    assert type_name(name) == relationship_type


def test_a_table_with_a_primary_key_is_a_label_and_a_foreign_key_a_relationship():
    subscriptions = table(
        "subscriptions",
        "subscription_id account_id plan_id status",
        "subscription_id",
        (
            fk("subscriptions_account_fk", "account_id", "accounts", "account_id"),
            fk("subscriptions_plan_fk", "plan_id", "plans", "plan_id"),
        ),
    )
    proposal = propose("profiles", [subscriptions, PLANS, ACCOUNTS])
    assert [(n.label, n.key_columns) for n in proposal.nodes] == [
        ("Account", ("account_id",)),
        ("Plan", ("plan_id",)),
        ("Subscription", ("subscription_id",)),
    ]
    node = proposal.nodes[0]
    assert (node.source_name, node.property_columns, node.one_node_per_key) == (
        "profiles",
        (),
        False,
    )
    assert (node.is_active, node.is_extension) == (True, False)
    assert "primary key" in node.description
    assert joins(proposal) == [
        ("ACCOUNT", "Subscription", "account_id", "Account", "account_id"),
        ("PLAN", "Subscription", "plan_id", "Plan", "plan_id"),
    ]
    assert [r.execution_order for r in proposal.relationships] == [1, 2]
    relationship = proposal.relationships[0]
    assert relationship.via is None
    assert relationship.is_active
    assert "subscriptions_account_fk" in relationship.description
    assert proposal.unmapped == ()


def test_types_two_tables_share_get_their_start_label():
    payment_methods = table(
        "payment_methods",
        "payment_method_id account_id",
        "payment_method_id",
        (fk("pm_account_fk", "account_id", "accounts", "account_id"),),
    )
    subscriptions = table(
        "subscriptions",
        "subscription_id account_id",
        "subscription_id",
        (fk("sub_account_fk", "account_id", "accounts", "account_id"),),
    )
    proposal = propose("profiles", [ACCOUNTS, payment_methods, subscriptions])
    assert [r.relationship_type for r in proposal.relationships] == [
        "PAYMENT_METHOD_ACCOUNT",
        "SUBSCRIPTION_ACCOUNT",
    ]


def test_a_clash_left_after_the_start_label_gets_a_number():
    transfers = table(
        "transfers",
        "transfer_id account account_id",
        "transfer_id",
        (
            fk("transfers_from_fk", "account", "accounts", "account_id"),
            fk("transfers_to_fk", "account_id", "accounts", "account_id"),
        ),
    )
    proposal = propose("bank", [ACCOUNTS, transfers])
    assert [r.relationship_type for r in proposal.relationships] == [
        "TRANSFER_ACCOUNT",
        "TRANSFER_ACCOUNT_2",
    ]


def test_a_type_a_column_cannot_give_gets_its_start_label():
    users = table(
        "users",
        "user_id 2fa_device_id",
        "user_id",
        (fk("users_device_fk", "2fa_device_id", "devices", "device_id"),),
    )
    proposal = propose("auth", [users, table("devices", "device_id", "device_id")])
    assert [r.relationship_type for r in proposal.relationships] == ["USER_2FA_DEVICE"]


def test_a_junction_table_is_one_relationship_through_it_and_no_label():
    link = table(
        "ticket_tag_link",
        "ticket_id tag_id added_at added_by",
        "ticket_id tag_id",
        (
            fk("link_ticket_fk", "ticket_id", "tickets", "ticket_id"),
            fk("link_tag_fk", "tag_id", "tags", "tag_id"),
        ),
    )
    tickets = table("tickets", "ticket_id subject", "ticket_id")
    proposal = propose("support", [link, tickets, TAGS])
    assert labels(proposal) == {("Tag", "tags", ("tag_id",)), ("Ticket", "tickets", ("ticket_id",))}
    assert joins(proposal) == [("TICKET_TAG_LINK", "Ticket", "ticket_id", "Tag", "tag_id")]
    (relationship,) = proposal.relationships
    assert (
        relationship.via_source_name,
        relationship.via_table_name,
        relationship.via_from_column,
        relationship.via_to_column,
    ) == ("support", "ticket_tag_link", "ticket_id", "tag_id")
    assert relationship.property_columns == ("added_at", "added_by")
    assert relationship.key_columns == ()
    assert proposal.unmapped == ()


def test_a_junction_follows_its_primary_key_order_and_may_join_a_label_to_itself():
    follows = table(
        "follows",
        "followed_id follower_id",
        "follower_id followed_id",
        (
            fk("follows_followed_fk", "followed_id", "users", "user_id"),
            fk("follows_follower_fk", "follower_id", "users", "user_id"),
        ),
    )
    proposal = propose("social", [table("users", "user_id", "user_id"), follows])
    (relationship,) = proposal.relationships
    assert (relationship.via_from_column, relationship.via_to_column) == (
        "follower_id",
        "followed_id",
    )
    assert (relationship.from_label, relationship.to_label) == ("User", "User")
    assert relationship.property_columns == ()


def test_a_junction_to_a_table_without_a_label_is_not_mapped():
    link = table(
        "account_tags",
        "account_id tag_id",
        "account_id tag_id",
        (
            fk("at_account_fk", "account_id", "accounts", "account_id"),
            fk("at_tag_fk", "tag_id", "tags", "tag_id"),
        ),
    )
    proposal = propose("crm", [ACCOUNTS, link, table("tags", "tag_id name")])
    assert labels(proposal) == {("Account", "accounts", ("account_id",))}
    assert proposal.relationships == ()
    assert unmapped(proposal) == [
        "table tags: no primary key, so no label (a label needs a key)",
        "junction table account_tags: foreign key at_tag_fk (tag_id) -> tags (tag_id) "
        "refers to a table without a proposed label",
    ]


def test_a_two_column_key_with_one_foreign_key_is_a_label_not_a_junction():
    versions = table(
        "plan_versions",
        "plan_id version",
        "plan_id version",
        (fk("pv_plan_fk", "plan_id", "plans", "plan_id"),),
    )
    proposal = propose("profiles", [PLANS, versions])
    assert ("PlanVersion", "plan_versions", ("plan_id", "version")) in labels(proposal)
    assert joins(proposal) == [("PLAN", "PlanVersion", "plan_id", "Plan", "plan_id")]


def test_a_composite_foreign_key_is_not_mapped():
    lines = table(
        "order_lines",
        "line_id order_id shop_id",
        "line_id",
        (fk("lines_order_fk", "order_id shop_id", "orders", "order_id shop_id"),),
    )
    orders = table("orders", "order_id shop_id", "order_id shop_id")
    proposal = propose("shop", [lines, orders])
    assert {n.label for n in proposal.nodes} == {"Order", "OrderLine"}
    assert proposal.relationships == ()
    assert unmapped(proposal) == [
        "foreign key lines_order_fk (order_id, shop_id) -> orders (order_id, shop_id) on "
        "order_lines: more than one column, and a relationship joins on one: "
        "write its row by hand"
    ]


def test_a_table_without_a_primary_key_is_not_mapped_nor_its_foreign_keys():
    audit = table(
        "audit_log",
        "account_id action",
        foreign_keys=(fk("audit_account_fk", "account_id", "accounts", "account_id"),),
    )
    proposal = propose("profiles", [ACCOUNTS, audit])
    assert labels(proposal) == {("Account", "accounts", ("account_id",))}
    assert proposal.relationships == ()
    assert unmapped(proposal) == [
        "table audit_log: no primary key, so no label (a label needs a key)",
        "foreign key audit_account_fk (account_id) -> accounts (account_id) on audit_log: "
        "audit_log has no proposed label",
    ]


def test_a_foreign_key_to_a_table_outside_the_proposal_is_not_mapped():
    invoices = table(
        "invoices",
        "invoice_id account_id currency",
        "invoice_id",
        (
            fk("invoices_account_fk", "account_id", "accounts", "account_id"),
            fk("invoices_currency_fk", "currency", "reference.currencies", "code"),
        ),
    )
    proposal = propose("billing", [invoices])
    assert labels(proposal) == {("Invoice", "invoices", ("invoice_id",))}
    assert proposal.relationships == ()
    assert unmapped(proposal) == [
        "foreign key invoices_account_fk (account_id) -> accounts (account_id) on invoices: "
        "accounts has no proposed label (outside the proposal)",
        "foreign key invoices_currency_fk (currency) -> reference.currencies (code) on "
        "invoices: reference.currencies has no proposed label (outside the proposal)",
    ]


def test_a_label_no_name_or_an_earlier_table_has_is_not_mapped():
    proposal = propose(
        "legacy",
        [table("account", "id", "id"), ACCOUNTS, table("2fa_codes", "code", "code")],
    )
    assert labels(proposal) == {("Account", "account", ("id",))}
    assert unmapped(proposal) == [
        "table 2fa_codes: its name gives '2faCode', not a label matching "
        "^[A-Z][A-Za-z0-9_]*$: write its row by hand",
        "table accounts: its label Account is already table account's",
    ]


def test_the_written_proposal_loads_as_control_rows(tmp_path):
    link = table(
        "ticket_tag_link",
        "ticket_id tag_id note",
        "ticket_id tag_id",
        (
            fk("link_ticket_fk", "ticket_id", "tickets", "ticket_id"),
            fk("link_tag_fk", "tag_id", "tags", "tag_id"),
        ),
    )
    tickets = table(
        "tickets",
        "ticket_id account_id",
        "ticket_id",
        (fk("tickets_account_fk", "account_id", "accounts", "account_id"),),
    )
    proposal = propose("support", [ACCOUNTS, TAGS, tickets, link])
    control = tmp_path / CONTROL_DIR
    nodes_file, relationships_file = write_proposal(proposal, control)
    for path, control_file in ((nodes_file, NODE_FILE), (relationships_file, RELATIONSHIP_FILE)):
        with path.open(newline="", encoding="utf-8") as handle:
            assert tuple(next(csv.reader(handle))) == control_file.columns
    (control / SOURCE_FILE.file).write_text(
        ",".join(SOURCE_FILE.columns) + "\nsupport,,,support_db,reader,SUPPORT_PASSWORD,,true,\n"
    )
    for empty in (EXCLUSION_FILE, TRACKING_FILE):
        (control / empty.file).write_text(",".join(empty.columns) + "\n")
    rows = load_control_rows(tmp_path)
    assert rows.nodes == proposal.nodes
    assert rows.relationships == proposal.relationships


def source_rows(*sources: tuple[str, bool]) -> ControlRows:
    return ControlRows(
        sources=tuple(
            SourceDatabase(
                name,
                None,
                None,
                f"{name}_db",
                "reader",
                "PASSWORD",
                50_000,
                active,
                "",
                ("public",),
                RowRef(SOURCE_FILE.file, line, f"source_name={name}"),
            )
            for line, (name, active) in enumerate(sources, start=2)
        ),
        nodes=(),
        exclusions=(),
        relationships=(),
        tracking=(),
        seed_rows={},
    )


def test_an_unknown_or_inactive_source_is_refused_naming_its_row():
    rows = source_rows(("profiles", True), ("archive", False))
    assert proposable_source(rows, "profiles").source_name == "profiles"
    with pytest.raises(ConfigError, match=r"'billing' is not a row of .*source_databases\.csv"):
        proposable_source(rows, "billing")
    with pytest.raises(ConfigError, match=r"source_databases\.csv:3 \(source_name=archive\)"):
        proposable_source(rows, "archive")


def test_the_proposal_goes_to_proposals_by_default_and_never_under_seeds(tmp_path):
    project = tmp_path.resolve()
    assert proposal_directory(project, "profiles", None) == project / "proposals" / "profiles"
    assert proposal_directory(project, "profiles", project / "out") == project / "out"
    with pytest.raises(ConfigError, match="dbt loads as a seed"):
        proposal_directory(project, "profiles", project / "seeds" / "control")
