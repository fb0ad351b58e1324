"""Control rows read from files: every value checked before anything is generated."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from c360.control.load import load_control_rows
from c360.control.model import CONTROL_DIR
from c360.errors import ConfigError

PROJECT = Path(__file__).resolve().parents[3]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The repository's dbt_project.yml and control rows, free to edit."""
    shutil.copy(PROJECT / "dbt_project.yml", tmp_path / "dbt_project.yml")
    shutil.copytree(PROJECT / CONTROL_DIR, tmp_path / CONTROL_DIR)
    return tmp_path


def replace_in(project: Path, seed: str, old: str, new: str) -> None:
    path = project / CONTROL_DIR / f"{seed}.csv"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("seed", "old", "new", "where"),
    [
        (
            "source_databases",
            '"Accounts and billing',
            "\"{{ env_var('PGPASSWORD') }} Accounts and billing",
            "source_databases.csv:2 (source_name=profiles): description",
        ),
        (
            "node_label_mappings",
            "One node per ticket tag.",
            "{% do run_query('drop schema graph') %}",
            "node_label_mappings.csv:9 (label=Tag): description",
        ),
        (
            "field_exclusion_rules",
            "Credential: must never leave staging.",
            "{# hidden #}",
            "field_exclusion_rules.csv:2 (column_name=hashed_password): reason",
        ),
        (
            "relationship_mappings",
            "A play event played a title.",
            'A play event {{ env_var("PGPASSWORD") }}',
            "relationship_mappings.csv:5 (relationship_type=PLAYED): description",
        ),
    ],
)
def test_jinja_in_any_control_value_is_refused_naming_file_line_row_and_column(
    project: Path, seed: str, old: str, new: str, where: str
) -> None:
    replace_in(project, seed, old, new)
    with pytest.raises(ConfigError) as error:
        load_control_rows(project)
    assert f"{CONTROL_DIR / where} holds Jinja delimiters" in str(error.value)


def test_braces_that_are_not_jinja_pass(project: Path) -> None:
    replace_in(project, "relationship_mappings", "played a title.", "played {a title} }}")
    assert load_control_rows(project).relationships


def test_dangling_severity_blank_means_the_default_and_is_checked(project: Path) -> None:
    rows = load_control_rows(project)
    assert rows.rules.default_dangling_severity == "warn"
    assert {r.dangling_severity for r in rows.relationships} == {None}
    replace_in(project, "relationship_mappings", "played a title.,", "played a title.,error")
    rows = load_control_rows(project)
    played = next(r for r in rows.relationships if r.relationship_type == "PLAYED")
    assert played.dangling_severity == "error"
    replace_in(project, "relationship_mappings", "played a title.,error", "played a title.,fatal")
    with pytest.raises(ConfigError, match=r"PLAYED.*dangling_severity must be blank or one of"):
        load_control_rows(project)
