"""What a keyed relationship's MERGE pays for moving a key held between other nodes.

    .venv/bin/python bench/banking.py --scale-factor 1     # leaves 100,000 TRANSFERRED
    .venv/bin/python bench/keyed_merge.py --rounds 3

A plain merge or a sync writes a keyed relationship (TRANSFERRED, one per
transaction) by finding its key wherever it is and moving it when it joins
other nodes (`cypher.merge_relationships`); a MERGE on the pattern, the
statement before it, fails the uniqueness constraint on a moved transfer on
every rerun. This script reads every TRANSFERRED of the graph the banking
benchmark left in Neo4j and writes it again, unchanged, with both statements,
alternating for `--rounds` rounds: the ratio of their rates is what moving
costs on the common case, a merge over a graph that already holds the rows.

Results: a table on stdout, JSON in bench/results/keyed_merge.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from c360.config import Settings
from c360.export import cypher, merge
from c360.neo4j_driver import open_driver

RESULTS = Path(__file__).resolve().parent / "results" / "keyed_merge.json"
PROPERTIES = ("transaction_id", "amount", "transaction_type", "suspicious_pattern")
READ = (
    "MATCH (a:BankAccount)-[r:TRANSFERRED]->(b:BankAccount)"
    " RETURN [a.account_id, b.account_id] + [p IN $properties | r[p]] AS row"
)


def statements() -> dict[str, str]:
    """The exporter's statement, and the MERGE on the pattern it replaced, which
    cannot move a key (the baseline)."""
    exporters = cypher.merge_relationships(
        "TRANSFERRED",
        "BankAccount",
        ["account_id"],
        "BankAccount",
        ["account_id"],
        PROPERTIES,
        "$rows",
        keys=PROPERTIES[:1],
    )
    properties = ", ".join(f"`{name}`: row[{i}]" for i, name in enumerate(PROPERTIES, start=2))
    pattern_merge = (
        "UNWIND $rows AS row "
        "MATCH (a:`BankAccount` {`account_id`: row[0]}) "
        "MATCH (b:`BankAccount` {`account_id`: row[1]}) "
        "MERGE (a)-[r:`TRANSFERRED` {`transaction_id`: row[2]}]->(b) "
        f"SET r += {{{properties}}}"
    )
    return {"with_move": exporters, "without_move": pattern_merge}


def timed_merge(driver: Any, database: str, statement: str, rows: list[list[Any]]) -> float:
    batches = [rows[i : i + 10_000] for i in range(0, len(rows), 10_000)]
    started = time.perf_counter()
    merge.write(driver, database, statement, batches)
    return time.perf_counter() - started


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    settings = Settings.from_env()
    database = settings.neo4j.database
    load_before = os.getloadavg()
    with open_driver(settings) as driver:
        records, _, _ = driver.execute_query(READ, properties=list(PROPERTIES), database_=database)
        rows = [record["row"] for record in records]
        if not rows:
            raise SystemExit("no TRANSFERRED in Neo4j: run bench/banking.py first")
        seconds: dict[str, list[float]] = {name: [] for name in statements()}
        for _ in range(args.rounds):
            for name, statement in statements().items():
                seconds[name].append(round(timed_merge(driver, database, statement, rows), 3))
    rates = {name: round(len(rows) / statistics.median(s)) for name, s in seconds.items()}
    result = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "relationships": len(rows),
        "seconds": seconds,
        "median_rows_per_s": rates,
        "rate_with_to_without": round(rates["with_move"] / rates["without_move"], 3),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
