"""The outbox sender: usage events from the local ``outbox`` table to the account service.

Rows are written by the actions themselves (same transaction). The sender reads unsent rows in id
order, turns each into a contract :class:`UsageEvent` (the row's ``event_id`` is the event id),
POSTs them to ``/v1/usage`` with the machine token and marks a row sent only after the service
answered ``accepted`` or ``duplicate`` for it. A crash between the POST and the mark re-sends the
batch, and the service dedupes by id, so each event is delivered exactly once.

Only the allow-listed fields leave this computer: id, kind, time, count, duration and a finding
code that matches the contract's pattern. Payload keys such as PM or notification numbers,
addresses or file names are never read, let alone sent. Retries (stamina: exponential backoff with
jitter) happen only for what can succeed later: connection errors, timeouts, 429 (honouring
``Retry-After``) and 5xx. A service that is down never raises into the app; the rows wait.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import httpx
import stamina
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import delete, func, select, update

from nexa_desktop import __version__ as _app_version
from nexa_desktop.domain.licensing import (
    CODE_PATTERN,
    MAX_DURATION_MS,
    MAX_EVENT_COUNT,
    UsageBatch,
    UsageEvent,
    UsageKind,
    UsageResponse,
    UsageResult,
)
from nexa_desktop.ops.writer import DbWriter
from nexa_desktop.services.licensing import SyncCredentials
from nexa_desktop.store.db import Database
from nexa_desktop.store.models import outbox

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Rows per request (the contract allows up to 1000).
BATCH_SIZE = 500
#: Payload keys that may be read from an outbox row; everything else is ignored.
ALLOWED_PAYLOAD_FIELDS = frozenset({"count", "duration_ms", "code"})
_CODE = re.compile(CODE_PATTERN)
#: A code with a run of five or more digits could carry an identifier (PM numbers have eight).
_DIGIT_RUN = re.compile(r"[0-9]{5,}")

CredentialsSource = Callable[[], SyncCredentials | None]
AfterPost = Callable[[Sequence[UsageResult]], None]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# -- mapping ----------------------------------------------------------------------------------


def _int_field(payload: Mapping[str, Any], name: str, maximum: int) -> int | None:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= maximum else None


def safe_code(value: object) -> str | None:
    """``value`` when it is a contract code that cannot carry an identifier, else ``None``."""
    if not isinstance(value, str) or not _CODE.fullmatch(value) or _DIGIT_RUN.search(value):
        return None
    return value


def to_usage_event(
    event_id: str, kind: str, payload: Mapping[str, Any] | None, created_at: dt.datetime
) -> UsageEvent | None:
    """The contract event for one outbox row, or ``None`` when the row must not be sent.

    ``board.change`` rows become ``board.assign`` when the action was an assignment and
    ``board.move`` otherwise (their column names and labels stay here). Other kinds must be on
    the contract's allow-list. Only ``count``, ``duration_ms`` and ``code`` are read from the
    payload, and each only when it is valid; an invalid ``count`` drops the event.
    """
    payload = payload if isinstance(payload, Mapping) else {}
    try:
        if kind == "board.change":
            action = payload.get("action")
            is_assign = isinstance(action, str) and action.startswith("Assign")
            usage_kind = UsageKind.BOARD_ASSIGN if is_assign else UsageKind.BOARD_MOVE
            return UsageEvent(id=uuid.UUID(event_id), kind=usage_kind, occurred_at=created_at)
        usage_kind = UsageKind(kind)  # the contract's allow-list; anything else is ValueError
        allowed = {k: payload[k] for k in ALLOWED_PAYLOAD_FIELDS if k in payload}
        count = 1
        if "count" in allowed:
            parsed = _int_field(allowed, "count", MAX_EVENT_COUNT)
            if parsed is None:
                return None
            count = parsed
        return UsageEvent(
            id=uuid.UUID(event_id),
            kind=usage_kind,
            occurred_at=created_at,
            count=count,
            duration_ms=_int_field(allowed, "duration_ms", MAX_DURATION_MS),
            code=safe_code(allowed.get("code")),
        )
    except (ValueError, TypeError, PydanticValidationError):
        return None


# -- results ----------------------------------------------------------------------------------


@dataclass
class FlushReport:
    """What one flush did. ``error`` is a sentence when it stopped early (rows wait for next time)."""

    batches: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    dropped: int = 0
    failed: int = 0
    error: str | None = None
    retry_after: float | None = None
    seconds: float = 0.0

    @property
    def sent(self) -> int:
        """Rows marked sent (accepted now or already stored by the service)."""
        return self.accepted + self.duplicates

    @property
    def ok(self) -> bool:
        return self.error is None


class _RetryableStatus(Exception):
    """429 or 5xx: worth trying again (after ``retry_after`` seconds when the service said so)."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"the service answered {status}")
        self.status = status
        self.retry_after = retry_after


class _PermanentFailure(Exception):
    """An answer that will not change by retrying now (4xx other than 429, unreadable body)."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or ``None``."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or _utcnow())).total_seconds())


def _is_retryable_transport(exc: BaseException) -> bool:
    return isinstance(exc, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError))


# -- the sender -------------------------------------------------------------------------------


@dataclass
class _Batch:
    """Rows read for one request: the events to send (with their row ids) and the unsendable."""

    rows: int
    last_id: int
    events: list[UsageEvent] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    unsendable: list[int] = field(default_factory=list)
    body: bytes = b""


@dataclass(frozen=True)
class _Row:
    id: int
    event_id: str
    kind: str
    payload: Any
    created_at: dt.datetime


class OutboxSender:
    """Sends the outbox. ``credentials`` returns where to send and the machine token (``None``: not
    activated, nothing is sent). Use :meth:`flush` for one pass, :meth:`run_forever` in the app.

    ``after_post`` runs after the service answered and before rows are marked (a test hook).
    ``writer`` serialises the marking writes through the app's single DB writer when given.
    """

    def __init__(
        self,
        db: Database,
        credentials: CredentialsSource | SyncCredentials,
        *,
        batch_size: int = BATCH_SIZE,
        concurrency: int = 2,
        interval: float = 60.0,
        max_interval: float = 900.0,
        timeout: float = 15.0,
        attempts: int = 6,
        retry_timeout: float = 60.0,
        wait_initial: float = 0.5,
        wait_max: float = 20.0,
        wait_jitter: float = 1.0,
        max_retry_after: float = 30.0,
        writer: DbWriter | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        after_post: AfterPost | None = None,
    ) -> None:
        if not 1 <= batch_size <= 1000:
            raise ValueError("batch_size must be between 1 and 1000")
        self.db = db
        self._credentials: CredentialsSource = (
            (lambda: credentials) if isinstance(credentials, SyncCredentials) else credentials
        )
        self.batch_size = batch_size
        self.concurrency = max(1, concurrency)
        self.interval = interval
        self.max_interval = max_interval
        self.timeout = timeout
        self.attempts = attempts
        self.retry_timeout = retry_timeout
        self.wait_initial = wait_initial
        self.wait_max = wait_max
        self.wait_jitter = wait_jitter
        self.max_retry_after = max_retry_after
        self._writer = writer
        self._transport = transport
        self._after_post = after_post
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.last_report: FlushReport | None = None

    # -- database (off the event loop) --------------------------------------------------------

    async def _read(self, fn: Callable[[], T]) -> T:
        return await asyncio.to_thread(fn)

    async def _write(self, fn: Callable[[], T]) -> T:
        if self._writer is not None:
            return await asyncio.wrap_future(self._writer.submit(fn))
        return await asyncio.to_thread(fn)

    def _load_batch(self, after_id: int = 0) -> list[_Row]:
        """Up to ``batch_size`` unsent rows with ``id > after_id``, in id order (a key-range scan,
        so a long outbox of sent rows costs nothing)."""
        query = (
            select(outbox.c.id, outbox.c.event_id, outbox.c.kind, outbox.c.payload, outbox.c.created_at)
            .where(outbox.c.id > after_id, outbox.c.sent_at.is_(None))
            .order_by(outbox.c.id)
            .limit(self.batch_size)
        )
        with self.db.connect() as conn:
            return [_Row(*r) for r in conn.execute(query)]

    def pending(self) -> int:
        """Rows not sent yet."""
        with self.db.connect() as conn:
            count = conn.execute(select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None)))
            return int(count.scalar_one())

    def _mark(self, sent: Sequence[int], tried: Sequence[int], drop: Sequence[int]) -> None:
        """In one transaction: ``sent`` get ``sent_at`` and an attempt, ``tried`` only an attempt,
        ``drop`` (never sendable: not allow-listed, or refused by the service) are deleted."""
        now = _utcnow()
        with self.db.begin() as conn:
            for chunk in _chunks(sent):
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(chunk))
                    .values(sent_at=now, attempts=outbox.c.attempts + 1)
                )
            for chunk in _chunks(tried):
                conn.execute(
                    update(outbox).where(outbox.c.id.in_(chunk)).values(attempts=outbox.c.attempts + 1)
                )
            for chunk in _chunks(drop):
                conn.execute(delete(outbox).where(outbox.c.id.in_(chunk)))

    # -- HTTP ---------------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self.timeout,
            transport=self._transport,
            headers={"User-Agent": f"NEXA-Desktop/{_app_version}"},
        )

    def _retry_hook(self, exc: Exception) -> bool | float:
        if isinstance(exc, _RetryableStatus):
            return exc.retry_after if exc.retry_after is not None else True
        return _is_retryable_transport(exc)

    async def _post_once(
        self, client: httpx.AsyncClient, creds: SyncCredentials, body: bytes
    ) -> list[UsageResult]:
        resp = await client.post(
            creds.server_url.rstrip("/") + "/v1/usage",
            content=body,
            headers={"Authorization": f"Bearer {creds.machine_token}", "Content-Type": "application/json"},
        )
        if resp.status_code == 429 or resp.status_code >= 500:
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            if retry_after is not None and retry_after > self.max_retry_after:
                raise _PermanentFailure(
                    f"the account service is busy; it asked to wait {retry_after:.0f} s",
                    resp.status_code,
                    retry_after,
                )
            raise _RetryableStatus(resp.status_code, retry_after)
        if resp.status_code != 200:
            raise _PermanentFailure(_describe_error(resp), resp.status_code)
        try:
            return UsageResponse.model_validate_json(resp.content).results
        except PydanticValidationError as exc:
            raise _PermanentFailure("the account service sent an answer NEXA can't read", 200) from exc

    async def _post(
        self, client: httpx.AsyncClient, creds: SyncCredentials, body: bytes
    ) -> list[UsageResult]:
        async for attempt in stamina.retry_context(
            on=self._retry_hook,
            attempts=self.attempts,
            timeout=self.retry_timeout,
            wait_initial=self.wait_initial,
            wait_max=self.wait_max,
            wait_jitter=self.wait_jitter,
        ):
            with attempt:
                return await self._post_once(client, creds, body)
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover

    # -- flushing -----------------------------------------------------------------------------

    async def flush(self, *, max_batches: int | None = None) -> FlushReport:
        """Send unsent rows until none are left, a batch fails, or ``max_batches`` were sent.

        Never raises (except cancellation): failures end up in :attr:`FlushReport.error`.
        """
        report = FlushReport()
        started = time.perf_counter()
        try:
            await self._flush(report, max_batches)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never into the app: log it, report it, the rows wait
            log.exception("usage sync failed")
            report.error = f"Usage sync failed: {type(exc).__name__}: {exc}"
        report.seconds = time.perf_counter() - started
        self.last_report = report
        return report

    def _prepare(self, after_id: int) -> _Batch | None:
        """Load the next rows after ``after_id`` and build the request body (in a worker thread)."""
        rows = self._load_batch(after_id)
        if not rows:
            return None
        batch = _Batch(len(rows), rows[-1].id)
        for row in rows:
            event = to_usage_event(row.event_id, row.kind, row.payload, row.created_at)
            if event is None:
                batch.unsendable.append(row.id)
            else:
                batch.events.append(event)
                batch.ids.append(row.id)
        if batch.events:
            batch.body = UsageBatch(events=batch.events).model_dump_json().encode("utf-8")
        return batch

    async def _flush(self, report: FlushReport, max_batches: int | None) -> None:
        creds = await asyncio.to_thread(self._credentials)  # a keyring read can block (or prompt)
        if creds is None:
            report.error = (
                "Usage sync is waiting: this computer is not activated (or its keyring is unavailable)."
            )
            return
        # Reading, encoding and marking run in worker threads: the event loop (the GUI's, under
        # qasync) only waits. Up to ``concurrency`` batches are on the wire at once, so the
        # service never waits for this side; each batch is marked on its own answer. Within one
        # flush the scan only moves forward (ids > the last one read): rows the service did not
        # answer for wait for the next flush instead of being re-read in a loop.
        after_id = 0
        started = 0
        in_flight: set[asyncio.Task[bool]] = set()
        async with self._client() as client:
            try:
                while max_batches is None or started < max_batches:
                    batch = await self._read(partial(self._prepare, after_id))
                    if batch is None:
                        break
                    after_id = batch.last_id
                    if batch.unsendable:
                        log.warning(
                            "dropping %d outbox row(s) that are not allow-listed usage events",
                            len(batch.unsendable),
                        )
                        report.dropped += len(batch.unsendable)
                    if not batch.events:
                        await self._write(partial(self._mark, (), (), batch.unsendable))
                        continue
                    started += 1
                    in_flight.add(asyncio.ensure_future(self._send(client, creds, batch, report)))
                    if len(in_flight) >= self.concurrency:
                        done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                        if not all(task.result() for task in done):
                            break
                    if batch.rows < self.batch_size:
                        break
                if in_flight:
                    await asyncio.gather(*in_flight)
            except BaseException:
                for task in in_flight:
                    task.cancel()  # unmarked rows are re-sent later and deduplicated by the service
                await asyncio.gather(*in_flight, return_exceptions=True)
                raise

    async def _send(
        self, client: httpx.AsyncClient, creds: SyncCredentials, batch: _Batch, report: FlushReport
    ) -> bool:
        """POST one batch (with retries) and mark its rows; False when it could not be delivered."""
        try:
            results = await self._post(client, creds, batch.body)
        except (_RetryableStatus, _PermanentFailure, httpx.HTTPError) as exc:
            await self._write(partial(self._mark, (), batch.ids, batch.unsendable))
            report.failed += len(batch.ids)
            if report.error is None:
                report.error, report.retry_after = _failure_message(exc, creds.server_url)
                log.info("usage sync stopped: %s", report.error)
            return False
        if self._after_post is not None:
            self._after_post(results)
        # Marked only now, after the service answered: a crash before this line re-sends the
        # batch, and the service answers "duplicate" for what it already has.
        sent, refused = self._classify(batch.ids, batch.events, results, report)
        tried = sorted(set(batch.ids) - set(sent) - set(refused))
        await self._write(partial(self._mark, sent, tried, [*batch.unsendable, *refused]))
        report.batches += 1
        return True

    @staticmethod
    def _classify(
        ids: Sequence[int], events: Sequence[UsageEvent], results: Sequence[UsageResult], report: FlushReport
    ) -> tuple[list[int], list[int]]:
        row_of = {event.id: row_id for row_id, event in zip(ids, events, strict=True)}
        sent: list[int] = []
        refused: list[int] = []
        for result in results:
            row_id = row_of.get(result.id)
            if row_id is None:
                continue
            if result.status == "accepted":
                report.accepted += 1
                sent.append(row_id)
            elif result.status == "duplicate":
                report.duplicates += 1
                sent.append(row_id)
            else:
                # Refused for good (the service validated it): resending cannot help, and keeping
                # it would block the queue. Aggregate counters only, so nothing of the user's is lost.
                log.warning("the service refused usage event %s: %s", result.id, result.reason)
                report.rejected += 1
                refused.append(row_id)
        return sent, refused

    # -- background loop ----------------------------------------------------------------------

    def wake(self) -> None:
        """Ask :meth:`run_forever` to flush now (safe from any thread)."""
        loop, event = self._loop, self._wake
        if loop is None or event is None:
            return
        try:
            loop.call_soon_threadsafe(event.set)
        except RuntimeError:
            pass  # the loop has closed

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Flush every ``interval`` seconds (backing off to ``max_interval`` while failing) until
        ``stop`` is set. Never raises; a flush in progress is cancelled on stop (rows stay unsent
        or are re-sent and deduplicated)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        delay = self.interval
        try:
            while not stop.is_set():
                flush = asyncio.ensure_future(self.flush())
                stopper = asyncio.ensure_future(stop.wait())
                done, _ = await asyncio.wait({flush, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if flush not in done:
                    flush.cancel()
                    await asyncio.gather(flush, return_exceptions=True)
                    return
                stopper.cancel()
                report = flush.result()
                if report.ok:
                    delay = self.interval
                else:
                    delay = min(self.max_interval, max(delay * 2, self.interval))
                    if report.retry_after:
                        delay = max(delay, report.retry_after)
                await self._sleep(stop, delay)
        except asyncio.CancelledError:
            raise
        except Exception:  # pragma: no cover - flush() already swallows; belt and braces
            log.exception("usage sync loop stopped unexpectedly")
        finally:
            self._wake = None
            self._loop = None

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> None:
        wake = self._wake
        waiters = {asyncio.ensure_future(stop.wait())}
        if wake is not None:
            waiters.add(asyncio.ensure_future(wake.wait()))
        _, pending = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if wake is not None:
            wake.clear()


def _chunks(ids: Sequence[int], size: int = 500) -> list[Sequence[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _describe_error(resp: httpx.Response) -> str:
    code, message = "", ""
    try:
        body = resp.json()
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            code = str(error.get("code") or "")
            message = str(error.get("message") or "")
    except ValueError:
        pass
    text = f"the account service refused the usage upload ({resp.status_code}"
    text += f" {code})" if code else ")"
    if message:
        text += f": {message}"
    if resp.status_code in (401, 403):
        text += ". Check the license status; the rows are kept"
    return text


def _failure_message(exc: BaseException, server: str) -> tuple[str, float | None]:
    if isinstance(exc, _PermanentFailure):
        return f"Usage sync paused: {exc}. Nothing is lost; it is sent later.", exc.retry_after
    if isinstance(exc, _RetryableStatus):
        return (
            f"Usage sync paused: {exc} after several tries. Nothing is lost; it is sent later.",
            exc.retry_after,
        )
    return (
        f"Usage sync paused: can't reach the account service at {server} ({type(exc).__name__}). "
        "Nothing is lost; it is sent when the service is reachable.",
        None,
    )
