"""What a refresh reports: the step it stopped at with the step's own exit code, and
its summary."""

from __future__ import annotations

import json

import pytest
from c360.cli import app
from c360.errors import (
    C360Error,
    ConfigError,
    ExitCode,
    ExportBusyError,
    MassDeleteError,
    ServerUnavailableError,
)
from c360.export.options import ExportResult, TableResult
from c360.refresh import STEPS, RefreshResult, _at_step
from typer.testing import CliRunner


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConfigError("stale"), ExitCode.USAGE),
        (MassDeleteError("too many"), ExitCode.FAILED),
        (ServerUnavailableError("gone"), ExitCode.UNAVAILABLE),
        (ExportBusyError("busy"), ExitCode.BUSY),
    ],
)
def test_a_failed_step_is_named_and_keeps_its_class_and_exit_code(error: C360Error, code: int):
    named = _at_step("dbt_build", error)
    assert type(named) is type(error)
    assert named.exit_code == code
    assert str(named) == f"refresh stopped at dbt_build: {error}"
    assert str(error) != str(named), "the original is left as it was"


def test_the_summary_gives_each_step_and_the_export():
    export = ExportResult(
        "sync", "bolt://h:7687/neo4j", False, [TableResult("node", "A", 3, 1)], run_id="r"
    )
    result = RefreshResult("r", dict.fromkeys(STEPS, 1.23456), export, 4.0)
    summary = json.loads(json.dumps(result.as_dict()))
    assert summary["kind"] == "refresh"
    assert summary["status"] == "completed"
    assert summary["steps"] == {"attach_check": 1.235, "dbt_build": 1.235, "export": 1.235}
    assert summary["export"]["mode"] == "sync"
    assert summary["export"]["run_id"] == summary["run_id"] == "r"


def test_a_refresh_fails_as_every_command_does():
    result = CliRunner().invoke(app, ["refresh", "--json"], env={"C360_STACK": "teleport"})
    assert result.exit_code == ExitCode.USAGE
    failure = json.loads(result.stdout)
    assert failure["status"] == "failed"
    assert "C360_STACK must be 'local' or 'external'" in failure["error"]
