"""`c360-export query` refuses bad parameters before it reaches any server."""

from __future__ import annotations

import json

from c360.cli import app
from c360.errors import ExitCode
from typer.testing import CliRunner

# nothing listens here: a command that tried to connect would fail with exit code 3
NO_SERVERS = {
    "C360_STACK": "external",
    "PGHOST": "127.0.0.1",
    "PGPORT": "1",
    "NEO4J_URI": "bolt://127.0.0.1:1",
    "NEO4J_PASSWORD": "x",
}


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), env=NO_SERVERS)


def test_a_missing_required_parameter_names_query_and_parameter():
    result = invoke("query", "person_360")
    assert result.exit_code == ExitCode.USAGE
    assert "query banking/01_person_360 needs parameter person_id" in result.stderr


def test_an_unknown_or_mistyped_parameter_is_refused():
    unknown = invoke("query", "person_360", "--param", "person_id=P1", "--param", "pid=P1")
    assert unknown.exit_code == ExitCode.USAGE
    assert "query banking/01_person_360 has no parameter 'pid'" in unknown.stderr
    mistyped = invoke("query", "banking/mule_candidates", "-p", "min_senders=many")
    assert mistyped.exit_code == ExitCode.USAGE
    assert "'many' is not an integer" in mistyped.stderr


def test_all_of_the_banking_domain_needs_person_id_for_person_360():
    result = invoke("query", "--all", "--domain", "banking", "--json")
    assert result.exit_code == ExitCode.USAGE
    assert "needs parameter person_id" in json.loads(result.stdout)["error"]


def test_list_groups_queries_by_domain_with_their_parameters():
    listed = invoke("query", "--list")
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert (
        lines.index("banking") < lines.index("  04_top_counterparties") < lines.index("streaming")
    )
    assert "      --param limit integer = 10 - how many accounts to show" in lines
    only = json.loads(invoke("query", "--list", "--domain", "banking", "--json").stdout)
    assert {q["domain"] for q in only} == {"banking"}
    person = only[0]
    assert (person["query"], person["audit"]) == ("01_person_360", "person_id")
    assert person["params"][0] == {
        "name": "person_id",
        "type": "text",
        "required": True,
        "default": None,
        "description": "the person to show (Person.person_id, e.g. P000001)",
    }
