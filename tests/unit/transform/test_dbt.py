"""Reading dbt's output, and where dbt finds its profile."""

from __future__ import annotations

from pathlib import Path

from c360.transform.dbt import MAX_SUMMARY_LINES, failure_summary, profiles_directory

STAMP = "20:21:34  "
# the end of a failing `dbt build`, as dbt 1.11 prints it without colours: every line
# stamped but a database error's own lines, an empty stamped line between entries
FAILED_BUILD = "\n".join(
    line if line.startswith("  column") else STAMP + line
    for line in [
        "275 of 362 SKIP test unique_graph_catalog_table_name ............. [SKIP]",
        "Finished running 40 table models, 194 data tests in 0 hours 0 minutes.",
        "",
        "Completed with 2 errors, 0 partial successes, and 1 warning:",
        "",
        "Failure in model stg_p__accounts (models/staging/p/stg_p__accounts.sql)",
        "  Database Error in model stg_p__accounts (models/staging/p/stg_p__accounts.sql)",
        "  column staged.updated_at does not exist",
        "",
        "Warning in test dangling_rows_edge_played (models/graph/edges/_edges__models.yml)",
        "Got 3 results, configured to warn if != 0",
        "",
        "  compiled code at target/compiled/c360/models/graph/edges/dangling_rows.sql",
        "",
        "Failure in test finite_temporal_node_media (models/graph/nodes/_nodes__models.yml)",
        "  Got 1 result, configured to fail if != 0",
        "",
        "  compiled code at target/compiled/c360/models/graph/nodes/finite_temporal.sql",
        "",
        "Done. PASS=199 WARN=1 ERROR=2 SKIP=73 NO-OP=0 TOTAL=276",
    ]
)


def test_the_summary_gives_the_failing_nodes_without_warnings_or_paths():
    assert failure_summary(FAILED_BUILD) == [
        "Failure in model stg_p__accounts (models/staging/p/stg_p__accounts.sql)",
        "  Database Error in model stg_p__accounts (models/staging/p/stg_p__accounts.sql)",
        "  column staged.updated_at does not exist",
        "Failure in test finite_temporal_node_media (models/graph/nodes/_nodes__models.yml)",
        "  Got 1 result, configured to fail if != 0",
    ]


def test_a_build_stopped_before_any_node_gives_what_dbt_said():
    output = (
        "20:00:01  Running with dbt=1.11.16\n"
        "20:00:02  Encountered an error:\n"
        "Compilation Error\n"
        "  Model 'model.c360.node_a' depends on a node named 'stg_x' which was not found\n"
    )
    assert failure_summary(output) == [
        "Encountered an error:",
        "Compilation Error",
        "  Model 'model.c360.node_a' depends on a node named 'stg_x' which was not found",
    ]


def test_output_without_a_summary_gives_its_last_lines():
    output = "\n".join(f"20:00:{i % 60:02d}  line {i}" for i in range(100))
    assert failure_summary(output) == [f"line {i}" for i in range(100 - MAX_SUMMARY_LINES, 100)]


def test_a_long_summary_is_cut_and_says_so():
    entries = "".join(
        f"20:00:00  Failure in test t{i} (models/x.yml)\n20:00:00    Got 1 result\n"
        for i in range(MAX_SUMMARY_LINES)
    )
    lines = failure_summary(f"20:00:00  Completed with 40 errors:\n{entries}20:00:00  Done.\n")
    assert len(lines) == MAX_SUMMARY_LINES + 1
    assert lines[-1].startswith(f"... and {MAX_SUMMARY_LINES} more lines")


def test_profiles_are_found_where_dbt_looks(tmp_path: Path):
    home = Path.home() / ".dbt"
    assert profiles_directory(tmp_path, {}) == home
    (tmp_path / "profiles.yml").write_text("c360: {}\n")
    assert profiles_directory(tmp_path, {}) == tmp_path
    assert profiles_directory(tmp_path, {"DBT_PROFILES_DIR": "/etc/dbt"}) == Path("/etc/dbt")
