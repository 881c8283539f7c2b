"""Errors the user is meant to read. Every message names the problem and what to do."""

from __future__ import annotations


class NexaError(Exception):
    """Base class: ``str(error)`` is a sentence a scheduler or PM understands."""


class ValidationError(NexaError):
    """A value does not have the required format (PM number, date, …)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class IllegalTransition(NexaError):
    """The lifecycle does not allow this move."""


class MissingTransitionData(NexaError):
    """The move is allowed but needs data the caller did not give (GF, crew, date, reason…)."""

    def __init__(self, message: str, fields: tuple[str, ...]) -> None:
        super().__init__(message)
        self.fields = fields


class StaleWrite(NexaError):
    """Someone else changed the row since it was read; the write was refused."""


class NotFound(NexaError):
    """The row does not exist (any more)."""


class ReadOnlyMode(NexaError):
    """The license does not allow changes right now (expired, revoked, clock set back)."""


class StorageError(NexaError):
    """The database cannot be used: locked, read-only, damaged or unreachable."""
