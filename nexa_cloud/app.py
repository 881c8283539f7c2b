"""The FastAPI application: ``create_app(settings)`` opens (and migrates) the database, loads the
signing keys and wires the routes, the body guard and the JSON error handlers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nexa_cloud import __version__
from nexa_cloud.config import Settings
from nexa_cloud.db import Database, open_database
from nexa_cloud.errors import ApiError
from nexa_cloud.keys import KeyStore, load_passphrase
from nexa_cloud.ratelimit import RateLimiter
from nexa_cloud.routes import api_router
from nexa_cloud.security import Passwords
from nexa_cloud.service import CloudService

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "BODY_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def _json_bytes(status: int, code: str, message: str) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = JSONResponse(error_body(code, message)).body
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return bytes(body), headers


class BodyGuard:
    """Refuse oversized bodies (413) and non-JSON bodies (415) before the app sees them.

    The body is read here, up to the limit, and handed on in one piece, so a lying or missing
    Content-Length cannot get more than ``max_bytes`` into the app.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send, status: int, code: str, message: str) -> None:
        body, headers = _json_bytes(status, code, message)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length_header = headers.get(b"content-length")
        if length_header is not None:
            try:
                declared = int(length_header)
            except ValueError:
                await self._refuse(send, 400, "BAD_REQUEST", "Content-Length is not a number.")
                return
            if declared > self.max_bytes:
                await self._refuse(
                    send, 413, "BODY_TOO_LARGE", f"The body is larger than {self.max_bytes} bytes."
                )
                return
        if length_header is None and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body (HTTP/1.1 framing): nothing to guard
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(
                    send, 413, "BODY_TOO_LARGE", f"The body is larger than {self.max_bytes} bytes."
                )
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body and scope["method"] in ("POST", "PUT", "PATCH"):
            media = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            if media != b"application/json" and not media.endswith(b"+json"):
                await self._refuse(
                    send,
                    415,
                    "UNSUPPORTED_MEDIA_TYPE",
                    "Send the body as JSON with 'Content-Type: application/json'.",
                )
                return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _validation_message(exc: RequestValidationError) -> tuple[int, str, str, list[dict[str, Any]]]:
    errors = exc.errors()
    details = [
        {
            "loc": [str(part) for part in err.get("loc", ())],
            "message": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in errors[:20]
    ]
    if any(err.get("type") == "json_invalid" for err in errors):
        return 400, "MALFORMED_JSON", "The body is not valid JSON.", details
    parts = [f"{'.'.join(d['loc'][1:] or d['loc'])}: {d['message']}" for d in details[:5]]
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return 422, "VALIDATION_ERROR", "; ".join(parts) + more, details


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as ``{"error": {"code", "message"}}``."""

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, message, details = _validation_message(exc)
        return JSONResponse(error_body(code, message, details=details), status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"HTTP_{exc.status_code}")
        message = exc.detail if isinstance(exc.detail, str) else code
        if exc.status_code == 404:
            message = "There is no such API path; see /openapi.json."
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(OperationalError)
    async def database_down(_request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database error: %s", exc)
        return JSONResponse(
            error_body(
                "DATABASE_UNAVAILABLE", "The service's database is busy or unreachable; retry shortly."
            ),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(error_body("INTERNAL_ERROR", "Unexpected error; it was logged."), status_code=500)


def build_service(settings: Settings, database: Database | None = None) -> CloudService:
    """The service over ``database`` (or the configured one, migrated), with an active signing key."""
    db = database or open_database(settings.resolved_database_url())
    passphrase = load_passphrase(settings.key_passphrase, settings.resolved_data_dir())
    keys = KeyStore(db, passphrase, settings.now)
    keys.ensure_active()
    return CloudService(db, settings, keys, Passwords(settings.argon2))


def create_app(settings: Settings | None = None, *, service: CloudService | None = None) -> FastAPI:
    """The ASGI app. Pass ``service`` to share one (tests, bench); otherwise one is built here."""
    settings = settings or Settings.from_env()
    owned = service is None
    svc = service or build_service(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            svc.db.dispose()

    app = FastAPI(
        title="NEXA Cloud",
        version=__version__,
        description="Seats, signed licenses, usage ingestion and aggregate analytics for NEXA Desktop.",
        lifespan=lifespan,
    )
    app.state.service = svc
    app.state.settings = settings
    app.state.limiter = RateLimiter(settings.rate_per_second, settings.rate_burst)
    app.state.failure_limiter = RateLimiter(settings.failure_rate_per_second, settings.failure_burst)
    app.include_router(api_router)
    install_error_handlers(app)
    app.add_middleware(BodyGuard, max_bytes=settings.max_body_bytes)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory nexa_cloud.app:app_from_env``: settings from ``NEXA_CLOUD_*``."""
    return create_app(Settings.from_env())
