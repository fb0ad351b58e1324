"""The streaming domain's sample story: small, hand-shaped data for its three sources.

Every one of the seeds' ten Cypher queries returns rows on it, and the headline
question ("how many users who share a payment method with a hacked account also
share an IP address with other users?") has a non-trivial answer. The rows are
fixed: hand-written people, tickets and titles, plus events drawn from a
`random.Random` with a fixed seed, so every load is identical.

The cast, by story:
- the Smith household (john, jane) shares a card, a home IP and a TV;
- fraud ring 1: mallory (hacked) shares a card with trent and peggy; the
  attacker's proxy IP shows up on mallory, trent and walter;
- fraud ring 2: victor (hacked) shares a card with walter, sybil and oscar;
  oscar is behind a carrier NAT shared with liam;
- heidi is hacked but shares nothing;
- roommates carlos and dana share a card and an IP; a café IP and a library
  kiosk device are shared by strangers.
So the headline answer is 3 (trent, walter, oscar) out of 5 (+ peggy, sybil).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from c360.config import Settings
from c360.samples.load import (
    LoadPlan,
    SourceKind,
    SourceTargets,
    TableLoad,
    load_databases,
    source_rows,
)

# The seeds' churn query hard-codes this instant as "now".
REFERENCE_NOW = datetime(2025, 11, 3, tzinfo=UTC)
SAMPLE_SEED = 360

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Persona:
    key: str
    email: str
    full_name: str
    created: str
    plan: str | None
    status: str | None
    events: int
    recency: str  # recent | mixed | old: where the play events fall around REFERENCE_NOW


# fmt: off
PERSONAS: tuple[Persona, ...] = (
    Persona("john", "john.smith@email.com", "John Smith", "2023-03-14", "Premium", "Active", 28, "mixed"),  # noqa: E501
    Persona("jane", "jane.smith@email.com", "Jane Smith", "2023-03-20", "Standard", "active", 14, "mixed"),  # noqa: E501
    Persona("mallory", "mallory.k@email.com", "Mallory Kane", "2024-01-05", "Basic", "active", 9, "mixed"),  # noqa: E501
    Persona("trent", "trent.w@email.com", "Trent Walsh", "2024-02-11", "Basic", "active", 12, "recent"),  # noqa: E501
    Persona("peggy", "peggy.l@email.com", "Peggy Lin", "2024-02-15", "Standard", "past_due", 6, "mixed"),  # noqa: E501
    Persona("victor", "victor.r@email.com", "Victor Reyes", "2023-11-30", "Premium", "Active", 23, "mixed"),  # noqa: E501
    Persona("walter", "walter.b@email.com", "Walter Byrne", "2024-04-02", "Basic", "active", 4, "recent"),  # noqa: E501
    Persona("sybil", "sybil.t@email.com", "Sybil Tran", "2024-04-09", "Basic", "cancelled", 0, "old"),  # noqa: E501
    Persona("oscar", "oscar.m@email.com", "Óscar Martínez", "2024-05-19", "Standard", "active", 17, "mixed"),  # noqa: E501
    Persona("heidi", "heidi.k@email.com", "Heidi Klein", "2022-09-01", "Standard", "Active", 11, "old"),  # noqa: E501
    Persona("carlos", "carlos.g@email.com", "Carlos García", "2023-06-10", "Family", "active", 19, "mixed"),  # noqa: E501
    Persona("dana", "dana.p@email.com", "Dana Park", "2023-06-12", "Family", "Active", 8, "recent"),
    Persona("liam", "liam.o@email.com", "Liam O'Connor", "2024-07-21", "Basic", "active", 5, "recent"),  # noqa: E501
    Persona("sean", "sean.obrien@email.com", "Seán O'Brien", "2022-12-01", "Premium", "active", 31, "mixed"),  # noqa: E501
    Persona("zoe", "zoe.muller@email.com", "Zoë Müller", "2023-01-15", "Standard", "Active", 24, "mixed"),  # noqa: E501
    Persona("taro", "taro.yamada@email.jp", "山田 太郎", "2023-02-02", "Premium", "active", 21, "recent"),  # noqa: E501
    Persona("rae", "rae.dubois@email.fr", 'Renée "Rae" Dubois', "2023-04-18", "Basic", "active", 13, "old"),  # noqa: E501
    Persona("chloe", "chloe.darcy@email.com", "Chloé D'Arcy", "2023-05-05", "Standard", "active", 16, "mixed"),  # noqa: E501
    Persona("lukasz", "lukasz.zolc@email.pl", "Łukasz Żółć", "2023-08-08", "Basic", "past_due", 7, "old"),  # noqa: E501
    Persona("jose", "jose.alvarez@email.es", "José Álvarez", "2023-09-09", "Premium", "Active", 26, "mixed"),  # noqa: E501
    Persona("bjorn", "bjorn.angstrom@email.se", "Björn Ångström", "2023-10-10", "Standard", "active", 12, "mixed"),  # noqa: E501
    Persona("an", "an.nguyen@email.vn", "Nguyễn Văn An", "2024-01-20", "Basic", "active", 3, "recent"),  # noqa: E501
    Persona("anais", "anais.nin@email.fr", "Anaïs Nin", "2022-11-11", "Premium", "cancelled", 15, "old"),  # noqa: E501
    Persona("noah", "noah.fischer@email.com", "Noah Fischer", "2023-07-07", "Standard", "Active", 0, "old"),  # noqa: E501
    Persona("emma", "emma.wilson@email.com", "Emma Wilson", "2024-03-03", "Basic", "active", 0, "old"),  # noqa: E501
    Persona("yuki", "yuki.tanaka@email.jp", "田中 由紀", "2025-10-20", None, None, 0, "old"),
    Persona("otto", "otto.becker@email.de", "Otto Becker", "2022-06-30", "Basic", "past_due", 0, "old"),  # noqa: E501
    Persona("anna", "anna.kowalski@email.com", "Anna Kowalski", "2023-02-14", "Standard", "active", 10, "recent"),  # noqa: E501
    Persona("ben", "ben.carter@email.com", "Ben Carter", "2023-03-01", "Basic", "Active", 2, "recent"),  # noqa: E501
    Persona("grace", "grace.hopper@email.com", "Grace Hopper", "2022-12-09", "Premium", "active", 22, "mixed"),  # noqa: E501
    Persona("alan", "alan.turing@email.com", "Alan Turing", "2022-06-23", "Standard", "cancelled", 18, "old"),  # noqa: E501
    Persona("ada", "ada.lovelace@email.com", "Ada Lovelace", "2022-12-10", "Premium", "Active", 25, "recent"),  # noqa: E501
    Persona("linus", "linus.t@email.com", "Linus Torvalds", "2023-12-28", "Basic", "active", 1, "old"),  # noqa: E501
    Persona("margaret", "margaret.h@email.com", "Margaret Hamilton", "2024-08-17", "Standard", "active", 11, "recent"),  # noqa: E501
    Persona("ken", "ken.thompson@email.com", "Ken Thompson", "2023-02-04", "Basic", "active", 4, "old"),  # noqa: E501
    Persona("barbara", "barbara.l@email.com", "Barbara Liskov", "2023-11-07", "Standard", "Active", 20, "mixed"),  # noqa: E501
    Persona("tim", "tim.bl@email.com", "Tim Berners-Lee", "2024-06-08", "Basic", "past_due", 6, "mixed"),  # noqa: E501
    Persona("frances", "frances.allen@email.com", "Frances Allen", "2024-08-04", "Premium", "active", 35, "mixed"),  # noqa: E501
    Persona("edsger", "edsger.d@email.nl", "Edsger Dijkstra", "2023-05-11", "Standard", "active", 9, "mixed"),  # noqa: E501
    Persona("hedy", "hedy.lamarr@email.at", "Hedy Lamarr", "2024-11-09", "Family", "active", 14, "recent"),  # noqa: E501
    Persona("katherine", "katherine.j@email.com", "Katherine Johnson", "2023-08-26", "Basic", "Active", 2, "old"),  # noqa: E501
    Persona("dennis", "dennis.r@email.com", "Dennis Ritchie", "2023-09-09", "Standard", "cancelled", 12, "old"),  # noqa: E501
    Persona("radia", "radia.p@email.com", "Radia Perlman", "2025-09-15", "Basic", "active", 8, "recent"),  # noqa: E501
    Persona("mei", "mei.chen@email.cn", "陈美 (Mei Chen)", "2024-02-29", "Standard", "active", 17, "mixed"),  # noqa: E501
)
# fmt: on

PLANS: tuple[Row, ...] = (
    (1, "Basic", Decimal("8.99"), 1),
    (2, "Standard", Decimal("13.99"), 2),
    (3, "Premium", Decimal("19.99"), 4),
    (4, "Family", Decimal("24.99"), 6),
)

# Groups of accounts whose (first) card has the same fingerprint.
SHARED_CARDS: Mapping[str, tuple[str, ...]] = {
    "fp_9f2c4e1a7b3d": ("john", "jane"),
    "fp_d41d8cd98f00": ("mallory", "trent", "peggy"),
    "fp_5eb63bbbe01e": ("victor", "walter", "sybil", "oscar"),
    "fp_7215ee9c7d9d": ("carlos", "dana"),
}
SECOND_CARD = ("john", "victor", "sean", "grace", "jose")
NO_CARD = ("yuki", "otto")
PREVIOUS_SUBSCRIPTION = ("john", "heidi", "zoe", "ada")  # an older cancelled one

# IPs and devices used by several accounts, on top of each one's own.
SHARED_IPS: Mapping[str, tuple[str, ...]] = {
    "192.0.2.10": ("john", "jane"),  # the Smiths' home
    "203.0.113.66": ("mallory", "trent", "walter"),  # the attacker's proxy
    "100.64.12.7": ("oscar", "liam"),  # carrier-grade NAT
    "192.0.2.77": ("carlos", "dana"),  # roommates
    "198.18.0.42": ("anna", "ben", "chloe", "sean"),  # a café
    "2001:db8:cafe::1": ("frances", "grace"),  # a coworking space, IPv6
}
SHARED_DEVICES: Mapping[str, tuple[str, ...]] = {
    "dev-smith-livingroom-tv": ("john", "jane"),
    "dev-library-kiosk-03": ("zoe", "taro", "bjorn"),
    "dev-roommates-console": ("carlos", "dana"),
}

MEDIA: tuple[Row, ...] = (
    ("MOV-0001", "The Long Night", "movie", "Drama", date(2019, 3, 8), 128),
    ("MOV-0002", "Laugh Track", "movie", "Comedy", date(2021, 7, 1), 94),
    ("MOV-0003", "Orbit Zero", "movie", "Sci-Fi", date(2022, 11, 18), 141),
    ("MOV-0004", "Back\\Slash: A Path Story", "movie", "Thriller", date(2020, 2, 14), 103),
    ("MOV-0005", "Amélie's Garden", "movie", "Romance", date(2018, 5, 25), 112),
    ("MOV-0006", "東京 Nights", "movie", "Drama", date(2023, 9, 1), 119),
    ("MOV-0007", 'The "Quoted" Ones', "movie", "Comedy", date(2024, 1, 12), 88),
    ("MOV-0008", "Deep Blue", "documentary", "Documentary", date(2017, 6, 6), 76),
    ("MOV-0009", "Haunted Hollow", "movie", "Horror", date(2021, 10, 29), 97),
    ("MOV-0010", "Paper Planes", "movie", "Animation", date(2020, 12, 4), 85),
    ("MOV-0011", "Zürich Protocol", "movie", "Thriller", date(2024, 4, 19), 124),
    ("MOV-0012", "Midnight Diner", "movie", "Drama", date(2016, 8, 8), 110),
    ("MOV-0013", "Red Planet Rising", "movie", "Sci-Fi", date(2025, 3, 7), 133),
    ("MOV-0014", "Stand-Up Tonight", "special", "Comedy", date(2025, 6, 20), 62),
    ("MOV-0015", "Wild Kingdoms", "documentary", "Documentary", date(2022, 4, 22), 90),
    ("SER-0101", "Code Breakers S1E1", "episode", "Drama", date(2023, 1, 10), 52),
    ("SER-0102", "Code Breakers S1E2", "episode", "Drama", date(2023, 1, 17), 49),
    ("SER-0103", "Code Breakers S1E3", "episode", "Drama", date(2023, 1, 24), 55),
    ("SER-0201", "Starship Cargo S2E1", "episode", "Sci-Fi", date(2024, 2, 2), 44),
    ("SER-0202", "Starship Cargo S2E2", "episode", "Sci-Fi", date(2024, 2, 9), 46),
    ("SER-0301", "Office Hours E1", "episode", "Comedy", date(2022, 9, 5), 23),
    ("SER-0302", "Office Hours E2", "episode", "Comedy", date(2022, 9, 12), 22),
    ("SER-0401", "Ghost Lines E1", "episode", "Horror", date(2025, 10, 1), 41),
    ("SER-0501", "Little Robots E1", "episode", "Animation", date(2021, 3, 3), 12),
    ("SER-0502", "Little Robots E2", "episode", "Animation", date(2021, 3, 10), 12),
    ("SER-0601", "Love, Actually Online E1", "episode", "Romance", date(2024, 2, 14), 38),
    ("DOC-0701", "Chips & Circuits", "documentary", "Documentary", date(2019, 11, 11), 58),
    ("DOC-0702", "The Ocean's Edge", "documentary", "Documentary", date(2023, 7, 7), 64),
    ("MOV-0016", "Tab\tSeparated Lives", "movie", "Drama", date(2015, 1, 1), 99),
    ("MOV-0017", "Ça va? Ünïcödé Tales", "movie", "Comedy", date(2024, 8, 30), 91),
)

AGENTS: tuple[Row, ...] = (
    (1, "Ana Núñez", "Tier 1", date(2019, 4, 1)),
    (2, "Kenji 佐藤", "Tier 2", date(2020, 9, 15)),
    (3, "Priya O'Neil", "Trust & Safety", date(2018, 1, 8)),
    (4, 'Tom "Tommy" Baker', "Tier 1", date(2022, 3, 21)),
    (5, "Zoë Ødegaard", "Billing", date(2021, 6, 30)),
)

TAGS: tuple[Row, ...] = (
    (1, "Technical"),
    (2, "Playback"),
    (3, "Billing"),
    (4, "Account Compromised"),
    (5, "Login"),
    (6, "Feature Request"),
    (7, "Refund"),
    (8, "Device"),
)


@dataclass(frozen=True)
class SampleTicket:
    ticket_id: str
    customer_email: str  # as typed by an agent: case and spaces may differ from the account's
    agent_id: int | None
    subject: str
    status: str
    days_ago: float
    tags: tuple[str, ...]


# fmt: off
TICKETS: tuple[SampleTicket, ...] = (
    SampleTicket("TCK-1001", "john.smith@email.com", 2, "Video keeps buffering on the TV", "resolved", 12.5, ("Technical", "Playback")),  # noqa: E501
    SampleTicket("TCK-1002", " John.Smith@Email.com", 1, "Charged twice this month", "closed", 210.0, ("Billing", "Refund")),  # noqa: E501
    SampleTicket("TCK-1003", "MALLORY.K@EMAIL.COM", 3, "I didn't change my password!\nSomeone logged in from abroad", "open", 6.2, ("Account Compromised", "Login")),  # noqa: E501
    SampleTicket("TCK-1004", "Victor.R@email.com ", 3, "Unknown devices on my account", "pending", 20.0, ("Account Compromised",)),  # noqa: E501
    SampleTicket("TCK-1005", "  heidi.k@email.com", 3, 'Email changed to "h4x0r@evil.test" without me', "closed", 95.0, ("Account Compromised", "Login")),  # noqa: E501
    SampleTicket("TCK-1006", "noah.fischer@email.com", 1, "App crashes at startup", "open", 3.0, ("Technical",)),  # noqa: E501
    SampleTicket("TCK-1007", "sean.obrien@email.com", 2, "Subtitles out of sync", "resolved", 40.0, ("Playback",)),  # noqa: E501
    SampleTicket("TCK-1008", "Sean.OBrien@email.com", 4, "Can't cast to Chromecast", "open", 9.0, ("Technical", "Device")),  # noqa: E501
    SampleTicket("TCK-1009", "zoe.muller@email.com", 2, "Fehler 1042 — Wiedergabe stoppt", "resolved", 25.0, ("Playback", "Technical")),  # noqa: E501
    SampleTicket("TCK-1010", "taro.yamada@email.jp", 2, "再生が止まります (playback stops)", "open", 4.5, ("Playback",)),  # noqa: E501
    SampleTicket("TCK-1011", "jose.alvarez@email.es", 5, "Refund for annual plan", "closed", 300.0, ("Billing", "Refund")),  # noqa: E501
    SampleTicket("TCK-1012", "JOSE.ALVAREZ@EMAIL.ES", 1, "4K not available on Premium?", "resolved", 18.0, ("Technical",)),  # noqa: E501
    SampleTicket("TCK-1013", "frances.allen@email.com", 2, "Audio drifts after\r\nten minutes", "open", 2.0, ("Playback", "Technical")),  # noqa: E501
    SampleTicket("TCK-1014", "grace.hopper@email.com", 4, "Path error C:\\Users\\grace\\cache", "resolved", 60.0, ("Technical",)),  # noqa: E501
    SampleTicket("TCK-1015", "ada.lovelace@email.com", 1, "Please add a watchlist export", "open", 15.0, ("Feature Request",)),  # noqa: E501
    SampleTicket("TCK-1016", "alan.turing@email.com", 5, "Cancel my subscription", "closed", 120.0, ("Billing",)),  # noqa: E501
    SampleTicket("TCK-1017", "anais.nin@email.fr", 5, "Annulation — remboursement?", "closed", 150.0, ("Billing", "Refund")),  # noqa: E501
    SampleTicket("TCK-1018", "emma.wilson@email.com ", 1, "How do I start watching?", "resolved", 45.0, ()),  # noqa: E501
    SampleTicket("TCK-1019", "otto.becker@email.de", 5, "Card declined", "pending", 8.0, ("Billing",)),  # noqa: E501
    SampleTicket("TCK-1020", "jane.smith@email.com", 2, "TV app logs me out", "resolved", 33.0, ("Technical", "Login", "Device")),  # noqa: E501
    SampleTicket("TCK-1021", "Carlos.G@Email.com", 4, "Family profiles missing", "open", 11.0, ("Technical",)),  # noqa: E501
    SampleTicket("TCK-1022", "barbara.l@email.com", 2, "Stream quality drops every evening", "open", 1.5, ("Playback",)),  # noqa: E501
    SampleTicket("TCK-1023", "rae.dubois@email.fr", None, "Où est mon historique?", "open", 22.0, ("Technical",)),  # noqa: E501
    SampleTicket("TCK-1024", "walk.in.customer@unknown.test", 1, "Do you have gift cards?", "closed", 70.0, ("Feature Request",)),  # noqa: E501
    SampleTicket("TCK-1025", "mei.chen@email.cn", 2, "中文字幕缺失 (subtitles missing)", "resolved", 27.0, ("Playback",)),  # noqa: E501
    SampleTicket("TCK-1026", "ken.thompson@email.com", 1, "Login loop on web", "closed", 400.0, ("Login", "Technical")),  # noqa: E501
    SampleTicket("TCK-1027", " dennis.r@email.com ", 5, "Why was I charged after cancelling?", "pending", 5.0, ("Billing",)),  # noqa: E501
    SampleTicket("TCK-1028", "katherine.j@email.com", 3, "Suspicious email asking for my password", "closed", 14.0, ("Login",)),  # noqa: E501
    SampleTicket("TCK-1029", "ada.lovelace@email.com", 2, "Episode skips the last minute", "resolved", 90.0, ("Playback",)),  # noqa: E501
    SampleTicket("TCK-1030", "hedy.lamarr@email.at", 4, "Bluetooth headphones lag", "open", 7.0, ("Technical", "Device")),  # noqa: E501
    SampleTicket("TCK-1031", "Peggy.L@email.com", 5, "Payment failed, card is fine", "open", 2.5, ("Billing",)),  # noqa: E501
    SampleTicket("TCK-1032", "linus.t@email.com", 2, "Player shows black screen\non Linux", "resolved", 250.0, ("Technical", "Playback")),  # noqa: E501
)
# fmt: on

# Evening-heavy; hours 1-5 get only their one guaranteed session, so the
# seeds' heatmap query shows Low and Medium hours as well as Peak ones.
HOUR_WEIGHTS = (2, 0, 0, 0, 0, 0, 1, 3, 4, 4, 5, 5, 6, 6, 6, 7, 8, 10, 13, 16, 18, 16, 11, 6)
GENRES = ("Drama", "Comedy", "Sci-Fi", "Thriller", "Romance", "Documentary", "Horror", "Animation")
CARD_TYPES = ("Visa", "Mastercard", "Amex", "Discover")


@dataclass(frozen=True)
class SampleData:
    """All rows of the story: per source kind, per table in load order, tuples
    holding a value for each column in the order the table's schema.sql declares."""

    tables: Mapping[SourceKind, Mapping[str, tuple[Row, ...]]]


def build_samples() -> SampleData:
    """The whole story, deterministically: same rows on every call."""
    rng = random.Random(SAMPLE_SEED)
    ids = {p.key: _uuid(rng) for p in PERSONAS}
    accounts = tuple(_account_row(p, ids[p.key], rng) for p in PERSONAS)
    payment_methods = _payment_methods(ids, rng)
    subscriptions = _subscriptions(ids, rng)
    play_events = _play_events(ids, rng)
    tickets, links = _tickets()
    return SampleData(
        tables={
            "profiles_db": {
                "accounts": accounts,
                "plans": PLANS,
                "payment_methods": payment_methods,
                "subscriptions": subscriptions,
            },
            "streaming_db": {"media_content": MEDIA, "play_events": play_events},
            "support_db": {
                "agents": AGENTS,
                "tickets": tickets,
                "ticket_tags": TAGS,
                "ticket_tag_link": links,
            },
        }
    )


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _created_at(persona: Persona) -> datetime:
    return datetime.fromisoformat(persona.created).replace(hour=9, tzinfo=UTC)


def _account_row(persona: Persona, account_id: str, rng: random.Random) -> Row:
    # Not a real hash: the column exists to be excluded from the graph.
    hashed = "$2b$12$" + "".join(
        rng.choice("./ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(53)
    )
    created = _created_at(persona)
    # updated_at: the account has not changed since it was opened
    return (account_id, persona.email, hashed, persona.full_name, created, created)


def _card(fingerprint: str) -> tuple[str, str]:
    """Card type and last four digits follow from the fingerprint: one physical card."""
    digest = uuid.uuid5(uuid.NAMESPACE_OID, fingerprint).int
    return CARD_TYPES[digest % len(CARD_TYPES)], f"{digest % 10000:04d}"


def _payment_methods(ids: Mapping[str, str], rng: random.Random) -> tuple[Row, ...]:
    shared = {key: fp for fp, keys in SHARED_CARDS.items() for key in keys}
    rows: list[Row] = []
    for persona in PERSONAS:
        if persona.key in NO_CARD:
            continue
        fingerprints = [shared.get(persona.key) or f"fp_{rng.getrandbits(48):012x}"]
        if persona.key in SECOND_CARD:
            fingerprints.append(f"fp_{rng.getrandbits(48):012x}")
        for fingerprint in fingerprints:
            card_type, last_four = _card(fingerprint)
            # updated_at: cards are added when the account is opened
            added = _created_at(persona)
            rows.append((_uuid(rng), ids[persona.key], fingerprint, card_type, last_four, added))
    return tuple(rows)


def _subscriptions(ids: Mapping[str, str], rng: random.Random) -> tuple[Row, ...]:
    plan_ids = {name: plan_id for plan_id, name, _fee, _devices in PLANS}
    rows: list[Row] = []
    for persona in PERSONAS:
        if persona.plan is None:
            continue
        starts = _created_at(persona) + timedelta(days=rng.randint(0, 20))
        if persona.key in PREVIOUS_SUBSCRIPTION:
            ends = starts + timedelta(days=180)
            # updated_at: when it was cancelled
            rows.append((_uuid(rng), ids[persona.key], 1, "cancelled", starts, ends, ends))
            starts = ends
        renews = _next_renewal(starts)
        plan_id = plan_ids[persona.plan]
        # updated_at: when it started (a renewal changes no row)
        row = (_uuid(rng), ids[persona.key], plan_id, persona.status, starts, renews, starts)
        rows.append(row)
    return tuple(rows)


def _next_renewal(starts: datetime) -> datetime:
    renews = starts
    while renews <= REFERENCE_NOW:
        renews += timedelta(days=30)
    return renews


def _own_ip(index: int) -> str:
    return f"198.51.100.{index + 1}"


def _own_device(key: str) -> str:
    return f"dev-{uuid.uuid5(uuid.NAMESPACE_DNS, key).hex[:12]}"


def _contexts(index: int, key: str) -> tuple[list[str], list[str]]:
    """The IPs and devices one account streams from: its own plus any shared ones."""
    ips = [_own_ip(index)] + [ip for ip, keys in SHARED_IPS.items() if key in keys]
    devices = [_own_device(key)] + [d for d, keys in SHARED_DEVICES.items() if key in keys]
    return ips, devices


@dataclass(frozen=True)
class _Session:
    key: str
    account_id: str
    length: int
    day_offset: int


def _sessions(ids: Mapping[str, str], rng: random.Random) -> list[_Session]:
    sessions: list[_Session] = []
    for persona in PERSONAS:
        age_days = (REFERENCE_NOW - _created_at(persona)).days
        remaining = persona.events
        while remaining > 0:
            length = min(remaining, rng.choice((1, 2, 3, 3, 4, 4)))
            remaining -= length
            recent = persona.recency == "recent" or (
                persona.recency == "mixed" and rng.random() < 0.5
            )
            if recent or age_days <= 31:
                day = rng.randint(1, min(29, max(1, age_days - 1)))
            else:
                day = rng.randint(31, min(540, age_days - 1))
            sessions.append(_Session(persona.key, ids[persona.key], length, day))
    return sessions


def _session_hours(count: int, rng: random.Random) -> list[int]:
    """Evening-heavy hours where each of the 24 occurs at least once."""
    hours = list(range(24)) + rng.choices(range(24), weights=HOUR_WEIGHTS, k=max(0, count - 24))
    rng.shuffle(hours)
    return hours


def _actions(length: int, rng: random.Random) -> list[str]:
    start, end = rng.choice(("play", "START")), rng.choice(("stop", "FINISH"))
    return {
        1: [start],
        2: [start, end],
        3: [start, "pause", end],
        4: [start, "pause", "play", end],
    }[length]


def _play_events(ids: Mapping[str, str], rng: random.Random) -> tuple[Row, ...]:
    index = {p.key: i for i, p in enumerate(PERSONAS)}
    favourite = {p.key: rng.choice(GENRES) for p in PERSONAS}
    sessions = _sessions(ids, rng)
    hours = _session_hours(len(sessions), rng)
    rows: list[Row] = []
    for number, (session, hour) in enumerate(zip(sessions, hours, strict=True)):
        ips, devices = _contexts(index[session.key], session.key)
        media_id = _pick_media(favourite[session.key], rng)
        ip, device = rng.choice(ips), rng.choice(devices)
        moment = REFERENCE_NOW - timedelta(days=session.day_offset)
        moment = moment.replace(hour=hour, minute=rng.randint(0, 30), second=rng.randint(0, 59))
        for action in _actions(session.length, rng):
            rows.append(
                (
                    len(rows) + 1,
                    f"sess-{number + 1:05d}",
                    session.account_id,
                    media_id,
                    moment,
                    action,
                    ip,
                    device,
                )
            )
            moment += timedelta(minutes=rng.randint(1, 7))
    return tuple(rows)


def _pick_media(genre: str, rng: random.Random) -> str:
    liked = [m[0] for m in MEDIA if m[3] == genre]
    if liked and rng.random() < 0.65:
        return str(rng.choice(liked))
    return str(rng.choice(MEDIA)[0])


def _tickets() -> tuple[tuple[Row, ...], tuple[Row, ...]]:
    tag_ids = {name: tag_id for tag_id, name in TAGS}
    tickets: list[Row] = []
    links: list[Row] = []
    for t in TICKETS:
        created = REFERENCE_NOW - timedelta(days=t.days_ago)
        updated = created + timedelta(hours=6 + len(t.subject) % 40)
        tickets.append(
            (t.ticket_id, t.customer_email, t.agent_id, t.subject, t.status, created, updated)
        )
        links.extend((t.ticket_id, tag_ids[tag]) for tag in t.tags)
    return tuple(tickets), tuple(links)


def sample_loads(data: SampleData, kind: SourceKind) -> list[TableLoad]:
    return [TableLoad.of_rows(table, rows) for table, rows in data.tables[kind].items()]


def story_plan() -> LoadPlan:
    """The story's three databases, as loads."""
    data = build_samples()
    return {kind: sample_loads(data, kind) for kind in data.tables}


def load_samples(settings: Settings, targets: SourceTargets | None = None) -> dict[str, int]:
    """(Re)create the streaming domain's three databases and load the story; returns
    rows per table. Other domains: `c360.samples.domains.load_stories`."""
    return load_databases(settings, targets or SourceTargets(), story_plan())


HEADLINE_HACKED_EMAILS = """
select distinct lower(trim(t.customer_email))
from helpdesk.tickets t
join helpdesk.ticket_tag_link l on l.ticket_id = t.ticket_id
join helpdesk.ticket_tags g on g.tag_id = l.tag_id
where g.tag_name = 'Account Compromised'
"""

HEADLINE_CARD_SHARERS = """
with hacked as (
    select account_id from accounts where lower(trim(email)) = any(%(emails)s)
)
select distinct other.account_id::text
from payment_methods hacked_card
join hacked on hacked.account_id = hacked_card.account_id
join payment_methods other
    on other.card_fingerprint = hacked_card.card_fingerprint
    and other.account_id <> hacked_card.account_id
"""

HEADLINE_IP_SHARERS = """
select count(distinct mine.account_id_from_token)
from play_events mine
join play_events theirs
    on theirs.ip_address = mine.ip_address
    and theirs.account_id_from_token <> mine.account_id_from_token
where mine.account_id_from_token = any(%(ids)s::uuid[])
"""


@dataclass(frozen=True)
class HeadlineAnswer:
    hacked_accounts: int
    card_sharers: int
    card_and_ip_sharers: int

    def sentence(self) -> str:
        return (
            f"headline question: {self.card_and_ip_sharers} of the {self.card_sharers} "
            f"accounts sharing a card with one of {self.hacked_accounts} hacked accounts "
            "also share an IP address with other users"
        )


def headline_answer(settings: Settings, targets: SourceTargets | None = None) -> HeadlineAnswer:
    """The headline question answered in SQL, one source at a time (they are siloed)."""
    targets = targets or SourceTargets()
    emails = [row[0] for row in source_rows(settings, targets.support_db, HEADLINE_HACKED_EMAILS)]
    hacked = source_rows(
        settings,
        targets.profiles_db,
        "select count(*) from accounts where lower(trim(email)) = any(%(emails)s)",
        {"emails": emails},
    )
    sharers = [
        row[0]
        for row in source_rows(
            settings, targets.profiles_db, HEADLINE_CARD_SHARERS, {"emails": emails}
        )
    ]
    both = source_rows(settings, targets.streaming_db, HEADLINE_IP_SHARERS, {"ids": sharers})
    return HeadlineAnswer(int(hacked[0][0]), len(sharers), int(both[0][0]))


def headline_summary(settings: Settings, targets: SourceTargets) -> str:
    """What `samples load` says after loading this story."""
    return headline_answer(settings, targets).sentence()
