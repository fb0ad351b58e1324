"""The streaming domain's sources, synthetic, at any scale factor, streamed into COPY.

SF=1 is about 100k play events, 5k accounts, 2k tickets and 1k titles; every
table scales linearly except the fixed lookups (plans, tags). The same seed
gives the same rows: each table draws from its own `random.Random` seeded
with "<seed>:<table>", and anything shared between tables (account ids,
emails, IPs, devices, card fingerprints) is a pure function of the seed and
the account's index, so nothing per account is held in memory.

The story survives at scale: rings of three accounts share a card, households
share a home IP and sometimes a device, carrier NAT addresses are shared by
strangers, statuses and actions keep their messy casing, some ticket emails
differ from the account's by case or spaces, and a few percent of tickets are
tagged 'Account Compromised'.

Rows are built as COPY text lines in chunks; per row the work is a few
`random()` calls and one f-string, which is what keeps tens of millions of
rows affordable without numpy. The scale-factor check and the per-table random
stream are shared with the other domains' generators.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import get_args

from c360.config import Settings
from c360.errors import ConfigError
from c360.samples.load import (
    CHUNK_ROWS,
    LoadPlan,
    SourceTargets,
    TableLoad,
    copy_text,
    load_databases,
)
from c360.samples.schema import StreamingKind
from c360.samples.story import AGENTS, CARD_TYPES, GENRES, PLANS, REFERENCE_NOW, TAGS

MASK48 = (1 << 48) - 1
HISTORY_DAYS = 730  # play events and tickets fall in the two years before REFERENCE_NOW
ACCOUNT_HISTORY_DAYS = 1500

FIRST_NAMES = (
    "John", "Jane", "Maria", "Wei", "Aisha", "Seán", "Zoë", "José", "Björn", "Chloé",
    "Łukasz", "Anaïs", "Yuki", "Omar", "Priya", "Liam", "Noah", "Emma", "Olga", "Kenji",
    "太郎", "美", "D'Arcy", "Renée", "Ngozi", "Mateo", "Ingrid", "Tomás", "Fatima", "Hugo",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "O'Brien", "Müller", "García", "Nguyễn", "Kowalski", "Ångström", "Dubois",
    "Tanaka", "Chen", "Okafor", "Silva", "Johansson", "Rossi", "Novák", "Patel", "Kim",
    "Martínez", "Schröder", "山田", "Fischer", "Ivanova", "Haddad", "Costa", "Byrne",
)  # fmt: skip
DOMAINS = ("email.com", "mail.test", "example.org", "post.example", "inbox.test")
MEDIA_TYPES = ("movie", "movie", "movie", "episode", "episode", "documentary", "special")
TITLE_WORDS = (
    "Night", "Orbit", "Garden", "Protocol", "Hollow", "Kingdom", "Diner", "Planes", "Edge",
    "Robots", "Ghost", "Signal", "Amélie's", "東京", "Zürich", 'the "Last"', "Back\\Slash",
    "Lines", "Harbour", "Winter", "Cargo", "Echo", "Circuit", "River",
)  # fmt: skip
SUBJECTS = (
    "Video keeps buffering",
    "Charged twice this month",
    "App crashes at startup",
    "Subtitles out of sync",
    "Can't log in",
    "Someone changed my password",
    "Audio drifts after\nten minutes",
    "Refund request",
    "Path error C:\\Users\\cache",
    "再生が止まります",
    "Annulation — remboursement?",
    'Says "device limit reached"',
)
TICKET_STATUSES = ("open", "Open", "pending", "resolved", "closed", "Closed")
TEAMS = ("Tier 1", "Tier 2", "Billing", "Trust & Safety")
SUBSCRIPTION_STATUSES = ("active",) * 9 + ("Active",) * 5 + ("cancelled",) * 4 + ("past_due",) * 2
PLAN_WEIGHTS = (1,) * 4 + (2,) * 5 + (3,) * 3 + (4,)
# Tag ids of story.TAGS, weighted: mostly Technical/Playback/Billing, ~3% compromised.
TAG_WEIGHTS = (1,) * 8 + (2,) * 7 + (3,) * 5 + (4,) * 1 + (5,) * 4 + (6,) * 3 + (7,) * 2 + (8,) * 3
HOUR_WEIGHTS = (2, 1, 1, 1, 1, 1, 2, 3, 4, 4, 5, 5, 6, 6, 6, 7, 8, 10, 13, 16, 18, 16, 11, 6)
ACTION_SEQUENCES = (
    ("play",),
    ("START",),
    ("play", "stop"),
    ("START", "FINISH"),
    ("play", "pause", "stop"),
    ("START", "pause", "FINISH"),
    ("START", "pause", "play", "FINISH"),
    ("play", "pause", "play", "stop"),
    ("play", "FINISH"),
    ("START", "stop"),
)
NAT_SHARE = 0.15  # share of sessions streamed from a carrier NAT address
HOUSEHOLD_EVERY = 4  # every 4th account lives with the previous one (same home IP)


@dataclass(frozen=True)
class ScaleCounts:
    """Exact row counts per table for a scale factor."""

    accounts: int
    plans: int
    payment_methods: int
    subscriptions: int
    media_content: int
    play_events: int
    agents: int
    tickets: int
    ticket_tags: int
    ticket_tag_link: int

    @classmethod
    def for_scale_factor(cls, scale_factor: float) -> ScaleCounts:
        check_scale_factor(scale_factor)
        accounts = max(10, round(5_000 * scale_factor))
        tickets = max(5, round(2_000 * scale_factor))
        return cls(
            accounts=accounts,
            plans=len(PLANS),
            payment_methods=accounts + (accounts + 4) // 5,
            subscriptions=accounts + (accounts + 9) // 10,
            media_content=max(10, round(1_000 * scale_factor)),
            play_events=max(10, round(100_000 * scale_factor)),
            agents=max(len(AGENTS), round(40 * scale_factor)),
            tickets=tickets,
            ticket_tags=len(TAGS),
            ticket_tag_link=tickets + (tickets + 2) // 3,
        )

    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))


def check_scale_factor(scale_factor: float) -> None:
    """ConfigError unless `scale_factor` is a positive number (NaN is not)."""
    if not scale_factor > 0:
        raise ConfigError(f"--scale-factor must be positive, not {scale_factor}")


@dataclass(frozen=True)
class Identity:
    """Per-seed formulas mapping an account index to its shared identifiers."""

    seed: int
    accounts: int
    mult: int
    offset: int
    nat_pool: int

    @classmethod
    def for_seed(cls, seed: int, accounts: int) -> Identity:
        rng = random.Random(f"{seed}:identity")
        return cls(
            seed=seed,
            accounts=accounts,
            mult=rng.getrandbits(48) | 1,  # odd: i -> i*mult mod 2**48 is a bijection
            offset=rng.getrandbits(48),
            nat_pool=max(5, accounts // 50),
        )

    def scramble(self, index: int, salt: int = 0) -> int:
        return (index * self.mult + self.offset + salt) & MASK48

    def id_prefix(self, kind: int) -> str:
        """The first four groups of a version-4 UUID; `kind` keeps id spaces apart."""
        return f"{self.seed & 0xFFFFFFFF:08x}-{kind:04x}-4000-8000-"

    def account_id(self, index: int) -> str:
        return f"{self.id_prefix(0)}{self.scramble(index):012x}"

    def subscription_id(self, index: int) -> str:
        return f"{self.id_prefix(1)}{self.scramble(index):012x}"

    def payment_method_id(self, index: int) -> str:
        return f"{self.id_prefix(2)}{self.scramble(index):012x}"

    def email(self, index: int) -> str:
        first = FIRST_SLUGS[index % len(FIRST_SLUGS)]
        last = LAST_SLUGS[(index // len(FIRST_SLUGS)) % len(LAST_SLUGS)]
        return f"{first}.{last}.{index}@{DOMAINS[index % len(DOMAINS)]}"

    def full_name(self, index: int) -> str:
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        return f"{first} {LAST_NAMES[(index // len(FIRST_NAMES)) % len(LAST_NAMES)]}"

    def household(self, index: int) -> int:
        return index - 1 if index % HOUSEHOLD_EVERY == 1 and index > 0 else index

    def home_ip(self, index: int) -> str:
        h = self.scramble(self.household(index)) & 0xFFFFFF
        return f"10.{h >> 16}.{(h >> 8) & 255}.{h & 255}"

    def nat_ip(self, slot: int) -> str:
        return f"100.64.{slot >> 8 & 255}.{slot & 255}"

    def device(self, index: int, second: bool) -> str:
        # Households share their first device (the living-room TV).
        owner = self.household(index) if not second else index
        return f"dev-{self.scramble(owner, 1 if second else 0):012x}"

    def card_fingerprint(self, card: int) -> str:
        return f"fp_{self.scramble(card, 7):012x}"

    def first_card(self, index: int) -> int:
        # Rings of three: accounts 40k, 40k+1 and 40k+2 use account 40k's card.
        return index - index % 40 if index % 40 < 3 else index


def _ascii_slug(name: str) -> str:
    slug = "".join(c for c in name.lower() if c.isascii() and c.isalnum())
    return slug or "user"


FIRST_SLUGS = tuple(map(_ascii_slug, FIRST_NAMES))
LAST_SLUGS = tuple(map(_ascii_slug, LAST_NAMES))


def _escaped(pool: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(copy_text(value) for value in pool)


def _day_strings(days: int) -> list[str]:
    return [(REFERENCE_NOW - timedelta(days=d + 1)).strftime("%Y-%m-%d ") for d in range(days)]


def table_rng(seed: int, table: str) -> random.Random:
    """The random stream of one table: tables stay independent of each other's draws."""
    return random.Random(f"{seed}:{table}")


def account_lines(ident: Identity, count: int) -> Iterator[str]:
    rng = table_rng(ident.seed, "accounts")
    rand, bits = rng.random, rng.getrandbits
    days = _day_strings(ACCOUNT_HISTORY_DAYS)
    names = [copy_text(ident.full_name(i)) for i in range(len(FIRST_NAMES) * len(LAST_NAMES))]
    for i in range(count):
        created = days[int(rand() * len(days))]
        # updated_at: unchanged since it was opened
        yield (
            f"{ident.account_id(i)}\t{ident.email(i)}\t$2b$12${bits(212):053x}\t"
            f"{names[i % len(names)]}\t{created}09:00:00+00\t{created}09:00:00+00"
        )


def payment_method_lines(ident: Identity) -> Iterator[str]:
    rng = table_rng(ident.seed, "payment_methods")
    rand = rng.random
    # Identity.payment_method_id / account_id / card_fingerprint, inlined
    mult, offset, n = ident.mult, ident.offset, ident.accounts
    pm_prefix, account_prefix = ident.id_prefix(2), ident.id_prefix(0)
    # updated_at: a day of the history, a function of the row (no draw, so the
    # other columns are those of a seed whatever this column holds)
    days = _day_strings(HISTORY_DAYS)
    row = 0
    for i in range(n):
        account = f"{account_prefix}{(i * mult + offset) & MASK48:012x}"
        card = ident.first_card(i)
        if rand() < 0.01:  # a stray shared card, outside the rings
            card = int(rand() * n)
        cards = (card, n + i) if i % 5 == 0 else (card,)
        for c in cards:
            yield (
                f"{pm_prefix}{(row * mult + offset) & MASK48:012x}\t{account}\t"
                f"fp_{(c * mult + offset + 7) & MASK48:012x}\t{CARD_TYPES[c % len(CARD_TYPES)]}\t"
                f"{c * 7919 % 10000:04d}\t{days[row * 7919 % HISTORY_DAYS]}12:00:00+00"
            )
            row += 1


def subscription_lines(ident: Identity) -> Iterator[str]:
    rng = table_rng(ident.seed, "subscriptions")
    rand = rng.random
    days = _day_strings(HISTORY_DAYS)
    renewals = [(REFERENCE_NOW + timedelta(days=1 + d)).strftime("%Y-%m-%d ") for d in range(30)]
    row = 0
    for i in range(ident.accounts):
        start = int(rand() * (HISTORY_DAYS - 200)) + 200
        if i % 10 == 0:  # an older plan, since cancelled
            # updated_at: when it was cancelled
            yield (
                f"{ident.subscription_id(row)}\t{ident.account_id(i)}\t1\tcancelled\t"
                f"{days[start]}10:00:00+00\t{days[start - 180]}10:00:00+00\t"
                f"{days[start - 180]}10:00:00+00"
            )
            row += 1
            start -= 190
        plan = PLAN_WEIGHTS[int(rand() * len(PLAN_WEIGHTS))]
        status = SUBSCRIPTION_STATUSES[int(rand() * len(SUBSCRIPTION_STATUSES))]
        renews = renewals[start % 30]
        # updated_at: when it started (a renewal changes no row)
        yield (
            f"{ident.subscription_id(row)}\t{ident.account_id(i)}\t{plan}\t{status}\t"
            f"{days[start]}10:00:00+00\t{renews}10:00:00+00\t{days[start]}10:00:00+00"
        )
        row += 1


def media_id(index: int) -> str:
    return f"MED-{index + 1:07d}"


def media_lines(ident: Identity, count: int) -> Iterator[str]:
    rng = table_rng(ident.seed, "media_content")
    rand = rng.random
    words = _escaped(TITLE_WORDS)
    for j in range(count):
        title = f"{words[int(rand() * len(words))]} {words[int(rand() * len(words))]} {j + 1}"
        year, day = 1990 + int(rand() * 35), 1 + int(rand() * 28)
        yield (
            f"{media_id(j)}\t{title}\t{MEDIA_TYPES[int(rand() * len(MEDIA_TYPES))]}\t"
            f"{GENRES[int(rand() * len(GENRES))]}\t{year}-{1 + j % 12:02d}-{day:02d}\t"
            f"{20 + int(rand() * 140)}"
        )


def play_event_chunks(
    ident: Identity, count: int, media_count: int, chunk_rows: int = CHUNK_ROWS
) -> Iterator[str]:
    """Sessions of 1-4 events; busy accounts and popular titles get most of them.

    The hot loop of the generator: identifiers are computed inline rather than
    through `Identity` methods, and lines go straight into the chunk list.
    """
    rng = table_rng(ident.seed, "play_events")
    rand = rng.random
    days = _day_strings(HISTORY_DAYS)
    minutes = [f"{s // 60:02d}:{s % 60:02d}+00" for s in range(3600)]
    hours = [f"{h:02d}:" for h, w in enumerate(HOUR_WEIGHTS) for _ in range(w)]
    media = [media_id(j) for j in range(media_count)]
    nat_ips = [ident.nat_ip(slot) for slot in range(ident.nat_pool)]
    n_days, n_hours, n_media, n_accounts = len(days), len(hours), len(media), ident.accounts
    n_seq, n_nat = len(ACTION_SEQUENCES), len(nat_ips)
    mult, offset, id_prefix = ident.mult, ident.offset, ident.id_prefix(0)
    session_prefix = f"s{ident.seed & 0xFFFFFF:06x}-"
    lines: list[str] = []
    append = lines.append
    event_id, session = 1, 0
    while event_id <= count:
        r = rand()
        i = int(n_accounts * r * r)  # skewed: low indexes stream the most
        r = rand()
        title = media[int(n_media * r * r * r)]
        home = i - 1 if i % HOUSEHOLD_EVERY == 1 else i  # == ident.household(i)
        if rand() < NAT_SHARE:
            ip = nat_ips[int(rand() * n_nat)]
        else:
            h = (home * mult + offset) & 0xFFFFFF
            ip = f"10.{h >> 16}.{(h >> 8) & 255}.{h & 255}"
        # Identity.device inlined: a personal device, or the household's shared one
        owner, salt = (i, 1) if rand() < 0.3 else (home, 0)
        device = f"dev-{(owner * mult + offset + salt) & MASK48:012x}"
        hour, second = hours[int(rand() * n_hours)], int(rand() * 1800)
        session += 1
        head = (
            f"\t{session_prefix}{session}\t{id_prefix}{(i * mult + offset) & MASK48:012x}"
            f"\t{title}\t{days[int(rand() * n_days)]}{hour}"
        )
        tail = f"\t{ip}\t{device}"
        for action in ACTION_SEQUENCES[int(rand() * n_seq)]:
            append(f"{event_id}{head}{minutes[second]}\t{action}{tail}")
            event_id += 1
            second += 60 + int(rand() * 360)  # stays within the hour: started before :30
        if len(lines) >= chunk_rows or event_id > count:
            del lines[max(0, len(lines) - (event_id - 1 - count)) :]  # trim past `count`
            yield "\n".join(lines) + "\n"
            lines.clear()


def agent_lines(ident: Identity, count: int) -> Iterator[str]:
    rng = table_rng(ident.seed, "agents")
    rand = rng.random
    days = _day_strings(ACCOUNT_HISTORY_DAYS * 2)
    for k in range(count):
        name = copy_text(ident.full_name(k * 7 + 3))
        team = TEAMS[int(rand() * len(TEAMS))]
        yield f"{k + 1}\t{name}\t{team}\t{days[int(rand() * len(days))].strip()}"


def ticket_id(index: int) -> str:
    return f"TCK-{index + 1:08d}"


def ticket_lines(ident: Identity, count: int, agents: int) -> Iterator[str]:
    rng = table_rng(ident.seed, "tickets")
    rand = rng.random
    days = _day_strings(HISTORY_DAYS)
    subjects = _escaped(SUBJECTS)
    for k in range(count):
        r = rand()
        email = ident.email(int(ident.accounts * r * r))
        r = rand()
        if r < 0.05:  # legacy desk: typed in capitals
            email = email.upper()
        elif r < 0.10:
            email = f" {email.capitalize()} "
        elif r < 0.14:
            email = f"walk-in.{k}@unknown.test"
        agent = "\\N" if rand() < 0.1 else str(1 + int(rand() * agents))
        day = days[int(rand() * len(days))]
        hour, minute = int(rand() * 23), int(rand() * 60)
        yield (
            f"{ticket_id(k)}\t{email}\t{agent}\t{subjects[int(rand() * len(subjects))]}\t"
            f"{TICKET_STATUSES[int(rand() * len(TICKET_STATUSES))]}\t"
            f"{day}{hour:02d}:{minute:02d}:00+00\t{day}{hour + 1:02d}:{minute:02d}:00+00"
        )


def ticket_tag_link_lines(ident: Identity, tickets: int) -> Iterator[str]:
    rng = table_rng(ident.seed, "ticket_tag_link")
    rand = rng.random
    n_weights, n_tags = len(TAG_WEIGHTS), len(TAGS)
    for k in range(tickets):
        tag = TAG_WEIGHTS[int(rand() * n_weights)]
        yield f"{ticket_id(k)}\t{tag}"
        if k % 3 == 0:
            other = (tag + int(rand() * (n_tags - 1))) % n_tags + 1  # any tag but `tag`
            yield f"{ticket_id(k)}\t{other}"


def generated_loads(kind: StreamingKind, counts: ScaleCounts, ident: Identity) -> list[TableLoad]:
    """The kind's tables, in load order, as lazily generated COPY chunks: each
    line holds the values of every column in the order schema.sql declares them."""
    if kind == "profiles_db":
        return [
            TableLoad.of_lines("accounts", account_lines(ident, counts.accounts), counts.accounts),
            TableLoad.of_rows("plans", PLANS),
            TableLoad.of_lines(
                "payment_methods",
                payment_method_lines(ident),
                counts.payment_methods,
            ),
            TableLoad.of_lines("subscriptions", subscription_lines(ident), counts.subscriptions),
        ]
    if kind == "streaming_db":
        return [
            TableLoad.of_lines(
                "media_content", media_lines(ident, counts.media_content), counts.media_content
            ),
            TableLoad(
                "play_events",
                play_event_chunks(ident, counts.play_events, counts.media_content),
                counts.play_events,
            ),
        ]
    return [
        TableLoad.of_lines("agents", agent_lines(ident, counts.agents), counts.agents),
        TableLoad.of_lines(
            "tickets", ticket_lines(ident, counts.tickets, counts.agents), counts.tickets
        ),
        TableLoad.of_rows("ticket_tags", TAGS),
        TableLoad.of_lines(
            "ticket_tag_link", ticket_tag_link_lines(ident, counts.tickets), counts.ticket_tag_link
        ),
    ]


def generated_plan(scale_factor: float, seed: int) -> LoadPlan:
    """The streaming domain's databases at `scale_factor`, as lazily generated loads."""
    counts = ScaleCounts.for_scale_factor(scale_factor)
    ident = Identity.for_seed(seed, counts.accounts)
    return {kind: generated_loads(kind, counts, ident) for kind in get_args(StreamingKind)}


def generate(
    settings: Settings, scale_factor: float, seed: int, targets: SourceTargets | None = None
) -> dict[str, int]:
    """(Re)create the streaming domain's three databases filled at `scale_factor`;
    returns rows per table. Other domains, progress: `c360.samples.domains.generate`."""
    return load_databases(settings, targets or SourceTargets(), generated_plan(scale_factor, seed))
