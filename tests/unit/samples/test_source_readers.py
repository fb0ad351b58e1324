"""Reader roles and password variables: read from the control rows, nowhere else."""

from __future__ import annotations

import csv
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from c360.config import Settings, local_secret
from c360.control.load import load_control_rows
from c360.control.model import CONTROL_DIR
from c360.errors import ConfigError
from c360.samples.load import (
    SOURCE_KINDS,
    reader_environment,
    reader_password,
    reference_rows,
    reference_rows_from,
)
from c360.transform.dbt import copy_project

PROJECT = Path(__file__).resolve().parents[3]
SOURCE_ROWS = PROJECT / CONTROL_DIR / "source_databases.csv"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The repository's dbt_project.yml and control rows, free to edit."""
    copy = tmp_path / "project"
    copy.mkdir()
    shutil.copy(PROJECT / "dbt_project.yml", copy / "dbt_project.yml")
    shutil.copytree(PROJECT / CONTROL_DIR, copy / CONTROL_DIR)
    return copy


def settings_for(home: Path, stack: str = "local") -> Settings:
    env = {"C360_PROJECT_DIR": str(PROJECT), "C360_HOME": str(home), "C360_STACK": stack}
    return Settings.from_env(env | ({"NEO4J_PASSWORD": "-"} if stack == "external" else {}))


def test_each_reference_source_is_the_row_naming_its_database():
    with SOURCE_ROWS.open(newline="") as handle:
        rows = {row["database_name"]: row for row in csv.DictReader(handle)}
    found = reference_rows(PROJECT)
    assert set(found) == set(SOURCE_KINDS)
    for kind, row in found.items():
        assert (row.user_name, row.password_env_var) == (
            rows[kind]["user_name"],
            rows[kind]["password_env_var"],
        )


def test_a_role_renamed_in_the_control_row_is_the_role_the_loader_creates(project: Path):
    path = project / CONTROL_DIR / "source_databases.csv"
    text = path.read_text().replace("profiles_reader", "billing_reader")
    path.write_text(text.replace("C360_SUPPORT_DB_PASSWORD", "DESK_PASSWORD"))
    found = reference_rows(project)
    assert found["profiles_db"].user_name == "billing_reader"
    assert found["support_db"].password_env_var == "DESK_PASSWORD"


def test_a_reference_source_needs_exactly_one_row():
    sources = load_control_rows(PROJECT).sources
    profiles = next(s for s in sources if s.database_name == "profiles_db")
    missing = r"no source_databases row \(in seeds/control\) names database_name profiles_db"
    with pytest.raises(ConfigError, match=missing):
        reference_rows_from(s for s in sources if s is not profiles)
    twice = [*sources, replace(profiles, source_name="billing")]
    with pytest.raises(ConfigError, match=r"source_databases\.csv:2 .* all name database_name"):
        reference_rows_from(twice)


def test_a_loader_of_some_kinds_needs_only_their_rows():
    sources = load_control_rows(PROJECT).sources
    streaming = ("profiles_db", "streaming_db", "support_db")
    found = reference_rows_from((s for s in sources if s.database_name in streaming), streaming)
    assert set(found) == set(streaming)


def test_prefixed_copies_keep_the_role_and_the_variable_of_the_row(tmp_path: Path):
    """copy_project prefixes database_name only: one role serves every copy."""
    copy = copy_project(PROJECT, tmp_path / "copy", "t_prefix_")
    prefixed = {s.database_name: s for s in load_control_rows(copy).sources}
    for kind, row in reference_rows(PROJECT).items():
        copied = prefixed[f"t_prefix_{kind}"]
        assert (copied.user_name, copied.password_env_var) == (row.user_name, row.password_env_var)


def test_the_password_comes_from_the_variable_the_row_names(tmp_path: Path):
    variable = reference_rows(PROJECT)["support_db"].password_env_var
    password = reader_password(settings_for(tmp_path), "support_db", {variable: "from-env"})
    assert password == "from-env"


def test_in_the_local_stack_an_unset_variable_falls_back_to_the_kinds_secret(tmp_path: Path):
    password = reader_password(settings_for(tmp_path), "profiles_db", {})
    assert password == local_secret(tmp_path, "profiles_db")


def test_outside_the_local_stack_an_unset_variable_is_named(tmp_path: Path):
    row = reference_rows(PROJECT)["streaming_db"]
    with pytest.raises(
        ConfigError, match=f"{row.password_env_var} .the password of {row.user_name}"
    ):
        reader_password(settings_for(tmp_path, stack="external"), "streaming_db", {})


def test_reader_environment_passes_every_password_on(tmp_path: Path):
    rows = reference_rows(PROJECT)
    given = {rows["profiles_db"].password_env_var: "given"}
    secrets = {row.password_env_var: local_secret(tmp_path, kind) for kind, row in rows.items()}
    assert reader_environment(settings_for(tmp_path), given) == secrets | given
