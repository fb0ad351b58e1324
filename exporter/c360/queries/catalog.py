"""The packaged queries on disk: `queries/<domain>/NN_name.cypher`, and their headers.

A query's header is the `//` comment block its file starts with: free lines say
what it answers, and two kinds of line declare what the runner must know:

    // param: person_id text - the person to show
    // param: min_senders integer = 5 - the fewest distinct senders
    // audit: access person_id

`param: NAME TYPE [= DEFAULT] - DESCRIPTION` declares a parameter the text uses
as `$NAME` (TYPE one of `params.PARAM_TYPES`; no default means required);
`audit: access NAME` makes every run of the query a row of the access log
(`access.py`), the parameter NAME naming whose data it read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import cast

from c360.errors import ConfigError
from c360.queries.params import PARAM_TYPES, Param, ParamType, convert

DEFAULT_DOMAIN = "streaming"

_DOMAIN = re.compile(r"[a-z][a-z0-9_]*")
_FILE = re.compile(r"(?P<number>[0-9]{2})_(?P<name>[a-z0-9_]+)\.cypher")
_NAME = r"[a-z_][a-z0-9_]*"
_PARAM = re.compile(
    rf"param:\s*(?P<name>{_NAME})\s+(?P<type>\w+)"
    r"(?:\s*=\s*(?P<default>.+?))?\s+-\s+(?P<description>\S.*)"
)
_AUDIT = re.compile(rf"audit:\s*access\s+(?P<param>{_NAME})\s*")
_DIRECTIVE = re.compile(r"(param|audit):")
# a parameter, as the text uses it
_USED = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Query:
    domain: str
    number: int
    name: str
    text: str
    description: str
    params: tuple[Param, ...]
    # the parameter naming whose data a run reads, when runs are audited
    audit: str | None

    @property
    def stem(self) -> str:
        return f"{self.number:02d}_{self.name}"

    @property
    def key(self) -> str:
        """`domain/stem`: unique across domains, and accepted by `find`."""
        return f"{self.domain}/{self.stem}"


def parse(domain: str, file_name: str, text: str) -> Query:
    """The query in `text`, read from `domain/file_name`; ConfigError naming the file
    and line for a header that does not parse or does not match the text."""
    where = f"queries/{domain}/{file_name}"
    matched = _FILE.fullmatch(file_name)
    if matched is None:
        raise ConfigError(f"{where}: a query file is named NN_name.cypher (e.g. 01_person_360)")
    description: list[str] = []
    params: list[Param] = []
    audit: str | None = None
    audit_where = where
    body: list[str] = []
    in_header = True
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if in_header and stripped.startswith("//"):
            comment = stripped.removeprefix("//").strip()
            if _DIRECTIVE.match(comment) is None:
                description.append(comment)
            elif comment.startswith("param:"):
                params.append(_param(f"{where}:{number}", comment, params))
            elif audit is not None:
                raise ConfigError(f"{where}:{number}: a query has one `audit:` line")
            else:
                audit_where = f"{where}:{number}"
                audit = _audit(audit_where, comment)
            continue
        in_header = False
        if not stripped.startswith("//"):
            body.append(line)
    _check_usage(where, params, "\n".join(body))
    if audit is not None and audit not in {p.name for p in params}:
        raise ConfigError(f"{audit_where}: `audit: access {audit}` names no declared parameter")
    return Query(
        domain,
        int(matched["number"]),
        matched["name"],
        text,
        " ".join(d for d in description if d),
        tuple(params),
        audit,
    )


def domains() -> list[str]:
    """The query domains: the folders of `queries/`, alphabetically."""
    return sorted(entry.name for entry in _domain_folders())


def all_queries(domain: str = DEFAULT_DOMAIN) -> list[Query]:
    """The queries of `domain` by number (the default domain's are the original eleven)."""
    folders = {entry.name: entry for entry in _domain_folders()}
    if domain not in folders:
        raise ConfigError(
            f"no query domain {domain!r}; the domains are: {', '.join(sorted(folders))}"
        )
    found = [
        parse(domain, entry.name, entry.read_text(encoding="utf-8"))
        for entry in folders[domain].iterdir()
        if entry.name.endswith(".cypher")
    ]
    return sorted(found, key=lambda q: q.number)


def every_query() -> list[Query]:
    """Every packaged query, domain by domain."""
    return [q for domain in domains() for q in all_queries(domain)]


def find(key: str, domain: str | None = None) -> Query:
    """The query `key` names: `domain/stem`, a stem or a name (in any domain unless
    `domain` is given), or a number (in `domain`, by default the default one)."""
    if "/" in key:
        domain, _, key = key.partition("/")
    candidates = all_queries(domain) if domain else every_query()
    found = [q for q in candidates if key in (q.stem, q.name)]
    if not found and key.isdigit():
        found = [q for q in all_queries(domain or DEFAULT_DOMAIN) if q.number == int(key)]
    if len(found) == 1:
        return found[0]
    if found:
        keys = ", ".join(q.key for q in found)
        raise ConfigError(f"query {key!r} is in several domains ({keys}); name one as domain/name")
    names = ", ".join(q.key for q in candidates)
    raise ConfigError(f"no query named {key!r}; the packaged queries are: {names}")


def _domain_folders() -> list[Traversable]:
    root = resources.files("c360").joinpath("queries")
    # `__pycache__` and the like are folders too, but never a domain's name
    return [e for e in root.iterdir() if e.is_dir() and _DOMAIN.fullmatch(e.name)]


def _param(where: str, comment: str, earlier: list[Param]) -> Param:
    matched = _PARAM.fullmatch(comment)
    if matched is None:
        raise ConfigError(
            f"{where}: {comment!r} is not `param: NAME TYPE [= DEFAULT] - DESCRIPTION`"
        )
    name, param_type = matched["name"], matched["type"]
    if param_type not in PARAM_TYPES:
        raise ConfigError(
            f"{where}: parameter {name} has type {param_type!r}; "
            f"the types are: {', '.join(PARAM_TYPES)}"
        )
    if any(p.name == name for p in earlier):
        raise ConfigError(f"{where}: parameter {name} is declared twice")
    typed = cast(ParamType, param_type)
    default = None
    if matched["default"] is not None:
        try:
            default = convert(typed, matched["default"])
        except ValueError:
            raise ConfigError(
                f"{where}: the default of {name}, {matched['default']!r}, is not {param_type}"
            ) from None
    return Param(name, typed, matched["description"].strip(), default)


def _audit(where: str, comment: str) -> str:
    matched = _AUDIT.fullmatch(comment)
    if matched is None:
        raise ConfigError(f"{where}: {comment!r} is not `audit: access PARAMETER`")
    return matched["param"]


def _check_usage(where: str, params: list[Param], body: str) -> None:
    declared = {p.name for p in params}
    used = set(_USED.findall(body))
    undeclared, unused = sorted(used - declared), sorted(declared - used)
    if undeclared:
        name = undeclared[0]
        raise ConfigError(f"{where}: the query uses ${name}; declare it as `// param: {name} ...`")
    if unused:
        raise ConfigError(f"{where}: parameter {unused[0]} is declared but the query never uses it")
