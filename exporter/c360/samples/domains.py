"""The sample domains: which reference sources each fills, with what story and generator.

A domain is a set of reference sources that belong together, a hand-shaped
story for them, a generator at any scale factor, and what to say once its story
is loaded. `samples load` and `samples generate` load any choice of domains
side by side, each into its own databases, in one pass (`load_databases`).

A new domain is its sources (`sources/<kind>/schema.sql`, their kinds in
`schema.SourceKind` and `load.SourceTargets`, their control rows), its story
and generator modules, and one entry in DOMAINS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import get_args

from c360.config import Settings
from c360.errors import ConfigError
from c360.samples import banking_generator, banking_notebook, banking_story, generator, story
from c360.samples.load import LoadPlan, SourceKind, SourceTargets, TableLoad, load_databases
from c360.samples.schema import BankingKind, StreamingKind

ALL = "all"


@dataclass(frozen=True)
class Domain:
    name: str
    kinds: tuple[SourceKind, ...]
    story: Callable[[], LoadPlan]
    generated: Callable[[float, int], LoadPlan]  # (scale factor, seed)
    # One line on what the loaded story answers, read from its databases.
    summary: Callable[[Settings, SourceTargets], str]


STREAMING = Domain(
    name="streaming",
    kinds=get_args(StreamingKind),
    story=story.story_plan,
    generated=generator.generated_plan,
    summary=story.headline_summary,
)
BANKING = Domain(
    name="banking",
    kinds=get_args(BankingKind),
    story=banking_story.story_plan,
    generated=banking_generator.generated_plan,
    summary=banking_notebook.notebook_summary,
)
DOMAINS: tuple[Domain, ...] = (STREAMING, BANKING)


def select_domains(name: str) -> tuple[Domain, ...]:
    """The domain called `name`, or every domain for "all"."""
    if name == ALL:
        return DOMAINS
    for domain in DOMAINS:
        if domain.name == name:
            return (domain,)
    names = ", ".join(domain.name for domain in DOMAINS)
    raise ConfigError(f"no sample domain {name!r}: choose one of {names} or {ALL}")


def load_stories(
    settings: Settings, domains: Iterable[Domain], targets: SourceTargets | None = None
) -> dict[str, int]:
    """(Re)create the domains' databases and load their stories; returns rows per table."""
    plan = {kind: loads for domain in domains for kind, loads in domain.story().items()}
    return load_databases(settings, targets or SourceTargets(), plan)


def generate(
    settings: Settings,
    domains: Iterable[Domain],
    scale_factor: float,
    seed: int,
    targets: SourceTargets | None = None,
    on_plan: Callable[[LoadPlan], None] | None = None,
    on_chunk: Callable[[TableLoad, str], None] | None = None,
) -> dict[str, int]:
    """(Re)create the domains' databases filled at `scale_factor`; returns rows per table.

    `on_plan` sees every table and its row count before loading starts;
    `on_chunk` sees each COPY chunk as it is sent (for progress).
    """
    plan = {
        kind: loads
        for domain in domains
        for kind, loads in domain.generated(scale_factor, seed).items()
    }
    if on_plan is not None:
        on_plan(plan)
    return load_databases(settings, targets or SourceTargets(), plan, on_chunk)
