"""The banking domain's sources, synthetic, at any scale factor, streamed into COPY.

SF=1 is 2,000 persons, 3,500 bank accounts, 2,500 addresses, 2,666 phones and
100,000 transactions; everything scales linearly. The same seed gives the same
rows: each table draws from its own random stream (`generator.table_rng`), and
what tables share (a person's accounts, a household's address, a ring's phone
number) is a pure function of the seed and the person's index, so nothing per
person is held in memory.

The story's shapes survive at scale, each at fixed person indexes:
- households: persons 10k, 10k+1 and 10k+2 live at person 10k's address (one
  address row each); every 4th person also has a previous address;
- phone rings: persons 25k+5, 25k+6 and 25k+7 share one phone number;
- mules: person 50k+7 (in a ring) owns a mule account, its first; every 200th
  event is a fan-in of six transfers from six distinct persons into a mule
  account, which then sends the money on to an external counterparty;
- structurers: person 40k+13; every 499th event is 5-7 transfers of
  9,500-9,990 from one structurer within three days;
- everyday transfers: busy senders send most (a skewed choice), quiet persons
  (5k+4) none; 30% go to external counterparties (`EXT-...`, no bank account)
  shared by many;
- account types in mixed case, ~7% of accounts closed, flagged persons (mules,
  structurers, 1% others) with a reason.
Mule and structuring transfers carry their `suspicious_pattern`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import accumulate

from c360.samples.banking_story import (
    AS_OF,
    EXTERNAL_PREFIX,
    MULE_REASON,
    TRANSFER_NOTES,
    account_id,
    address_id,
    person_id,
    phone_id,
)
from c360.samples.generator import FIRST_NAMES, LAST_NAMES, check_scale_factor, table_rng
from c360.samples.load import CHUNK_ROWS, LoadPlan, TableLoad, copy_text

MASK48 = (1 << 48) - 1
HISTORY_DAYS = 365  # transactions fall in the year before AS_OF
ACCOUNT_HISTORY_DAYS = 20 * 365

# Accounts per person by index mod 4 (1.75 on average): a block of four persons
# holds seven accounts, so a person's accounts are a function of their index.
ACCOUNTS_PER_PERSON = (1, 2, 2, 2)
FIRST_ACCOUNT_IN_BLOCK = tuple(accumulate(ACCOUNTS_PER_PERSON[:-1], initial=0))
ACCOUNTS_PER_BLOCK = sum(ACCOUNTS_PER_PERSON)
PREVIOUS_ADDRESS_EVERY = 4  # person 4k+3 also has a previous address
SECOND_PHONE_EVERY = 3  # person 3k+2 also has a home or work phone
HOUSEHOLD_EVERY, HOUSEHOLD_SIZE = 10, 3
RING_EVERY, RING_START, RING_SIZE = 25, 5, 3
MULE_EVERY, MULE_OFFSET = 50, 7
STRUCTURER_EVERY, STRUCTURER_OFFSET = 40, 13
FAN_IN_EVERY, FAN_IN = 200, 6  # events; senders per fan-in
STRUCTURING_EVERY = 499  # events
# Person 5k+4 sends no everyday transfer (a quiet customer: the low segments);
# the others send a skewed share each.
QUIET_EVERY = 5
OTHER_ACCOUNT_SHARE = 0.3  # of everyday transfers, sent from an account other than the first
EXTERNAL_SHARE = 0.3
OTHER_FLAG_SHARE = 0.01

# A person's first account is a checking account; the others are drawn by weight.
CHECKING = ("CHECKING", "checking", "Checking")
OTHER_TYPES = (
    ("Savings", "SAVINGS", "savings") * 3
    + ("CREDIT_CARD", "credit_card", "Credit_Card") * 2
    + ("INVESTMENT", "investment") * 2
)
# The largest balance of a type, in cents, reached as r**power for r in [0, 1).
BALANCE_RANGES = {
    "checking": (4_000_000, 2),
    "savings": (15_000_000, 3),
    "investment": (40_000_000, 3),
    "credit_card": (800_000, 1),
}
STRUCTURER_REASON = "structuring: repeated transfers just under 10,000"
OTHER_REASONS = ("sanctions list near-match", "adverse media", "identity document expired")
STREETS = (
    "Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Harbor View Rd", "Elm St", "Lakeshore Dr",
    "Mission St", "Peachtree Ct", "O'Connell Way", "Sunset Blvd", "Pine St", "Congress Ave",
)  # fmt: skip
CITIES = (
    ("Portland", "ME", "041"), ("Boston", "MA", "021"), ("Chicago", "IL", "606"),
    ("Brooklyn", "NY", "112"), ("San Francisco", "CA", "941"), ("Austin", "TX", "787"),
    ("Seattle", "WA", "981"), ("Atlanta", "GA", "303"), ("Miami Beach", "FL", "331"),
    ("Concord", "NH", "033"),
)  # fmt: skip
MERCHANT_NOTES = ("groceries", "electricity bill", "rent", "transit pass", "flight", "Café")
MULE_NOTES = ("investment opportunity", "crypto deposit", "loan to a friend", "gift")


@dataclass(frozen=True)
class BankingCounts:
    """Exact row counts per table for a scale factor."""

    persons: int
    bank_accounts: int
    addresses: int
    phones: int
    transactions: int

    @classmethod
    def for_scale_factor(cls, scale_factor: float) -> BankingCounts:
        check_scale_factor(scale_factor)
        # at least one mule (person 7) and one structurer (person 13)
        persons = max(20, round(2_000 * scale_factor))
        return cls(
            persons=persons,
            bank_accounts=first_account(persons),
            addresses=persons + persons // PREVIOUS_ADDRESS_EVERY,
            phones=persons + persons // SECOND_PHONE_EVERY,
            # enough events for a structuring run
            transactions=max(1_000, round(100_000 * scale_factor)),
        )


def first_account(person: int) -> int:
    """The index of the person's first account (of all accounts, for `person` = their count)."""
    block, position = divmod(person, len(ACCOUNTS_PER_PERSON))
    return block * ACCOUNTS_PER_BLOCK + FIRST_ACCOUNT_IN_BLOCK[position]


def household(person: int) -> int:
    """The person whose address `person` lives at: the household's first member."""
    head = person - person % HOUSEHOLD_EVERY
    return head if person - head < HOUSEHOLD_SIZE else person


def ring(person: int) -> int:
    """The person whose phone number `person` uses: the ring's first member."""
    position = person % RING_EVERY
    in_ring = RING_START <= position < RING_START + RING_SIZE
    return person - position + RING_START if in_ring else person


def is_mule(person: int) -> bool:
    return person % MULE_EVERY == MULE_OFFSET


def is_structurer(person: int) -> bool:
    return person % STRUCTURER_EVERY == STRUCTURER_OFFSET


@dataclass(frozen=True)
class Scrambler:
    """Per-seed pseudo-random but fixed values for an index: addresses, phones, SSNs."""

    mult: int
    offset: int

    @classmethod
    def for_seed(cls, seed: int) -> Scrambler:
        rng = table_rng(seed, "banking_identity")
        return cls(mult=rng.getrandbits(48) | 1, offset=rng.getrandbits(48))

    def __call__(self, index: int, salt: int = 0) -> int:
        return (index * self.mult + self.offset + salt) & MASK48

    def address(self, key: int) -> str:
        """street, city, state, zip_code as COPY text: one place, whoever lives there."""
        h = self(key, 11)
        city, state, zip_prefix = CITIES[(h >> 20) % len(CITIES)]
        street = f"{1 + h % 9899} {STREETS[(h >> 14) % len(STREETS)]}"
        if (h >> 30) % 4 == 0:
            street += f" Apt {1 + (h >> 32) % 40}"
        return f"{copy_text(street)}\t{city}\t{state}\t{zip_prefix}{(h >> 24) % 100:02d}"

    def phone(self, key: int) -> str:
        h = self(key, 13)
        return f"+1-{200 + h % 800:03d}-{100 + (h >> 10) % 900:03d}-{(h >> 20) % 10000:04d}"

    def ssn(self, person: int) -> str:
        # Not a real SSN: area numbers from 900 up are never issued.
        h = self(person, 17)
        return f"9{h % 100:02d}-{10 + (h >> 8) % 90:02d}-{(h >> 16) % 10000:04d}"


def _dates(days: int) -> list[str]:
    return [(AS_OF - timedelta(days=d + 1)).strftime("%Y-%m-%d") for d in range(days)]


def person_lines(seed: int, scramble: Scrambler, count: int) -> Iterator[str]:
    rng = table_rng(seed, "persons")
    rand = rng.random
    firsts, lasts = [copy_text(n) for n in FIRST_NAMES], [copy_text(n) for n in LAST_NAMES]
    births = _dates(80 * 365)[18 * 365 :]
    for i in range(count):
        if is_mule(i):
            reason = MULE_REASON
        elif is_structurer(i):
            reason = STRUCTURER_REASON
        elif rand() < OTHER_FLAG_SHARE:
            reason = OTHER_REASONS[int(rand() * len(OTHER_REASONS))]
        else:
            reason = None
        score = 70 + 30 * rand() if reason else 60 * rand() ** 2
        flag = f"true\t{reason}" if reason else "false\t\\N"
        yield (
            f"{person_id(i)}\t{firsts[i % len(firsts)]}\t"
            f"{lasts[(i // len(firsts)) % len(lasts)]}\t{scramble.ssn(i)}\t"
            f"{births[int(rand() * len(births))]}\t{score:.1f}\t{flag}"
        )


def account_lines(seed: int, persons: int) -> Iterator[str]:
    rng = table_rng(seed, "bank_accounts")
    rand = rng.random
    opened = _dates(ACCOUNT_HISTORY_DAYS)
    for i in range(persons):
        for slot in range(ACCOUNTS_PER_PERSON[i % len(ACCOUNTS_PER_PERSON)]):
            if slot == 0:
                account_type = CHECKING[int(rand() * len(CHECKING))]
            else:
                account_type = OTHER_TYPES[int(rand() * len(OTHER_TYPES))]
            r = rand()
            mule_account = slot == 0 and is_mule(i)
            status = "active" if mule_account or r >= 0.10 else "closed" if r < 0.07 else "dormant"
            cents = 0
            if status != "closed":
                top, power = BALANCE_RANGES[account_type.lower()]
                cents = int(top * rand() ** power)
            yield (
                f"{account_id(first_account(i) + slot)}\t{account_type}\t{status}\t"
                f"{cents // 100}.{cents % 100:02d}\t{opened[int(rand() * len(opened))]}\t"
                f"{person_id(i)}"
            )


def address_lines(scramble: Scrambler, persons: int) -> Iterator[str]:
    row = 0
    for i in range(persons):
        places = (household(i), persons + i) if i % PREVIOUS_ADDRESS_EVERY == 3 else (household(i),)
        for place in places:
            yield f"{address_id(row)}\t{scramble.address(place)}\t{person_id(i)}"
            row += 1


def phone_lines(scramble: Scrambler, persons: int) -> Iterator[str]:
    row = 0
    for i in range(persons):
        yield f"{phone_id(row)}\t{scramble.phone(ring(i))}\tmobile\t{person_id(i)}"
        row += 1
        if i % SECOND_PHONE_EVERY == 2:
            kind = "home" if i % 2 else "work"
            yield f"{phone_id(row)}\t{scramble.phone(persons + i)}\t{kind}\t{person_id(i)}"
            row += 1


def transaction_chunks(
    seed: int, counts: BankingCounts, chunk_rows: int = CHUNK_ROWS
) -> Iterator[str]:
    """Everyday transfers, with a mule fan-in every FAN_IN_EVERY events and a
    structuring run every STRUCTURING_EVERY.

    The hot loop: identifiers are formatted inline and lines go straight into
    the chunk list; bursts may run past the count, and are trimmed.
    """
    rng = table_rng(seed, "transactions")
    rand = rng.random
    n_persons, n_accounts, count = counts.persons, counts.bank_accounts, counts.transactions
    days = _dates(HISTORY_DAYS)
    n_days = len(days)
    clock = [
        f"{h:02d}:{m:02d}:{s:02d}+00" for h in range(7, 23) for m in range(60) for s in (0, 30)
    ]
    n_clock = len(clock)
    externals = [f"{EXTERNAL_PREFIX}{k + 1:06d}" for k in range(max(20, n_persons // 10))]
    n_externals = len(externals)
    mules = range(MULE_OFFSET, n_persons, MULE_EVERY)
    structurers = range(STRUCTURER_OFFSET, n_persons, STRUCTURER_EVERY)
    step = n_persons // (FAN_IN + 1)  # fan-in senders start + j*step are distinct
    lines: list[str] = []
    append = lines.append
    number, event = 1, 0
    while number <= count:
        event += 1
        if event % FAN_IN_EVERY == 0:
            mule = mules[int(rand() * len(mules))]
            mule_account = f"A{first_account(mule) + 1:06d}"
            # the fan-in over three days, the cash-out the day after (index 0 is the latest day)
            start, day, total = int(rand() * n_persons), 1 + int(rand() * (n_days - 4)), 0
            for j in range(FAN_IN):
                sender = (start + j * step) % n_persons
                if sender == mule:
                    sender = (sender + 1) % n_persons
                cents = 150_000 + int(rand() * 750_000)
                total += cents
                date = days[day + j // 2]
                append(
                    f"T{number:07d}\t{cents // 100}.{cents % 100:02d}\ttransfer\t{date} "
                    f"{clock[int(rand() * n_clock)]}\t{date}\t"
                    f"{MULE_NOTES[int(rand() * len(MULE_NOTES))]}\t"
                    f"A{first_account(sender) + 1:06d}\t{mule_account}\tmule"
                )
                number += 1
            cents = total * 9 // 10
            date = days[day - 1]
            append(
                f"T{number:07d}\t{cents // 100}.{cents % 100:02d}\twire\t{date} "
                f"{clock[int(rand() * n_clock)]}\t{date}\twire transfer\t{mule_account}\t"
                f"{externals[int(rand() * n_externals)]}\tmule"
            )
            number += 1
        elif event % STRUCTURING_EVERY == 0:
            structurer = structurers[int(rand() * len(structurers))]
            account = f"A{first_account(structurer) + 1:06d}"
            if rand() < 0.5:
                to = externals[int(rand() * n_externals)]
            else:
                to = f"A{int(rand() * n_accounts) + 1:06d}"
            day = int(rand() * (n_days - 3))
            for _ in range(5 + int(rand() * 3)):
                cents = 950_000 + int(rand() * 49_001)
                date = days[day + int(rand() * 3)]
                append(
                    f"T{number:07d}\t{cents // 100}.{cents % 100:02d}\ttransfer\t{date} "
                    f"{clock[int(rand() * n_clock)]}\t{date}\tfamily support\t{account}\t"
                    f"{to}\tstructuring"
                )
                number += 1
        else:
            r = rand()
            sender = int(n_persons * r * r)  # skewed: low indexes send the most
            if sender % QUIET_EVERY == QUIET_EVERY - 1:
                sender -= 1
            account = first_account(sender)
            if rand() < OTHER_ACCOUNT_SHARE:
                account += int(rand() * ACCOUNTS_PER_PERSON[sender % len(ACCOUNTS_PER_PERSON)])
            r = rand()
            cents = 500 + int(1_200_000 * r * r * r)
            if rand() < EXTERNAL_SHARE:
                r = rand()
                to = externals[int(n_externals * r * r)]  # a few merchants are paid by many
                kind, note = "ach", MERCHANT_NOTES[int(rand() * len(MERCHANT_NOTES))]
            else:
                other = int(rand() * (n_accounts - 1))
                to = f"A{other + (other >= account) + 1:06d}"  # any account but the sender's
                kind, note = "transfer", TRANSFER_NOTES[int(rand() * len(TRANSFER_NOTES))]
            date = days[int(rand() * n_days)]
            append(
                f"T{number:07d}\t{cents // 100}.{cents % 100:02d}\t{kind}\t{date} "
                f"{clock[int(rand() * n_clock)]}\t{date}\t{note}\tA{account + 1:06d}\t{to}\t\\N"
            )
            number += 1
        if len(lines) >= chunk_rows or number > count:
            del lines[max(0, len(lines) - (number - 1 - count)) :]  # trim past `count`
            yield "\n".join(lines) + "\n"
            lines.clear()


def generated_plan(scale_factor: float, seed: int) -> LoadPlan:
    """The banking domain's databases at `scale_factor`, as lazily generated loads."""
    counts = BankingCounts.for_scale_factor(scale_factor)
    scramble = Scrambler.for_seed(seed)
    return {
        "core_banking_db": [
            TableLoad.of_lines(
                "persons", person_lines(seed, scramble, counts.persons), counts.persons
            ),
            TableLoad.of_lines(
                "bank_accounts", account_lines(seed, counts.persons), counts.bank_accounts
            ),
        ],
        "kyc_db": [
            TableLoad.of_lines(
                "addresses", address_lines(scramble, counts.persons), counts.addresses
            ),
            TableLoad.of_lines("phones", phone_lines(scramble, counts.persons), counts.phones),
        ],
        "payments_db": [
            TableLoad("transactions", transaction_chunks(seed, counts), counts.transactions),
        ],
    }
