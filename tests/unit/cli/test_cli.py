"""The command line's contract with scripts: exit codes and JSON on failure."""

from __future__ import annotations

import json

from c360.cli import app
from c360.errors import ExitCode
from typer.testing import CliRunner


def test_a_configuration_error_exits_2_and_reports_json_on_stdout():
    result = CliRunner().invoke(app, ["--json"], env={"C360_STACK": "teleport"})
    assert result.exit_code == ExitCode.USAGE
    failure = json.loads(result.stdout)
    assert failure["status"] == "failed"
    assert failure["exit_code"] == ExitCode.USAGE
    assert "teleport" in failure["error"]


def test_without_json_stdout_stays_empty_on_failure():
    result = CliRunner().invoke(app, [], env={"C360_STACK": "teleport"})
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    assert "C360_STACK must be 'local' or 'external'" in result.stderr


def test_mode_is_a_choice_the_help_lists():
    result = CliRunner().invoke(app, ["--mode", "teleport"])
    assert result.exit_code == ExitCode.USAGE
    assert "'teleport' is not one of 'auto', 'bulk', 'merge', 'cypher', 'sync'" in result.stderr
    shown = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}).stdout
    assert "auto|bulk|merge|cypher|sync" in shown


def test_a_message_with_brackets_is_printed_as_written():
    # rich markup would swallow "[a-z]" as a style tag
    result = CliRunner().invoke(app, [], env={"C360_STACK": "[a-z]^*$"})
    assert result.exit_code == ExitCode.USAGE
    assert "'[a-z]^*$'" in result.stderr


def test_help_wraps_a_docstring_as_one_paragraph_and_keeps_placeholders():
    shown = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}).stdout
    # refresh's docstring breaks its first paragraph after "export lock:"
    assert "under the export lock: check the generated dbt files" in shown
    generate = CliRunner().invoke(app, ["samples", "generate", "--help"], env={"COLUMNS": "200"})
    assert "<prefix>profiles_db" in generate.stdout
