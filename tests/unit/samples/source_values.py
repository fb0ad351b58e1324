"""COPY text lines checked against a table's columns, as schema.sql declares them.

Each line must hold one value per column; each value must be one the column's
type accepts; and some columns, checked by name, hold values only they would:
with the types, that pins every writer's value order to the schema's column order.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from c360.samples.generator import MEDIA_TYPES, TEAMS
from c360.samples.load import LoadPlan, source_schema
from c360.samples.schema import Column, Table
from c360.samples.story import CARD_TYPES, GENRES

Row = dict[str, str | None]
ACCOUNT_ID = re.compile(r"A\d{6,}")
PERSON_ID = re.compile(r"P\d{6,}")
_ESCAPE = re.compile(r"\\(.)")
_ESCAPED = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t"}
ACCOUNT_TYPES = ("checking", "savings", "investment", "credit_card")

# Values only the named column would hold.
NAMED: Mapping[str, Callable[[str], bool]] = {
    "accounts.email": lambda v: "@" in v and v == v.strip(),
    "accounts.hashed_password": lambda v: v.startswith("$2b$12$"),
    "accounts.full_name": lambda v: "@" not in v and not v.startswith("$"),
    "plans.plan_name": str.isalpha,
    "payment_methods.card_fingerprint": lambda v: v.startswith("fp_"),
    "payment_methods.card_type": lambda v: v in CARD_TYPES,
    "payment_methods.card_last_four": lambda v: len(v) == 4 and v.isdigit(),
    "subscriptions.status": lambda v: v.lower() in ("active", "cancelled", "past_due"),
    "media_content.media_id": lambda v: re.fullmatch(r"[A-Z]{3}-\d+", v) is not None,
    "media_content.media_type": lambda v: v in MEDIA_TYPES,
    "media_content.genre": lambda v: v in GENRES,
    "play_events.session_id": lambda v: v.startswith("s") and v.rsplit("-", 1)[-1].isdigit(),
    "play_events.media_id": lambda v: re.fullmatch(r"[A-Z]{3}-\d+", v) is not None,
    "play_events.action": lambda v: v in ("play", "START", "stop", "FINISH", "pause"),
    "play_events.device_fingerprint": lambda v: v.startswith("dev-"),
    "tickets.ticket_id": lambda v: v.startswith("TCK-"),
    "tickets.customer_email": lambda v: "@" in v and " " not in v.strip(),
    "tickets.status": lambda v: v.lower() in ("open", "pending", "resolved", "closed"),
    "ticket_tags.tag_name": lambda v: not v.isdigit(),
    "ticket_tag_link.ticket_id": lambda v: v.startswith("TCK-"),
    "agents.full_name": lambda v: v not in TEAMS,
    "agents.team": lambda v: v in TEAMS,
    "persons.person_id": PERSON_ID.fullmatch,
    "persons.first_name": lambda v: not v[:1].isdigit(),
    "persons.last_name": lambda v: not v[:1].isdigit(),
    "persons.ssn": lambda v: re.fullmatch(r"9\d\d-\d\d-\d{4}", v) is not None,
    "persons.flag_reason": lambda v: " " in v,
    "bank_accounts.account_id": ACCOUNT_ID.fullmatch,
    "bank_accounts.account_type": lambda v: v.lower() in ACCOUNT_TYPES,
    "bank_accounts.account_status": lambda v: v in ("active", "closed", "dormant"),
    "bank_accounts.owner_person_id": PERSON_ID.fullmatch,
    "addresses.address_id": lambda v: re.fullmatch(r"AD\d{6,}", v) is not None,
    "addresses.street": lambda v: v[:1].isdigit() or v.startswith("PO Box"),
    "addresses.city": lambda v: not any(c.isdigit() for c in v),
    "addresses.state": lambda v: re.fullmatch(r"[A-Z]{2}", v) is not None,
    "addresses.zip_code": lambda v: re.fullmatch(r"\d{5}", v) is not None,
    "addresses.person_id": PERSON_ID.fullmatch,
    "phones.phone_id": lambda v: re.fullmatch(r"PH\d{6,}", v) is not None,
    "phones.phone_number": lambda v: re.fullmatch(r"\+1-\d{3}-\d{3}-\d{4}", v) is not None,
    "phones.phone_type": lambda v: v in ("mobile", "home", "work"),
    "phones.person_id": PERSON_ID.fullmatch,
    "transactions.transaction_id": lambda v: re.fullmatch(r"T\d{7,}", v) is not None,
    "transactions.transaction_type": lambda v: v in ("transfer", "wire", "ach", "card_payment"),
    "transactions.description": lambda v: not v.startswith(("A0", "EXT-")),
    "transactions.from_account_id": ACCOUNT_ID.fullmatch,
    "transactions.to_account_id": lambda v: ACCOUNT_ID.fullmatch(v) or v.startswith("EXT-"),
    "transactions.suspicious_pattern": lambda v: v in ("mule", "structuring"),
}


def copy_lines(chunks: Iterable[str]) -> list[str]:
    text = "".join(chunks)
    assert text.endswith("\n"), "COPY chunks end with a newline"
    return text[:-1].split("\n")


def decode(field: str) -> str | None:
    """One COPY text field: \\N is NULL, backslash escapes undone."""
    if field == "\\N":
        return None
    return _ESCAPE.sub(lambda m: _ESCAPED.get(m.group(1), m.group(1)), field)


def checked_rows(table: Table, lines: Iterable[str]) -> list[Row]:
    """The lines as rows by column name, each value checked; AssertionError naming
    table, line and column otherwise."""
    rows: list[Row] = []
    for number, line in enumerate(lines, 1):
        fields = line.split("\t")
        where = f"{table.name} line {number}"
        assert len(fields) == len(table.columns), (
            f"{where}: {len(fields)} values for the columns {table.column_names}"
        )
        row = {
            column.name: decode(field) for column, field in zip(table.columns, fields, strict=True)
        }
        for column in table.columns:
            value = row[column.name]
            if value is None:
                assert not column.not_null, f"{where}: {column.name} is not null"
                continue
            assert fits(column, value), f"{where}: {value!r} is not a {column.type} ({column.name})"
            named = NAMED.get(f"{table.name}.{column.name}")
            assert named is None or named(value), f"{where}: {value!r} in {column.name}?"
        rows.append(row)
    return rows


def fits(column: Column, value: str) -> bool:
    """Whether PostgreSQL would take `value` (COPY text, decoded) for the column's type."""
    check = _TYPES.get(column.base_type)
    assert check is not None, f"no check for type {column.type}: add one to {__name__}"
    try:
        return check(value, column.type)
    except ValueError:
        return False


def _integer(bits: int) -> Callable[[str, str], bool]:
    return lambda value, _type: -(2 ** (bits - 1)) <= int(value) < 2 ** (bits - 1)


def _varchar(value: str, column_type: str) -> bool:
    return len(value) <= int(column_type.split("(")[1].rstrip(")"))


def _numeric(value: str, column_type: str) -> bool:
    try:
        number = Decimal(value)
    except InvalidOperation as error:
        raise ValueError(value) from error
    precision, scale = (int(part) for part in column_type.split("(")[1].rstrip(")").split(","))
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    whole_digits = len(str(abs(int(number)))) if abs(number) >= 1 else 0
    return -exponent <= scale and whole_digits <= precision - scale


def _timestamptz(value: str, _type: str) -> bool:
    return datetime.fromisoformat(value).tzinfo is not None


_TYPES: Mapping[str, Callable[[str, str], bool]] = {
    "uuid": lambda value, _type: uuid.UUID(value) is not None,
    "text": lambda _value, _type: True,
    "varchar": _varchar,
    "integer": _integer(32),
    "serial": _integer(32),
    "bigint": _integer(64),
    "bigserial": _integer(64),
    "numeric": _numeric,
    "timestamptz": _timestamptz,
    "date": lambda value, _type: date.fromisoformat(value) is not None,
    "double precision": lambda value, _type: float(value) == float(value),
    "boolean": lambda value, _type: value.lower() in ("t", "f", "true", "false"),
    "inet": lambda value, _type: ipaddress.ip_address(value) is not None,
}


def plan_rows(plan: LoadPlan, project: Path) -> dict[str, list[Row]]:
    """Each table of a story's or a generator's plan, checked, by column name."""
    rows: dict[str, list[Row]] = {}
    for kind, loads in plan.items():
        schema = source_schema(project, kind)
        for load in loads:
            lines = copy_lines(load.chunks)
            assert len(lines) == load.expected_rows, load.table
            rows[load.table] = checked_rows(schema.table(load.table), lines)
    return rows
