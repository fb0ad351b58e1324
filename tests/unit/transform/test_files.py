"""The generated files on disk against what the control rows give."""

from __future__ import annotations

from pathlib import Path

import pytest
from c360.errors import ConfigError, ExitCode
from c360.transform.files import SQL_HEADER, require_current

MODEL = Path("models") / "staging" / "s" / "stg_s__t.sql"


def test_current_files_pass(tmp_path: Path):
    (tmp_path / MODEL).parent.mkdir(parents=True)
    (tmp_path / MODEL).write_text(SQL_HEADER + "select 1\n")
    require_current(tmp_path, {MODEL: SQL_HEADER + "select 1\n"})


def test_stale_files_are_a_usage_error_naming_each_file_and_the_fix(tmp_path: Path):
    (tmp_path / MODEL).parent.mkdir(parents=True)
    (tmp_path / MODEL).write_text(SQL_HEADER + "select 1\n")
    gone = Path("models") / "graph" / "nodes" / "node_gone.sql"
    (tmp_path / gone).parent.mkdir(parents=True)
    (tmp_path / gone).write_text(SQL_HEADER + "select 2\n")
    new = Path("models") / "graph" / "nodes" / "node_new.sql"
    with pytest.raises(ConfigError) as refused:
        require_current(tmp_path, {MODEL: SQL_HEADER + "select 3\n", new: SQL_HEADER})
    assert refused.value.exit_code == ExitCode.USAGE
    assert str(refused.value).splitlines() == [
        "the generated dbt files are stale: run `c360-export models generate`",
        f"  missing: {new}",
        f"  out of date: {MODEL}",
        f"  no longer generated: {gone}",
    ]
