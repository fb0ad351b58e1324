"""Query parameters: their declared types, and `--param name=value` turned into them.

A query declares its parameters in its header (`catalog.py` reads it); the values
a user gives arrive as text and leave as typed values the driver sends as Cypher
parameters (`$name`), so no value is ever spliced into a query's text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from c360.errors import ConfigError

if TYPE_CHECKING:
    from c360.queries.catalog import Query

ParamType = Literal["text", "integer", "number"]
PARAM_TYPES: tuple[str, ...] = get_args(ParamType)
ParamValue = str | int | float


def _number(raw: str) -> float:
    value = float(raw)
    # nan and inf parse, but compare with nothing the way a user means
    if not math.isfinite(value):
        raise ValueError(raw)
    return value


_CONVERTERS: Mapping[str, Callable[[str], ParamValue]] = {
    "text": str,
    "integer": int,
    "number": _number,
}
_AS_NOUN = {"text": "text", "integer": "an integer", "number": "a number"}


@dataclass(frozen=True)
class Param:
    """One declared parameter; without a default it is required."""

    name: str
    type: ParamType
    description: str
    default: ParamValue | None = None

    @property
    def required(self) -> bool:
        return self.default is None

    def describe(self) -> str:
        """`name type = default - description`, as the header declares it."""
        default = "" if self.default is None else f" = {self.default}"
        return f"{self.name} {self.type}{default} - {self.description}"


def convert(param_type: ParamType, raw: str) -> ParamValue:
    """`raw` as a value of `param_type`; ValueError when it is not one."""
    return _CONVERTERS[param_type](raw)


def parse_assignments(items: Sequence[str]) -> dict[str, str]:
    """`["name=value", ...]` as a mapping; the value may itself hold `=`."""
    given: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(
                f"--param {item!r} is not name=value (e.g. --param person_id=P000001)"
            )
        if name in given:
            raise ConfigError(f"--param {name} is given twice; give each parameter once")
        given[name] = value
    return given


def bind(query: Query, given: Mapping[str, str]) -> dict[str, ParamValue]:
    """The values `query` runs with: each given one converted to its declared type,
    defaults for the rest; an unknown or missing parameter is refused by name."""
    declared = {p.name: p for p in query.params}
    for name in given:
        if name not in declared:
            raise ConfigError(f"query {query.key} has no parameter {name!r}; {_accepted(query)}")
    values: dict[str, ParamValue] = {}
    for param in query.params:
        if param.name in given:
            values[param.name] = _converted(query, param, given[param.name])
        elif param.default is not None:
            values[param.name] = param.default
        else:
            raise ConfigError(
                f"query {query.key} needs parameter {param.name} ({param.type}: "
                f"{param.description}); pass --param {param.name}=VALUE"
            )
    return values


def bind_all(queries: Sequence[Query], given: Mapping[str, str]) -> list[dict[str, ParamValue]]:
    """`bind` for each query of a run, each taking the given values it declares; a
    value no query of the run declares is refused."""
    if len(queries) == 1:
        return [bind(queries[0], given)]
    declared = {p.name for q in queries for p in q.params}
    for name in given:
        if name not in declared:
            keys = ", ".join(q.key for q in queries)
            raise ConfigError(f"no query of this run ({keys}) has a parameter {name!r}")
    return [
        bind(q, {k: v for k, v in given.items() if k in {p.name for p in q.params}})
        for q in queries
    ]


def _converted(query: Query, param: Param, raw: str) -> ParamValue:
    try:
        return convert(param.type, raw)
    except ValueError:
        raise ConfigError(
            f"query {query.key}: parameter {param.name} is {param.type}, "
            f"and {raw!r} is not {_AS_NOUN[param.type]}"
        ) from None


def _accepted(query: Query) -> str:
    if not query.params:
        return "it takes no parameters"
    return "it takes: " + ", ".join(f"{p.name} ({p.type})" for p in query.params)
