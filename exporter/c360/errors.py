"""Exceptions a user can act on, each mapped to a named exit code by the CLI."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of `c360-export`; scripts may rely on them."""

    OK = 0
    FAILED = 1  # the run was attempted and did not complete (data, reconciliation)
    USAGE = 2  # bad input: configuration, control rows, arguments
    UNAVAILABLE = 3  # a server could not be started or reached
    BUSY = 4  # another export holds the target


class C360Error(Exception):
    """Base class: the message says what is wrong and what to do about it."""

    exit_code: ExitCode = ExitCode.FAILED


class ConfigError(C360Error):
    """Settings, control rows or arguments are invalid."""

    exit_code = ExitCode.USAGE


class ServerUnavailableError(C360Error):
    """A PostgreSQL or Neo4j server could not be started or reached."""

    exit_code = ExitCode.UNAVAILABLE


class ExportBusyError(C360Error):
    """Another export is already writing to the same target."""

    exit_code = ExitCode.BUSY


class ExportFailedError(C360Error):
    """An export ran and failed: writing, import or reconciliation."""

    exit_code = ExitCode.FAILED


class UnpublishedGraphError(ExportFailedError):
    """Graph tables dbt replaced without passing their tests: nothing may be exported."""


class MassDeleteError(C360Error):
    """An export would delete more of a label or type than allowed, and stopped before it."""

    exit_code = ExitCode.FAILED


class SyncStateError(C360Error):
    """A sync has no usable record of what the target holds: a full export must come first."""

    exit_code = ExitCode.USAGE


class QueryFailedError(C360Error):
    """A packaged query ran and failed, or its audited run could not be recorded."""

    exit_code = ExitCode.FAILED
