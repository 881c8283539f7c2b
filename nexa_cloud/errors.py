"""API errors: every failure answers ``{"error": {"code": ..., "message": ...}}``."""

from __future__ import annotations

from collections.abc import Mapping


class ApiError(Exception):
    """An error the client should see, with its HTTP status and a machine-readable code."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def not_found(what: str) -> ApiError:
    """The answer for missing rows *and* other orgs' rows (never reveals that they exist)."""
    return ApiError(404, "NOT_FOUND", f"No {what} with that id in your organisation.")
