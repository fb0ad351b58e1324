"""What relationship properties cost: bulk and merge, with and without them, in one run.

    .venv/bin/python bench/relationship_properties.py --scale-factor 1

On the sources `samples generate` loaded (or loads, without --skip-load), a
scratch copy of the project adds one relationship type per play event,
`(:Account)-[:STREAMED_ON]->(:Device)` through play_events keyed by event_id,
in two variants that differ only in its properties:

    key_only         the key (event_id), as every keyed relationship has
    with_properties  the key and session_id, event_timestamp, action, media_id

For each: models generate, dbt build, then `c360-export --mode bulk` and
`--mode merge --clear`, timed as a user runs them. The graph has the same
nodes and relationships in both, so the ratios are the cost of the properties:
the whole bulk import, and STREAMED_ON's own merge time and rate. The variants
alternate for `--rounds` rounds and the ratios compare medians: one round of
each is within the run-to-run noise at SF=1.

Results: a table on stdout, JSON in bench/results/relationship_properties_<sf>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from c360.transform.dbt import copy_project
from run import REPO, Context, count_graph_rows, prepare, stage_cli, stage_dbt

RELATIONSHIP = (
    "STREAMED_ON,Account,account_id,Device,device_fingerprint,streaming,play_events,"
    "account_id_from_token,device_fingerprint,,true,20,One per play event.,,event_id,{properties}"
)
VARIANTS = {
    "key_only": "",
    "with_properties": "session_id event_timestamp action media_id",
}


def add_relationship(project: Path, properties: str) -> None:
    """The project's own rows plus STREAMED_ON with `properties`."""
    path = project / "seeds" / "control" / "relationship_mappings.csv"
    own = (REPO / "seeds" / "control" / "relationship_mappings.csv").read_text(encoding="utf-8")
    path.write_text(own + RELATIONSHIP.format(properties=properties) + "\n", encoding="utf-8")


def table_stats(stage_detail: dict[str, Any], name: str) -> dict[str, float]:
    (table,) = [t for t in stage_detail["tables"] if t["name"] == name]
    seconds = float(table["seconds"])
    return {
        "rows": table["rows"],
        "seconds": round(seconds, 2),
        "rows_per_s": round(table["rows"] / seconds) if seconds else 0,
    }


def run_variant(ctx: Context, name: str, properties: str) -> dict[str, Any]:
    add_relationship(ctx.project, properties)
    project_args = ("--project-dir", str(ctx.project))
    stage_cli(ctx, f"{name}_generate", 0, "models", "generate", *project_args)
    stage_dbt(ctx, 0)
    nodes, rels, _ = count_graph_rows(ctx)
    rows = nodes + rels
    bulk = stage_cli(ctx, f"{name}_bulk", rows, "--mode", "bulk", "--allow-mass-delete", "--json")
    merge = stage_cli(
        ctx, f"{name}_merge", rows, "--mode", "merge", "--clear", "--allow-mass-delete", "--json"
    )
    return {
        "graph_rows": rows,
        "bulk": {"seconds": round(bulk.seconds, 2), "rows_per_s": round(bulk.rows_per_s)},
        "merge": {"seconds": round(merge.seconds, 2), "rows_per_s": round(merge.rows_per_s)},
        "merge_streamed_on": table_stats(merge.detail, "STREAMED_ON"),
    }


def medians(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Per figure, the median over the rounds (samples of the same shape)."""

    def median_of(path: tuple[str, ...]) -> float:
        values = []
        for sample in samples:
            value: Any = sample
            for part in path:
                value = value[part]
            values.append(value)
        return round(statistics.median(values), 2)

    return {
        "graph_rows": samples[0]["graph_rows"],
        **{
            stage: {figure: median_of((stage, figure)) for figure in samples[0][stage]}
            for stage in ("bulk", "merge", "merge_streamed_on")
        },
    }


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale-factor", "-s", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per variant")
    parser.add_argument("--skip-load", action="store_true", help="reuse the loaded sources")
    args = parser.parse_args()
    work = REPO / ".c360" / "bench" / f"relationship_properties_{args.scale_factor:g}"
    ctx = prepare(
        argparse.Namespace(
            staging_db="c360_bench_relprops",
            work_dir=str(work),
            scale_factor=args.scale_factor,
            project_dir=None,
            database_prefix="",
        )
    )
    # a project of its own, so the user's generated files stay as they are
    ctx = replace(ctx, project=copy_project(REPO, work / "project"))
    load_before = os.getloadavg()
    if not args.skip_load:
        scale = f"{args.scale_factor:g}"
        stage_cli(ctx, "source_load", 0, "samples", "generate", "--scale-factor", scale)
    stage_cli(ctx, "attach", 0, "sources", "attach", "--project-dir", str(ctx.project))
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in VARIANTS}
    for _ in range(args.rounds):
        for name, props in VARIANTS.items():
            samples[name].append(run_variant(ctx, name, props))
    variants = {name: medians(rounds) for name, rounds in samples.items()}
    plain, rich = variants["key_only"], variants["with_properties"]
    result = {
        "scale_factor": args.scale_factor,
        "rounds": args.rounds,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "variants": variants,
        "samples": samples,
        "ratios_with_to_without": {
            "bulk_seconds": round(rich["bulk"]["seconds"] / plain["bulk"]["seconds"], 3),
            "merge_seconds": round(rich["merge"]["seconds"] / plain["merge"]["seconds"], 3),
            "merge_streamed_on_rows_per_s": round(
                rich["merge_streamed_on"]["rows_per_s"] / plain["merge_streamed_on"]["rows_per_s"],
                3,
            ),
        },
    }
    out = REPO / "bench" / "results" / f"relationship_properties_{args.scale_factor:g}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
