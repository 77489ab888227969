"""The paced run of one broadcast: picks its outbox rows, paces them (overall budget, per
chat, per group), keeps a few in flight, and follows a migrated group through the outbox.

Nothing here knows Telegram. The run is handed an async `send` function; the Telegram adapter
(`bot/tg/broadcast_runner.py`) turns Telegram's errors into the signals of
`bot.delivery.errors`. The send itself, its outbox writes and its retries are
`bot.delivery.sender`'s (shared with reminders).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import sqlite_utils

from bot.broadcasts.audience import Recipient
from bot.broadcasts.store import (
    BLOCKED,
    CANCELLED,
    DONE,
    FAILED,
    PENDING,
    RUNNING,
    SENDING,
    SENT,
    SKIPPED,
    UNKNOWN,
    Progress,
    get_broadcast,
    progress,
    recover_in_flight,
)
from bot.db.connection import iso_seconds, transaction
from bot.db.groups import deactivate_group, migrate_group
from bot.db.users import deactivate_user_chat
from bot.delivery import sender as delivery
from bot.delivery.errors import classify_outcome
from bot.delivery.pacing import RateLimiter, TokenBucket

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # per recipient, once transient errors are involved
FETCH_BATCH = 200


def eta_seconds(remaining: int, rate: float, observed: float | None) -> float:
    """Time left at the observed pace (never faster than the configured rate)."""
    pace = min(rate, observed) if observed else rate
    return remaining / pace if pace > 0 else math.inf


@dataclass(frozen=True)
class BroadcastMessage:
    broadcast_id: int
    text: str
    buttons: tuple[tuple[str, str], ...] = ()
    pin: bool = False


SendFn = Callable[[Recipient, BroadcastMessage], Awaitable[int | None]]


def default_concurrency(rate: float) -> int:
    """Requests in flight: enough for `rate` at ~0.3 s round trips. Capped at 8 because
    httpcore's pool bookkeeping grows with open connections: 4–8 cost about 2.3–2.8 ms of CPU
    per message locally, 32 cost 4 ms (bench/broadcast.py)."""
    return max(4, min(8, math.ceil(rate * 0.3)))


@dataclass
class _Row:
    id: int
    chat_id: int
    kind: str
    attempts: int
    migrated_from: int | None


@dataclass
class RunResult:
    status: str  # done | cancelled | paused
    progress: Progress
    sent_this_run: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def broadcast_policy(max_attempts: int = MAX_ATTEMPTS) -> delivery.RetryPolicy:
    """Broadcasts wait out flood control by pausing the whole broadcast and queueing the row
    again (never given up), count transient errors towards `max_attempts`, follow a migrated
    group through the outbox, and send again what a crash left in flight (never lost; the
    messages in flight at the crash may arrive twice)."""
    return delivery.RetryPolicy(flood_waits=0, network_delays=(), max_attempts=max_attempts,
                                resend_after_crash=True)


_OUTCOME_STATUS = {delivery.SENT: SENT, delivery.FAILED: FAILED, delivery.GAVE_UP: FAILED,
                   delivery.BLOCKED: BLOCKED, delivery.UNKNOWN: UNKNOWN}


class BroadcastOutbox:
    """One broadcast's rows of `broadcast_outbox` behind the shared sender's outbox calls."""

    def __init__(self, db: sqlite_utils.Database, broadcast_id: int,
                 now: Callable[[], dt.datetime]) -> None:
        self.db, self.broadcast_id, self._now = db, broadcast_id, now

    def before(self, item: delivery.Item) -> None:
        self.mark(item.id, SENDING)

    def claim(self, item: delivery.Item) -> bool:
        """`before`, only if the row is still pending: a reply may have confirmed a row that a
        crash left in flight between the query that picked it and now."""
        return self.db.execute(
            "update broadcast_outbox set status = ?, updated_at = ? where id = ? and status = ?",
            [SENDING, iso_seconds(self._now()), item.id, PENDING]).rowcount == 1

    def after(self, item: delivery.Item, outcome: str, *, reason: str | None = None,
              message_id: int | None = None) -> None:
        attempts = item.attempts + 1 if outcome == delivery.GAVE_UP else None
        self.mark(item.id, _OUTCOME_STATUS[outcome], error=reason, message_id=message_id,
                  attempts=attempts)

    def retry(self, item: delivery.Item, reason: str, delay: float | None, *,
              counts: bool = True) -> None:
        self.mark(item.id, PENDING, error=reason[:200],
                  attempts=item.attempts + 1 if counts else None)

    def recover(self, *, resend: bool) -> int:
        return recover_in_flight(self.db, self.broadcast_id, self._now(), resend=resend)

    def mark(self, row_id: int, status: str, *, error: str | None = None,
             message_id: int | None = None, attempts: int | None = None) -> None:
        self.db.execute(
            "update broadcast_outbox set status = ?, error = coalesce(?, error), "
            "message_id = coalesce(?, message_id), attempts = coalesce(?, attempts), "
            "updated_at = ? where id = ?",
            [status, error, message_id, attempts, iso_seconds(self._now()), row_id])


class Broadcaster:
    """Works through one broadcast's outbox: paced, retrying flood control, resumable."""

    def __init__(self, db: sqlite_utils.Database, broadcast_id: int, send: SendFn, *,
                 rate: float, now: Callable[[], dt.datetime],
                 monotonic: Callable[[], float] = time.monotonic,
                 concurrency: int | None = None, max_attempts: int = MAX_ATTEMPTS,
                 budget: TokenBucket | None = None) -> None:
        self.db = db
        self.broadcast_id = broadcast_id
        self.rate = rate
        self._send = send
        self._now = now
        self._monotonic = monotonic
        self.concurrency = concurrency or default_concurrency(rate)
        self.max_attempts = max_attempts
        self._stop: str | None = None  # "cancel" or "pause"
        self._wake = asyncio.Event()
        self.started = monotonic()
        self.sent_this_run = 0
        self.limiter = RateLimiter(rate, monotonic(), overall=budget)
        self.outbox = BroadcastOutbox(db, broadcast_id, now)
        # The limiter takes the shared budget's token before each row (`_wait_turn`), so the
        # sender itself takes none; flood control pauses the limiter.
        self.sender = delivery.Sender(
            self.outbox, classify_outcome, broadcast_policy(max_attempts),
            on_blocked=self._deactivate, on_migrated=self._follow_migration,
            pause=lambda seconds: self.limiter.pause(self._monotonic() + seconds),
            clock=monotonic)

    # -------------------------------------------------------------- control

    def cancel(self) -> None:
        """Stop for good (the admin pressed cancel); the caller records it in the database."""
        self._stop = "cancel"
        self._wake.set()

    def pause(self) -> None:
        """Stop for now (shutdown); the broadcast stays running and resumes on next start."""
        self._stop = self._stop or "pause"
        self._wake.set()

    @property
    def observed_rate(self) -> float | None:
        elapsed = self._monotonic() - self.started
        return self.sent_this_run / elapsed if elapsed > 1 and self.sent_this_run else None

    # -------------------------------------------------------------- running

    async def run(self) -> RunResult:
        row = get_broadcast(self.db, self.broadcast_id)
        if row is None:
            raise LookupError(f"no broadcast {self.broadcast_id}")
        if row["status"] != RUNNING:
            return RunResult(row["status"], progress(self.db, self.broadcast_id))
        message = BroadcastMessage(self.broadcast_id, row["text"], tuple(row["buttons"]),
                                   bool(row["pin"]))
        recovered = self.sender.recover()
        if recovered:
            log.warning("broadcast %s: %d messages in flight at a crash are sent again",
                        self.broadcast_id, recovered)
        self.started = self._monotonic()
        slots = asyncio.Semaphore(self.concurrency)
        in_flight: set[asyncio.Task] = set()
        while self._stop is None:
            batch = self._pending()
            if not batch:
                if not in_flight:
                    break
                await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                continue
            for item in batch:
                if not await self._wait_turn(item.chat_id):
                    break
                await slots.acquire()
                if self._stop is not None:
                    slots.release()
                    break
                if not self.outbox.claim(item):  # confirmed by a reply meanwhile
                    slots.release()
                    continue
                task = asyncio.create_task(self._deliver(item, message, slots))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)
        return self._finish()

    def _pending(self) -> list[delivery.Item]:
        rows = self.db.execute(
            "select id, chat_id, kind, attempts, migrated_from from broadcast_outbox "
            "where broadcast_id = ? and status = ? order by id limit ?",
            [self.broadcast_id, PENDING, FETCH_BATCH]).fetchall()
        return [delivery.Item(r[0], r[1], r[3], ref=_Row(*r)) for r in rows]

    async def _wait_turn(self, chat_id: int) -> bool:
        while self._stop is None:
            now = self._monotonic()
            wait = self.limiter.delay(chat_id, now)
            if wait <= 0:
                self.limiter.take(chat_id, now)
                return True
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
        return False

    async def _deliver(self, item: delivery.Item, message: BroadcastMessage,
                       slots: asyncio.Semaphore) -> None:
        kind = item.ref.kind

        async def send(chat_id: int) -> int | None:
            return await self._send(Recipient(chat_id, kind), message)

        try:
            result = await self.sender.send(item, send)
            if result.status == delivery.SENT:
                self.sent_this_run += 1
        finally:
            slots.release()

    def _mark(self, row_id: int, status: str, *, error: str | None = None,
              message_id: int | None = None, attempts: int | None = None) -> None:
        self.outbox.mark(row_id, status, error=error, message_id=message_id, attempts=attempts)

    def _deactivate(self, item: delivery.Item) -> None:
        if item.ref.kind == "group":
            deactivate_group(self.db, item.chat_id)
        else:
            deactivate_user_chat(self.db, item.chat_id)

    def _follow_migration(self, item: delivery.Item, new_chat_id: int) -> bool:
        """The group moved: the row follows it through the outbox (once), or is skipped when
        the supergroup is on the list already. Returns False: settled here, not resent now."""
        if item.ref.migrated_from is not None:
            self._mark(item.id, FAILED, error="群迁移后仍无法发送")
            return False
        migrate_group(self.db, item.chat_id, new_chat_id)
        duplicate = self.db.execute(
            "select 1 from broadcast_outbox where broadcast_id = ? and chat_id = ?",
            [self.broadcast_id, new_chat_id]).fetchone()
        if duplicate:  # the supergroup is already on the list: it gets that copy
            self._mark(item.id, SKIPPED, error=f"群已升级为 {new_chat_id}，已在名单中")
            return False
        self.db.execute(
            "update broadcast_outbox set chat_id = ?, migrated_from = ?, status = ?, "
            "updated_at = ? where id = ?",
            [new_chat_id, item.chat_id, PENDING, iso_seconds(self._now()), item.id])
        return False

    def _finish(self) -> RunResult:
        seconds = self._monotonic() - self.started
        counts = progress(self.db, self.broadcast_id)
        if self._stop == "pause":
            return RunResult("paused", counts, self.sent_this_run, seconds)
        status = CANCELLED if self._stop == "cancel" else DONE
        with transaction(self.db):
            current = self.db.execute("select status from broadcasts where id = ?",
                                      [self.broadcast_id]).fetchone()
            if current and current[0] == CANCELLED:
                status = CANCELLED
            if status == CANCELLED:
                self.db.execute("update broadcast_outbox set status = ? where broadcast_id = ? "
                                "and status = ?", [CANCELLED, self.broadcast_id, PENDING])
            counts = progress(self.db, self.broadcast_id)
            self.db.execute(
                "update broadcasts set status = ?, finished_at = coalesce(finished_at, ?), "
                "total = ?, sent = ?, failed = ?, blocked = ?, unconfirmed = ? where id = ?",
                [status, iso_seconds(self._now()), counts.total, counts.sent, counts.failed,
                 counts.blocked, counts.unconfirmed, self.broadcast_id])
        return RunResult(status, counts, self.sent_this_run, seconds)
