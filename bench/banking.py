"""The banking domain at a scale factor: generator rate, dbt build, exports.

    .venv/bin/python bench/banking.py --scale-factor 10

Into databases of its own (`benchbank_<db>`, a staging database
`benchbank_c360`, through a scratch copy of the project): the streaming
sources get their sample story (a few hundred rows), the banking ones
`samples generate --domain banking --scale-factor SF`; then attach, models
generate, dbt build, `c360-export --mode bulk` and `--mode merge --clear`, each
timed as a user runs it. The banking rows dominate every stage, so the
figures are the banking domain's.

Results: a table on stdout, JSON in bench/results/banking_<sf>.json.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from typing import Any

from run import REPO, count_graph_rows, count_source_rows, prepare, stage_cli, stage_dbt

PREFIX = "benchbank_"
BANKING_DBS = {"core_banking_db", "kyc_db", "payments_db"}
BANKING_LABELS = {"Person", "BankAccount", "Address", "Phone"}
BANKING_TYPES = {"OWNS", "HAS_ADDRESS", "HAS_PHONE", "TRANSFERRED"}


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale-factor", "-s", type=float, default=1.0)
    args = parser.parse_args()
    sf = f"{args.scale_factor:g}"
    ctx = prepare(
        argparse.Namespace(
            staging_db=f"{PREFIX}c360",
            work_dir=str(REPO / ".c360" / "bench" / f"banking_{sf}"),
            scale_factor=args.scale_factor,
            project_dir=None,
            database_prefix=PREFIX,
        )
    )
    load_before = os.getloadavg()
    prefix = ("--database-prefix", PREFIX)
    stage_cli(ctx, "streaming_story", 0, "samples", "load", "--domain", "streaming", *prefix)
    generated = stage_cli(
        ctx, "generate", 0, "samples", "generate", "--domain", "banking", "-s", sf, *prefix
    )
    generated_rows = sum(
        n for table, n in count_source_rows(ctx).items() if table.split(".")[0] in BANKING_DBS
    )
    project = ("--project-dir", str(ctx.project))
    stage_cli(ctx, "attach", 0, "sources", "attach", *project)
    stage_cli(ctx, "models_generate", 0, "models", "generate", *project)
    dbt = stage_dbt(ctx, 0)
    nodes, rels, tables = count_graph_rows(ctx)
    rows = nodes + rels
    bulk = stage_cli(ctx, "bulk", rows, "--mode", "bulk", "--allow-mass-delete", "--json")
    merge = stage_cli(
        ctx, "merge", rows, "--mode", "merge", "--clear", "--allow-mass-delete", "--json"
    )
    banking_rows = sum(
        n for t, n in tables.items() if t.split(":")[1] in BANKING_TYPES | BANKING_LABELS
    )
    result = {
        "scale_factor": args.scale_factor,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "generate": {
            "rows": generated_rows,
            "seconds": round(generated.seconds, 2),
            "rows_per_s": round(generated_rows / generated.seconds),
        },
        "dbt_build_seconds": round(dbt.seconds, 2),
        "graph_rows": rows,
        "banking_graph_rows": banking_rows,
        "bulk": {"seconds": round(bulk.seconds, 2), "rows_per_s": round(bulk.rows_per_s)},
        "merge": {"seconds": round(merge.seconds, 2), "rows_per_s": round(merge.rows_per_s)},
        "tables": tables,
    }
    out = REPO / "bench" / "results" / f"banking_{sf}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "tables"}, indent=2))
    return result


if __name__ == "__main__":
    main()
