"""One refresh, as a scheduler runs it: attach check -> dbt build -> export.

The three steps are one audited run (`kind = 'refresh'` in
`control.etl_run_logs`, the steps' seconds in its `phases` beside the export's
own) under the target's export lock, taken before the first step and handed to
the export step, so an export or another refresh started meanwhile exits 4 at
once. The first step that fails ends the run, named in the error, with its own
exit code: generated dbt files that differ from the control rows and the
attached tables stop it before dbt runs (2: `models generate` first, never
regenerated silently); a failed `dbt build` stops it before anything is
exported (1), so the sync record is as it was; the export keeps its own
guarantees and exit codes (`c360.export.pipeline`).
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from c360.config import Settings
from c360.errors import C360Error, ConfigError, ExportFailedError
from c360.export.options import ExportOptions, ExportResult, Progress
from c360.export.pipeline import OpenRun, audited_run, reached_target, run_export
from c360.export.target import Target
from c360.transform.dbt import failure_summary, profiles_directory, run_dbt
from c360.transform.files import require_current
from c360.transform.render import render_project

# the steps, in order, as named in errors, the JSON summary and the run's phases
STEPS = ("attach_check", "dbt_build", "export")


@dataclass(frozen=True)
class RefreshResult:
    run_id: str
    # seconds by step (STEPS)
    steps: dict[str, float]
    export: ExportResult
    seconds: float

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": "refresh",
            "run_id": self.run_id,
            "status": "completed",
            "seconds": round(self.seconds, 3),
            "steps": {name: round(seconds, 3) for name, seconds in self.steps.items()},
            "export": self.export.as_dict(),
        }


def run_refresh(
    settings: Settings,
    project_dir: Path,
    options: ExportOptions,
    *,
    progress: Progress | None = None,
    on_step: Callable[[str], None] | None = None,
) -> RefreshResult:
    """Refresh the graph from the sources; raises a C360Error naming the step that failed.

    `options` are the export step's (mode `auto` for a scheduler); `on_step` hears
    each step's name as it starts.
    """
    started = time.monotonic()
    target = _target(settings, options)
    with audited_run(settings, target, options.mode, "refresh") as run:
        with _step(run, "attach_check", on_step):
            require_current(project_dir, render_project(settings, project_dir))
        with _step(run, "dbt_build", on_step):
            _build(settings, project_dir)
        with _step(run, "export", on_step):
            result = run_export(settings, options, progress=progress, within=run)
    return RefreshResult(
        run.audit.run_id,
        {name: run.phases[name] for name in STEPS},
        result,
        time.monotonic() - started,
    )


def _target(settings: Settings, options: ExportOptions) -> Target:
    """The target to lock: Neo4j is asked who it is once, before the run (the export
    step opens its own driver after the dbt build)."""
    reached = reached_target(settings, options.retry_seconds, mode=options.mode, kind="refresh")
    with reached as (_, target):
        return target


@contextmanager
def _step(run: OpenRun, name: str, on_step: Callable[[str], None] | None) -> Iterator[None]:
    if on_step is not None:
        on_step(name)
    with run.phase(name):
        try:
            yield
        except C360Error as error:
            raise _at_step(name, error) from error


def _at_step(step: str, error: C360Error) -> C360Error:
    """`error` with the step it stopped the refresh at named first; a copy of the same
    class, so that its exit code (an export's own among them) reaches the scheduler."""
    named = copy.copy(error)
    named.args = (f"refresh stopped at {step}: {error}",)
    return named


def _build(settings: Settings, project_dir: Path) -> None:
    """`dbt build` as `dbt` run in the project would, profiles included."""
    try:
        done = run_dbt(
            settings, project_dir, ["build"], profiles_directory(project_dir, os.environ)
        )
    except OSError as error:
        raise ConfigError(
            f"cannot run dbt ({error}); install the exporter with its dbt: pip install -e exporter"
        ) from None
    if done.returncode != 0:
        raise ExportFailedError(
            f"dbt build failed (exit {done.returncode}), so nothing was exported; fix what "
            f"it names and refresh again (dbt's whole log: {project_dir / 'logs' / 'dbt.log'}):"
            + "".join(f"\n  {line}" for line in failure_summary(done.stdout + done.stderr))
        )
