"""c360 benchmark: every stage of the pipeline at one scale factor, and two baselines.

    make bench SF=10
    .venv/bin/python bench/run.py --scale-factor 10 --compare-with bench/results/1.json

Stages, each a child process run as a user runs it, timed on its own:

    source_load      c360-export samples generate --scale-factor SF
    attach           c360-export sources attach
    models_generate  c360-export models generate
    dbt_build        dbt build
    bulk             c360-export --mode bulk --json
    merge_clear      the graph emptied by `--clear` (timed apart from the merge)
    merge            c360-export --mode merge --json, into the emptied graph
    incremental      ~1 % of the source rows changed, dbt build, then
                     c360-export --mode sync --json (only the sync is this stage)

Baselines, on the same graph tables:

    original (a)     the original pipeline's way, written by us (bench/baselines.py):
                     one auto-commit `CREATE (n:Label {...literals...})` per row, one
                     `MATCH (a:From), (b:To) WHERE a.x = b.y CREATE (a)-[:T]->(b)` per
                     relationship type, one statement at a time, no index; time-capped
    lower_bound (b)  COPY of the graph tables to CSV + `neo4j-admin database import full`
                     of those files, nothing else (no stop/start, no constraints, no checks)

For every child the script records wall seconds and peak RSS: `self` is the child
process's own high-water mark (VmHWM polled from /proc) and `tree` what wait4()
reports for it and the children it waited for (bulk's neo4j-admin JVM counts there).
The exporter's peak RSS is the largest `self` over the exporter stages.

End to end (ours) = attach + models generate + dbt build + bulk export: what turns
loaded sources into a queryable graph. The original needs its sources loaded too, so
source load is left out of both sides.

Results: a table on stdout, JSON in bench/results/<sf>.json and latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import baselines  # noqa: E402
from c360.config import Settings  # noqa: E402
from c360.pg import open_connection  # noqa: E402
from c360.samples.load import SOURCE_KINDS, SourceTargets, reader_environment  # noqa: E402
from c360.transform.dbt import copy_project, dbt_environment, dbt_executable  # noqa: E402
from psycopg2 import sql  # noqa: E402

EXPORTER_STAGES = ("bulk", "merge_clear", "merge", "incremental")


@dataclass
class Stage:
    name: str
    seconds: float
    rows: int
    peak_rss_mb: float | None = None  # the child's own VmHWM
    tree_peak_rss_mb: float | None = None  # wait4(): the child and its reaped children
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        data["rows_per_s"] = round(self.rows_per_s, 1)
        return data


class BenchError(RuntimeError):
    pass


# --------------------------------------------------------------------------- children


def _vm_hwm_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


def run_child(
    name: str, argv: list[str], env: dict[str, str], logs: Path, cwd: Path | None = None
) -> tuple[float, float | None, float | None, str]:
    """Run argv; (seconds, own peak RSS MB, tree peak RSS MB, stdout). Raises on failure."""
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / f"{name}.out", logs / f"{name}.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        child = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=err)
        peak = [0]
        done = threading.Event()

        def poll() -> None:
            # VmHWM only grows, so the last reading before exit is the peak
            while not done.is_set():
                value = _vm_hwm_kb(child.pid)
                if value:
                    peak[0] = max(peak[0], value)
                done.wait(0.05)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        poller.join()
        child.returncode = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_text(errors="replace")
    if child.returncode != 0:
        tail = err_path.read_text(errors="replace")[-3000:] + stdout[-2000:]
        raise BenchError(f"{name} ({' '.join(argv[:4])} ...) exited {child.returncode}:\n{tail}")
    own = round(peak[0] / 1024, 1) if peak[0] else None
    return seconds, own, round(usage.ru_maxrss / 1024, 1), stdout


# --------------------------------------------------------------------------- setup


@dataclass
class Context:
    settings: Settings
    env: dict[str, str]
    project: Path
    profiles: Path
    work: Path
    prefix: str

    @property
    def logs(self) -> Path:
        return self.work / "logs"

    def cli(self) -> str:
        exe = Path(sys.executable).parent / "c360-export"
        return str(exe) if exe.exists() else "c360-export"

    def source_db(self, kind: str) -> str:
        return SourceTargets.with_prefix(self.prefix).database(kind)  # type: ignore[arg-type]


def prepare(args: argparse.Namespace) -> Context:
    env = dict(os.environ)
    if args.staging_db:
        env["C360_STAGING_DB"] = args.staging_db
    work = Path(args.work_dir or REPO / ".c360" / "bench" / _sf_name(args.scale_factor)).resolve()
    work.mkdir(parents=True, exist_ok=True)
    project = Path(args.project_dir or REPO).resolve()
    env.setdefault("C360_PROJECT_DIR", str(REPO))
    settings = Settings.from_env(env)
    if args.database_prefix:
        # a scratch copy of the dbt project whose control rows name the prefixed
        # databases: the user's project and reference databases stay untouched
        project = copy_project(project, work / "project", args.database_prefix)
        if settings.stack_mode == "local":
            # the reader roles are shared by every prefix: pass their passwords on to attach
            env.update(reader_environment(settings, env))
    profiles = work / "profiles"
    profiles.mkdir(exist_ok=True)
    shutil.copy(REPO / "profiles.example.yml", profiles / "profiles.yml")
    return Context(settings, env, project, profiles, work, args.database_prefix or "")


def _sf_name(sf: float) -> str:
    return f"{sf:g}"


def _pg(ctx: Context, database: str | None = None) -> Any:
    return open_connection(ctx.settings.postgres.dsn(database))


def count_source_rows(ctx: Context) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind in SOURCE_KINDS:
        conn = _pg(ctx, ctx.source_db(kind))
        try:
            with conn.cursor() as cur:
                # every table schema.sql creates, in whichever schema (support_db's helpdesk)
                cur.execute(
                    "select schemaname, tablename from pg_tables where schemaname not in"
                    " ('pg_catalog', 'information_schema') order by 2"
                )
                for schema, table in cur.fetchall():
                    cur.execute(
                        sql.SQL("select count(*) from {}").format(sql.Identifier(schema, table))
                    )
                    counts[f"{kind}.{table}"] = int(cur.fetchone()[0])
        finally:
            conn.close()
    return counts


def count_graph_rows(ctx: Context) -> tuple[int, int, dict[str, int]]:
    conn = _pg(ctx)
    try:
        with conn.cursor() as cur:
            cur.execute("select kind, name, table_name from graph.graph_catalog")
            rows = cur.fetchall()
            tables: dict[str, int] = {}
            nodes = rels = 0
            for kind, name, table in rows:
                cur.execute(f'select count(*) from graph."{table}"')
                count = int(cur.fetchone()[0])
                tables[f"{kind}:{name}"] = count
                if kind == "node":
                    nodes += count
                else:
                    rels += count
    finally:
        conn.close()
    return nodes, rels, tables


# --------------------------------------------------------------------------- stages


def stage_cli(ctx: Context, name: str, rows: int, *cli_args: str) -> Stage:
    seconds, own, tree, stdout = run_child(name, [ctx.cli(), *cli_args], ctx.env, ctx.logs)
    detail: dict[str, Any] = {}
    if "--json" in cli_args:
        detail = json.loads(stdout)
    return Stage(name, seconds, rows, own, tree, detail)


def stage_dbt(ctx: Context, rows: int, full_refresh: bool = True) -> Stage:
    """`dbt build`: from every source row (the sources were just generated, and a
    staging database of an earlier run may hold incremental staging tables), or
    with `full_refresh=False` incrementally, reading what changed."""
    env = dbt_environment(ctx.settings, ctx.profiles, ctx.env)
    argv = [dbt_executable(), "build", "--no-use-colors", "--project-dir", str(ctx.project)]
    if full_refresh:
        argv.append("--full-refresh")
    seconds, own, tree, _ = run_child("dbt_build", argv, env, ctx.logs, cwd=ctx.project)
    return Stage("dbt_build", seconds, rows, own, tree)


def stage_merge_clear(ctx: Context, rows: int) -> Stage:
    """What `--clear` does, on its own: the graph's types and labels deleted in batches."""
    code = (
        "from c360.config import Settings\n"
        "from c360.neo4j_driver import connected_driver\n"
        "from c360.pg import pg_connection\n"
        "from c360.export import catalog, merge\n"
        "s = Settings.from_env()\n"
        "with pg_connection(s.postgres.dsn()) as conn:\n"
        "    plan = catalog.read_plan(conn)\n"
        "with connected_driver(s) as d:\n"
        "    n = merge.clear(d, s.neo4j.database, [p.name for p in plan.labels],"
        " [p.name for p in plan.types])\n"
        "print(n)\n"
    )
    seconds, own, tree, stdout = run_child(
        "merge_clear", [sys.executable, "-c", code], ctx.env, ctx.logs
    )
    deleted = int(stdout.strip().splitlines()[-1])
    return Stage("merge_clear", seconds, deleted, own, tree, {"deleted": deleted})


# About 1 % of the source rows, in all three sources: updates, deletes and inserts.
CHANGES: dict[str, tuple[str, ...]] = {
    "profiles_db": (
        "update accounts set full_name = full_name || ' (changed)'"
        " where abs(hashtext(account_id::text)) % 100 = 0",
        "update subscriptions set status = 'cancelled'"
        " where abs(hashtext(subscription_id::text)) % 100 = 1",
    ),
    "streaming_db": (
        "delete from play_events where event_id % 200 = 0",
        "insert into play_events (session_id, account_id_from_token, media_id, event_timestamp,"
        " action, ip_address, device_fingerprint) select session_id, account_id_from_token,"
        " media_id, event_timestamp + interval '1 minute', action, ip_address,"
        " device_fingerprint from play_events where event_id % 200 = 1",
    ),
    "support_db": (
        # the desk's application sets last_updated_at with every change it makes
        "update helpdesk.tickets set customer_email = upper(customer_email),"
        " last_updated_at = now() where abs(hashtext(ticket_id)) % 100 = 0",
        "delete from helpdesk.ticket_tag_link where abs(hashtext(ticket_id)) % 100 = 1",
    ),
}


def apply_changes(ctx: Context) -> int:
    """Change ~1 % of the source rows; the number of rows touched."""
    touched = 0
    for kind, statements in CHANGES.items():
        conn = _pg(ctx, ctx.source_db(kind))
        try:
            with conn, conn.cursor() as cur:
                for statement in statements:
                    cur.execute(statement)
                    touched += max(cur.rowcount, 0)
                cur.execute("analyze")
        finally:
            conn.close()
    return touched


def sync_available(ctx: Context) -> bool:
    done = subprocess.run([ctx.cli(), "--help"], env=ctx.env, capture_output=True, text=True)
    return "sync" in done.stdout


def merge_rates(result: dict[str, Any]) -> dict[str, float]:
    node_rows = sum(t["rows_written"] for t in result["tables"] if t["kind"] == "node")
    node_s = sum(t["seconds"] for t in result["tables"] if t["kind"] == "node")
    rel_rows = sum(t["rows_written"] for t in result["tables"] if t["kind"] == "edge")
    rel_s = sum(t["seconds"] for t in result["tables"] if t["kind"] == "edge")
    return {
        "node_rows": node_rows,
        "node_write_seconds": round(node_s, 3),
        "nodes_per_s": round(node_rows / node_s, 1) if node_s else 0.0,
        "rel_rows": rel_rows,
        "rel_write_seconds": round(rel_s, 3),
        "rels_per_s": round(rel_rows / rel_s, 1) if rel_s else 0.0,
    }


def run_incremental(ctx: Context, note: Any) -> dict[str, Any]:
    note("incremental: ~1 % of source rows changed")
    touched = apply_changes(ctx)
    note(f"{touched:,} source rows touched; dbt build")
    dbt = stage_dbt(ctx, touched, full_refresh=False)
    dbt.name = "dbt_build_incremental"
    note("c360-export --mode sync")
    sync = stage_cli(ctx, "incremental", touched, "--mode", "sync", "--json")
    note("c360-export refresh, no source row changed")
    idle = stage_cli(ctx, "refresh_no_change", 0, "refresh", "--project-dir", str(ctx.project))
    return {"touched": touched, "dbt": dbt.as_dict(), "sync": sync, "idle": idle.as_dict()}


def add_incremental(result: dict[str, Any], incremental: dict[str, Any]) -> None:
    """incremental_fraction_of_full = sync seconds / bulk seconds (the export alone);
    the pipeline fraction adds dbt build on both sides."""
    sync = incremental["sync"]
    bulk = result["stages"]["bulk"]["seconds"]
    dbt_full = result["stages"]["dbt_build"]["seconds"]
    result["stages"]["incremental"] = sync.as_dict() if isinstance(sync, Stage) else sync
    seconds = result["stages"]["incremental"]["seconds"]
    result["incremental"] = {
        "source_rows_touched": incremental["touched"],
        "touched_fraction": round(incremental["touched"] / result["source_rows"], 4),
        "dbt_build_seconds": incremental["dbt"]["seconds"],
        "sync_seconds": round(seconds, 3),
        "pipeline_fraction_of_full": round(
            (incremental["dbt"]["seconds"] + seconds) / (dbt_full + bulk), 3
        ),
        # attach check, dbt build and sync when nothing changed at all
        "no_change_refresh_seconds": incremental["idle"]["seconds"],
    }
    result["incremental_fraction_of_full"] = round(seconds / bulk, 4)
    result["targets"] = targets(result)


def incremental_only(ctx: Context, args: argparse.Namespace, note: Any) -> dict[str, Any]:
    path = Path(args.results_dir) / f"{_sf_name(args.scale_factor)}.json"
    result = json.loads(path.read_text())
    add_incremental(result, run_incremental(ctx, note))
    rss = (result["stages"]["incremental"] or {}).get("peak_rss_mb") or 0
    result["exporter_peak_rss_mb"] = max(result["exporter_peak_rss_mb"] or 0, rss)
    text = json.dumps(result, indent=2, default=str) + "\n"
    path.write_text(text)
    if not args.no_latest:
        (Path(args.results_dir) / "latest.json").write_text(text)
    print_table(result)
    return result


def profile_merge(ctx: Context, top: int = 25) -> dict[str, Any]:
    """The merge run again under cProfile: where the exporter process spends its time."""
    import pstats

    path = ctx.work / "merge.prof"
    argv = [sys.executable, "-m", "cProfile", "-o", str(path), ctx.cli(), "--mode", "merge"]
    seconds, _, _, _ = run_child("merge_profiled", argv, ctx.env, ctx.logs)
    stats = pstats.Stats(str(path))
    rows = []
    for (filename, line, function), (_, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{Path(filename).name}:{line}({function})",
                "calls": calls,
                "tottime": round(tottime, 3),
                "cumtime": round(cumtime, 3),
            }
        )
    by_cum = sorted(rows, key=lambda r: r["cumtime"], reverse=True)[:top]
    by_tot = sorted(rows, key=lambda r: r["tottime"], reverse=True)[:top]
    return {"seconds": round(seconds, 3), "by_cumtime": by_cum, "by_tottime": by_tot}


# --------------------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    mem_kb = 0
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    disk = shutil.disk_usage(REPO)
    cpu = ""
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "disk_total_gib": round(disk.total / 2**30, 1),
        "disk_free_gib": round(disk.free / 2**30, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def print_table(result: dict[str, Any]) -> None:
    print()
    print(
        f"c360 bench, scale factor {result['scale_factor']:g}: "
        f"{result['source_rows']:,} source rows -> {result['graph_nodes']:,} nodes, "
        f"{result['graph_relationships']:,} relationships"
    )
    header = f"{'stage':<24}{'seconds':>10}{'rows':>14}{'rows/s':>12}{'RSS MB':>9}{'tree MB':>9}"
    print(header)
    print("-" * len(header))

    def line(name: str, data: dict[str, Any] | None) -> None:
        if data is None:
            print(f"{name:<24}{'n/a':>10}")
            return
        rss = data.get("peak_rss_mb")
        tree = data.get("tree_peak_rss_mb")
        print(
            f"{name:<24}{data['seconds']:>10.1f}{data['rows']:>14,}{data['rows_per_s']:>12,.0f}"
            f"{(f'{rss:.0f}' if rss else '-'):>9}{(f'{tree:.0f}' if tree else '-'):>9}"
        )

    for name, data in result["stages"].items():
        line(name, data)
    print("-" * len(header))
    line("end to end (ours)", result["end_to_end"])
    for name, data in result["baselines"].items():
        line(f"baseline {name}", data)
    print()
    for name, data in result["stages"].items():
        phases = ((data or {}).get("detail") or {}).get("phases")
        if phases:
            steps = ", ".join(f"{step} {seconds:.1f}" for step, seconds in phases.items())
            print(f"{name} steps (s): {steps}")
    print()
    ratios = (
        "bulk_vs_lower_bound",
        "speedup_vs_original",
        "speedup_vs_original_sf",
        "merge_nodes_per_s",
        "merge_rels_per_s",
        "incremental_fraction_of_full",
        "exporter_peak_rss_mb",
        "rss_ratio_max_vs_sf1",
    )
    for key in ratios:
        print(f"{key:<32}{result.get(key)}")
    for key, value in result["targets"].items():
        print(f"target {key:<25}{value}")


def targets(result: dict[str, Any]) -> dict[str, Any]:
    def ok(value: Any, test: Any) -> bool | None:
        return None if value is None else bool(test(value))

    return {
        "source_rows_ge_10M": result["source_rows"] >= 10_000_000,
        "bulk_within_1_3x_lower_bound": ok(result["bulk_vs_lower_bound"], lambda v: v <= 1.3),
        "merge_nodes_ge_50k_per_s": ok(result["merge_nodes_per_s"], lambda v: v >= 50_000),
        "merge_rels_ge_30k_per_s": ok(result["merge_rels_per_s"], lambda v: v >= 30_000),
        "speedup_vs_original_ge_100x": ok(result["speedup_vs_original"], lambda v: v >= 100),
        "rss_within_20pct_of_sf1": ok(result["rss_ratio_max_vs_sf1"], lambda v: v <= 1.2),
        "incremental_le_5pct": ok(result["incremental_fraction_of_full"], lambda v: v <= 0.05),
        "incremental_pipeline_le_10pct": ok(
            (result.get("incremental") or {}).get("pipeline_fraction_of_full"),
            lambda v: v <= 0.10,
        ),
        "no_change_refresh_lt_15s": ok(
            (result.get("incremental") or {}).get("no_change_refresh_seconds"), lambda v: v < 15
        ),
    }


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale-factor", "-s", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-prefix",
        default="",
        help="load the sources into <prefix>profiles_db, ... and attach those, through a "
        "scratch copy of the dbt project (the reference databases stay untouched)",
    )
    parser.add_argument("--staging-db", help="staging database (C360_STAGING_DB) for this run")
    parser.add_argument("--project-dir", help="dbt project (default: this repository)")
    parser.add_argument("--work-dir", help="logs and CSV files (default .c360/bench/<sf>)")
    parser.add_argument(
        "--results-dir", default=str(REPO / "bench" / "results"), help="where JSON goes"
    )
    parser.add_argument(
        "--no-latest", action="store_true", help="do not write latest.json (only <sf>.json)"
    )
    parser.add_argument(
        "--original-timeout",
        type=float,
        default=600.0,
        help="cap of baseline (a) in seconds (0 skips it); past the cap it stops and its "
        "full time is estimated from its rate, marked as an estimate",
    )
    parser.add_argument(
        "--compare-with",
        action="append",
        default=[],
        help="results JSON of another run (repeatable): an SF=1 run gives "
        "rss_ratio_max_vs_sf1; when (a) did not finish here, the largest SF among them "
        "where it did gives speedup_vs_original",
    )
    parser.add_argument(
        "--empty-by",
        choices=("clear", "import"),
        default="clear",
        help="how the graph is emptied before the merge: clear (what --clear does, timed "
        "as merge_clear) or import (an empty database by neo4j-admin, not timed)",
    )
    parser.add_argument(
        "--profile-merge",
        action="store_true",
        help="after the timed merge, empty the graph and run the merge again under "
        "cProfile; the top functions go to the JSON (merge_profile)",
    )
    parser.add_argument("--skip-load", action="store_true", help="reuse the loaded sources")
    parser.add_argument(
        "--incremental-only",
        action="store_true",
        help="only the incremental step, on the state a full run at this SF left: update "
        "bench/results/<sf>.json with it",
    )
    parser.add_argument("--skip-merge", action="store_true", help="no merge_clear / merge")
    parser.add_argument(
        "--final-state",
        choices=("merge", "empty"),
        default="merge",
        help="empty: leave Neo4j with an empty database at the end (for shared test stacks)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    ctx = prepare(args)
    sf = args.scale_factor
    stages: dict[str, Stage | None] = {}
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    load_before = os.getloadavg()

    partial: dict[str, Any] = {"scale_factor": sf, "started_at": started_at}

    def note(message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)
        # what has finished so far, should the run be stopped before the end
        partial["stages"] = {n: (s.as_dict() if s else None) for n, s in stages.items()}
        partial["log"] = [*partial.get("log", []), f"{time.strftime('%H:%M:%S')} {message}"]
        (ctx.work / "partial.json").write_text(json.dumps(partial, indent=2, default=str))

    if args.incremental_only:
        return incremental_only(ctx, args, note)

    # 1. sources
    prefix_args = ["--database-prefix", ctx.prefix] if ctx.prefix else []
    if args.skip_load:
        stages["source_load"] = None
    else:
        note(f"source load at SF={sf:g}")
        stages["source_load"] = stage_cli(
            ctx,
            "source_load",
            0,
            "samples",
            "generate",
            "--scale-factor",
            f"{sf:g}",
            "--seed",
            str(args.seed),
            *prefix_args,
        )
    source_counts = count_source_rows(ctx)
    source_rows = sum(source_counts.values())
    if stages["source_load"] is not None:
        stages["source_load"].rows = source_rows
    note(f"{source_rows:,} source rows")

    # 2. attach, models, dbt
    project_args = ["--project-dir", str(ctx.project)]
    note("attach")
    stages["attach"] = stage_cli(ctx, "attach", source_rows, "sources", "attach", *project_args)
    note("models generate")
    stages["models_generate"] = stage_cli(
        ctx, "models_generate", source_rows, "models", "generate", *project_args
    )
    note("dbt build")
    stages["dbt_build"] = stage_dbt(ctx, source_rows)
    nodes, rels, graph_tables = count_graph_rows(ctx)
    records = nodes + rels
    note(f"graph tables: {nodes:,} nodes, {rels:,} relationships")

    # 3. baseline (a): before anything else touches Neo4j, on an empty index-less graph
    original: dict[str, Any] | None = None
    if args.original_timeout > 0:
        note(f"baseline (a), capped at {args.original_timeout:.0f}s")
        baselines.empty_graph(ctx.settings, ctx.work / "empty")
        original = baselines.original(
            ctx.settings, ctx.project, args.original_timeout, nodes, rels, note
        )
        note(f"baseline (a): {original}")

    # 4. baseline (b)
    note("baseline (b): COPY + neo4j-admin import")
    lower = baselines.lower_bound(ctx.settings, ctx.work / "lower_bound")
    note(f"baseline (b): {lower}")

    # 5. ours: bulk, then merge into the emptied graph
    note("c360-export --mode bulk")
    stages["bulk"] = stage_cli(ctx, "bulk", records, "--mode", "bulk", "--json")
    merge_detail: dict[str, float] = {}
    if args.skip_merge:
        stages["merge_clear"] = stages["merge"] = None
    else:
        if args.empty_by == "clear":
            note("clear (what --clear does)")
            stages["merge_clear"] = stage_merge_clear(ctx, records)
        else:
            note("empty graph by import (not timed)")
            baselines.empty_graph(ctx.settings, ctx.work / "empty")
            stages["merge_clear"] = None
        note("c360-export --mode merge")
        stages["merge"] = stage_cli(ctx, "merge", records, "--mode", "merge", "--json")
        merge_detail = merge_rates(stages["merge"].detail)
        note(f"merge: {merge_detail}")
    merge_profile = None
    if args.profile_merge and not args.skip_merge:
        note("merge again under cProfile")
        baselines.empty_graph(ctx.settings, ctx.work / "empty")
        merge_profile = profile_merge(ctx)
    # 6. incremental: ~1 % of source rows changed, dbt build, `c360-export --mode sync`
    incremental = run_incremental(ctx, note) if sync_available(ctx) else None
    stages["incremental"] = incremental["sync"] if incremental else None

    if args.final_state == "empty":
        baselines.empty_graph(ctx.settings, ctx.work / "empty")

    # ---------------------------------------------------------------- figures
    ours = ("attach", "models_generate", "dbt_build", "bulk")
    e2e_seconds = sum(stages[n].seconds for n in ours)  # type: ignore[union-attr]
    end_to_end = Stage("end_to_end", e2e_seconds, records).as_dict()
    end_to_end["stages"] = list(ours)
    bulk_seconds = stages["bulk"].seconds  # type: ignore[union-attr]
    exporter_rss = max(
        (s.peak_rss_mb or 0.0) for n, s in stages.items() if n in EXPORTER_STAGES and s
    )
    result: dict[str, Any] = {
        "scale_factor": sf,
        "seed": args.seed,
        "source_rows": source_rows,
        "source_tables": source_counts,
        "graph_nodes": nodes,
        "graph_relationships": rels,
        "graph_tables": graph_tables,
        "stages": {n: (s.as_dict() if s else None) for n, s in stages.items()},
        "end_to_end": end_to_end,
        "baselines": {"original": original, "lower_bound": lower},
        "bulk_vs_lower_bound": round(bulk_seconds / lower["seconds"], 3),
        "bulk_vs_lower_bound_import_only": round(bulk_seconds / lower["import_seconds"], 3),
        "speedup_vs_original": None,
        "speedup_vs_original_sf": None,
        "speedup_vs_original_export_only": None,
        "merge_nodes_per_s": merge_detail.get("nodes_per_s"),
        "merge_rels_per_s": merge_detail.get("rels_per_s"),
        "merge": merge_detail or None,
        "merge_profile": merge_profile,
        "incremental_fraction_of_full": None,
        "incremental": None,
        "exporter_peak_rss_mb": exporter_rss,
        "rss_ratio_max_vs_sf1": None,
        "machine": machine(),
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "started_at": started_at,
        "command": " ".join(["bench/run.py", *(sys.argv[1:] if argv is None else argv)]),
    }
    if original is not None and original["finished"]:
        result["speedup_vs_original"] = round(original["seconds"] / e2e_seconds, 1)
        result["speedup_vs_original_sf"] = sf
        result["speedup_vs_original_export_only"] = round(original["seconds"] / bulk_seconds, 1)
    if incremental:
        add_incremental(result, incremental)
    if sf == 1:
        result["rss_ratio_max_vs_sf1"] = 1.0
    others = [json.loads(Path(p).read_text()) | {"path": p} for p in args.compare_with]
    result["compared_with"] = [
        {
            "path": o["path"],
            "scale_factor": o["scale_factor"],
            "exporter_peak_rss_mb": o["exporter_peak_rss_mb"],
            "speedup_vs_original": o.get("speedup_vs_original"),
            "speedup_vs_original_sf": o.get("speedup_vs_original_sf"),
        }
        for o in others
    ]
    for other in others:
        if other["scale_factor"] == 1 and other.get("exporter_peak_rss_mb"):
            result["rss_ratio_max_vs_sf1"] = round(exporter_rss / other["exporter_peak_rss_mb"], 3)
            result["exporter_peak_rss_mb_sf1"] = other["exporter_peak_rss_mb"]
    if result["speedup_vs_original"] is None:
        finished = [o for o in others if o.get("speedup_vs_original") is not None]
        if finished:
            best = max(finished, key=lambda o: o["speedup_vs_original_sf"])
            result["speedup_vs_original"] = best["speedup_vs_original"]
            result["speedup_vs_original_sf"] = best["speedup_vs_original_sf"]
            result["speedup_vs_original_export_only"] = best.get("speedup_vs_original_export_only")
            result["speedup_vs_original_from"] = best["path"]
    result["targets"] = targets(result)

    results = Path(args.results_dir)
    results.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2, default=str) + "\n"
    (results / f"{_sf_name(sf)}.json").write_text(text)
    if not args.no_latest:
        (results / "latest.json").write_text(text)
    print_table(result)
    print(f"\nwrote {results / (_sf_name(sf) + '.json')}")
    return result


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        print(f"bench failed: {error}", file=sys.stderr)
        sys.exit(1)
