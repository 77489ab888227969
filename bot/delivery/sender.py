"""The one durable sender for everything the bot sends in bulk (reminders and broadcasts).

Nothing here imports Telegram. A feature hands the sender three things:

- an `Outbox`: its own table, behind five calls. A row is written *before* the request
  (`before`, committed) and settled right after it (`after`: delivered / failed / blocked /
  unknown / given up) or put back in the queue (`retry`). `recover` settles the rows a crash
  left in flight;
- a `send(chat_id)` callable that makes one request and returns the message id;
- a classifier that turns the exceptions `send` raises into a `Failure` (flood wait, blocked,
  migrated, failed, network error, maybe sent), or None for an exception that is not its own
  (it then propagates).

The sender owns the loop and the retry policy (`RetryPolicy`): it takes a token from the shared
bulk budget (`bot.delivery.pacing.bulk_budget`) before every request, sits out flood control
as asked (or pauses the feature's pacing and queues the row again), calls the feature back
when the recipient blocked the bot (`on_blocked`, to deactivate it) or the group moved
(`on_migrated`, to follow it), retries network errors a bounded number of times, and after a
crash either sends the rows in flight again (never lost; a crash repeats at most the rows that
were in flight: one for a feature that sends one at a time) or records them as unknown (never
a duplicate, maybe lost), as the feature chooses. Reminders and broadcasts both resend.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.delivery.pacing import TokenBucket, take_token

log = logging.getLogger(__name__)

# What the classifier says an exception means.
FLOOD = "flood"            # flood control: wait `seconds`, as Telegram asks; never the row's fault
BLOCKED = "blocked"        # the recipient blocked the bot or removed it from the group
MIGRATED = "migrated"      # the group became a supergroup (`new_chat_id`)
FAILED = "failed"          # not delivered, not worth retrying
NETWORK = "network"        # not delivered (as far as we know): retry a bounded number of times
MAYBE_SENT = "maybe_sent"  # the request may have arrived (the answer was lost): unknown

# How a row ends (`Outbox.after`) and what `Sender.send` returns.
SENT, UNKNOWN, GAVE_UP, PENDING = "sent", "unknown", "gave_up", "pending"


@dataclass(frozen=True)
class Failure:
    kind: str
    reason: str = ""
    seconds: float = 0.0  # flood: the wait asked for; network: how long to hold the pacing
    new_chat_id: int | None = None
    unexpected: bool = False  # a bug or an unexpected reply: logged with its traceback


Classify = Callable[[Exception], "Failure | None"]
Send = Callable[[int], Awaitable["int | None"]]


@dataclass
class Item:
    """One outbox row on its way: its id, where it goes, and the rounds it has had already."""

    id: int
    chat_id: int
    attempts: int = 0
    ref: Any = None  # the feature's own row


class Outbox(Protocol):
    """One feature's outbox table (reminders and broadcasts each keep theirs)."""

    def before(self, item: Item) -> None:
        """Committed before the request: the row is in flight."""

    def after(self, item: Item, outcome: str, *, reason: str | None = None,
              message_id: int | None = None) -> None:
        """Settled right after the request: SENT, FAILED, BLOCKED, UNKNOWN or GAVE_UP."""

    def retry(self, item: Item, reason: str, delay: float | None, *,
              counts: bool = True) -> None:
        """Back in the queue, not before `delay` seconds (None: whenever its turn comes).
        `counts`: the round counts towards `max_attempts` (a network error does; flood control
        and a shutdown are never the row's fault)."""

    def recover(self, *, resend: bool) -> int:
        """At start-up: rows still in flight go back in the queue (`resend`) or become
        unknown. Returns how many there were."""


@dataclass(frozen=True)
class RetryPolicy:
    flood_waits: int = 0  # flood waits sat out in place; beyond them the row is queued again
    flood_requeue: float | None = None  # ... not before this many seconds
    network_delays: tuple[float, ...] = ()  # in-place retries after a network error
    network_requeue: float | None = None  # then queued again, not before this many seconds
    max_attempts: int = 5  # rounds (the row's attempts) before a network error is given up
    max_migrations: int = 2  # in-place follows of a migrated group
    resend_after_crash: bool = False  # in flight at a crash: send again, or record unknown


@dataclass
class Result:
    status: str  # SENT, FAILED, BLOCKED, UNKNOWN, GAVE_UP, PENDING or MIGRATED (settled by the
    #              feature's `on_migrated`)
    network_errors: int = 0
    migrations: int = 0


class Sender:
    """Sends outbox rows one request at a time, paced by the shared budget, with one policy."""

    def __init__(self, outbox: Outbox, classify: Classify, policy: RetryPolicy, *,
                 budget: TokenBucket | None = None, interval: float = 0.0,
                 on_blocked: Callable[[Item], None] | None = None,
                 on_migrated: Callable[[Item, int], bool] | None = None,
                 pause: Callable[[float], None] | None = None,
                 running: Callable[[], bool] = lambda: True,
                 sleep: Callable[[float], Awaitable[Any]] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.outbox, self.classify, self.policy = outbox, classify, policy
        self.budget = budget  # shared by every bulk sender of the bot
        self.interval = interval  # this sender's own ceiling (seconds between requests)
        self.on_blocked = on_blocked
        # Called with the new chat id; True: the row follows the group and is sent again now
        # (the sender counts the moves); False: the feature settled or re-queued the row itself.
        self.on_migrated = on_migrated or (lambda item, new_chat_id: True)
        self.pause = pause  # hold the feature's other sends too (flood control is bot-wide)
        self.running = running
        self._sleep_fn = sleep or asyncio.sleep
        self._clock = clock
        self._next_slot = 0.0

    # -------------------------------------------------------------- rows

    def recover(self) -> int:
        """At start-up: settle the rows a crash left between `before` and `after`."""
        return self.outbox.recover(resend=self.policy.resend_after_crash)

    def begin(self, item: Item) -> None:
        """Write the row before its request (separate from `send` for concurrent callers,
        who must mark a row before they hand it to a task)."""
        self.outbox.before(item)

    async def deliver(self, item: Item, send: Send) -> Result:
        self.begin(item)
        return await self.send(item, send)

    async def send(self, item: Item, send: Send) -> Result:
        """Send a row already begun, retrying as the policy says, and settle it."""
        policy, outbox = self.policy, self.outbox
        result = Result(PENDING)
        floods = 0
        while True:
            await self._pace()
            try:
                message_id = await send(item.chat_id)
            except Exception as exc:
                failure = self.classify(exc)
                if failure is None:
                    raise
                if failure.unexpected:
                    log.error("sending to %s failed", item.chat_id, exc_info=exc)
            else:
                outbox.after(item, SENT, message_id=message_id)
                result.status = SENT
                return result
            kind, reason = failure.kind, failure.reason
            if kind == FLOOD:
                floods += 1
                if self.pause is not None:
                    self.pause(failure.seconds)
                if floods > policy.flood_waits:
                    outbox.retry(item, reason, policy.flood_requeue, counts=False)
                    return result
                log.info("flood control: waiting %.1fs", failure.seconds)
                await self._sleep(failure.seconds)
                if not self.running():
                    outbox.retry(item, "shutdown", 0.0, counts=False)
                    return result
                continue
            if kind == MIGRATED:
                assert failure.new_chat_id is not None
                if not self.on_migrated(item, failure.new_chat_id):
                    result.status = MIGRATED
                    return result
                result.migrations += 1
                item.chat_id = failure.new_chat_id
                if result.migrations > policy.max_migrations:
                    outbox.after(item, FAILED, reason="migrated too often")
                    result.status = FAILED
                    return result
                continue
            if kind == BLOCKED:
                if self.on_blocked is not None:
                    self.on_blocked(item)
                outbox.after(item, BLOCKED, reason=reason)
                result.status = BLOCKED
                return result
            if kind == NETWORK:
                result.network_errors += 1
                if result.network_errors <= len(policy.network_delays):
                    await self._sleep(policy.network_delays[result.network_errors - 1])
                    if self.running():
                        continue
                if self.pause is not None and failure.seconds:
                    self.pause(failure.seconds)
                if item.attempts + 1 >= policy.max_attempts:
                    outbox.after(item, GAVE_UP, reason=reason)
                    result.status = GAVE_UP
                    return result
                outbox.retry(item, reason, policy.network_requeue)
                return result
            status = UNKNOWN if kind == MAYBE_SENT else FAILED
            outbox.after(item, status, reason=reason)
            result.status = status
            return result

    # -------------------------------------------------------------- pacing

    async def _pace(self) -> None:
        if self.interval:
            wait = self._next_slot - self._clock()
            if wait > 0:
                await self._sleep_fn(wait)
            self._next_slot = max(self._next_slot, self._clock()) + self.interval
        if self.budget is not None:
            await take_token(self.budget, clock=self._clock, sleep=self._sleep_fn)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but give up early when the bot is shutting down."""
        end = self._clock() + seconds
        while self.running() and (left := end - self._clock()) > 0:
            await self._sleep_fn(min(0.25, left))
