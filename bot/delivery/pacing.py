"""Pacing for everything the bot sends in bulk or to groups, in one place.

Telegram limits a bot to about 30 messages a second overall, 1 a second per chat and 20 a
minute per group, and answers a request over the limit with flood control (429, "retry after
N seconds"). The pieces here hold those limits for reminders (`bot/tg/reminder_sender.py`),
broadcasts (`bot/broadcasts/runner.py`) and group replies (`bot/tg/sending.py`):

- `TokenBucket` / `bulk_budget`: the one overall budget broadcasts and reminders share;
- `RateLimiter`: overall, per chat and per group buckets, paused by flood control (broadcasts);
- `GroupPacer`: at most 20 messages a minute in one group, private chats unpaced (replies);
- `retry_after_seconds`, `take_token`, `send_paced`: flood-control waits and the paced send
  itself. They take a `send` callable and a `flood_seconds` function that recognises flood
  control, so this module never imports Telegram.

The durable send loop of reminders and broadcasts (outbox, retries) is `bot.delivery.sender`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

PER_CHAT_PER_SECOND = 1.0
PER_GROUP_PER_MINUTE = 20.0
# Telegram allows a bot about 20 messages a minute in one group.
GROUP_PER_MINUTE = 20


# ------------------------------------------------------------------ budgets


class TokenBucket:
    """`rate` tokens per second, holding at most `capacity`; one token per message."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, capacity)
        self.tokens = self.capacity
        self.stamp = now

    def delay(self, now: float) -> float:
        """Seconds until one token is available (0 when it is)."""
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


def bulk_budget(rate: float, now: float) -> TokenBucket:
    """The overall budget for bulk sending.

    The bot keeps one and shares it between broadcasts and reminders, so that together they
    stay under Telegram's overall limit. It holds a fifth of a second's worth, so a late
    wake-up can catch up without a burst.
    """
    return TokenBucket(rate, rate / 5, now)


async def take_token(bucket: TokenBucket, *, clock: Callable[[], float] | None = None,
                     sleep: Callable[[float], Awaitable[Any]] | None = None) -> None:
    """Wait until `bucket` has a token, then take it."""
    clock, sleep = clock or time.monotonic, sleep or asyncio.sleep
    while (wait := bucket.delay(clock())) > 0:
        await sleep(wait)
    bucket.take()


class RateLimiter:
    """Telegram's limits for bulk sending: overall, per chat (1/s), per group (20/min).

    The overall bucket may be shared with the bot's other bulk sender (see `bulk_budget`).
    Flood control pauses everything.
    """

    def __init__(self, rate: float, now: float, *, per_chat: float = PER_CHAT_PER_SECOND,
                 per_group_per_minute: float = PER_GROUP_PER_MINUTE,
                 overall: TokenBucket | None = None) -> None:
        self.overall = overall or bulk_budget(rate, now)
        self.per_chat = per_chat
        self.per_group = per_group_per_minute / 60
        self.chats: dict[int, TokenBucket] = {}
        self.groups: dict[int, TokenBucket] = {}
        self.paused_until = 0.0

    def _buckets(self, chat_id: int, now: float) -> list[TokenBucket]:
        buckets = [self.overall]
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self.chats[chat_id] = TokenBucket(self.per_chat, 1, now)
        buckets.append(chat)
        if chat_id < 0:
            group = self.groups.get(chat_id)
            if group is None:
                group = self.groups[chat_id] = TokenBucket(self.per_group, 1, now)
            buckets.append(group)
        return buckets

    def delay(self, chat_id: int, now: float) -> float:
        wait = max(b.delay(now) for b in self._buckets(chat_id, now))
        return max(wait, self.paused_until - now)

    def take(self, chat_id: int, now: float) -> None:
        for bucket in self._buckets(chat_id, now):
            bucket.take()
        if len(self.chats) > 20_000:
            self._forget_idle(now)

    def pause(self, until: float) -> None:
        self.paused_until = max(self.paused_until, until)

    def _forget_idle(self, now: float) -> None:
        # A full bucket carries no information: drop it to keep memory flat.
        for table in (self.chats, self.groups):
            for key in [k for k, b in table.items() if b.delay(now) == 0 and
                        b.tokens >= b.capacity]:
                del table[key]


class GroupPacer:
    """At most `per_minute` messages in any 60 s per group; private chats are not paced.

    The wait happens in the handler of that group only: updates of other chats run meanwhile
    (bot.tg.updates), so one busy group never holds up anyone else.
    """

    def __init__(self, per_minute: int = GROUP_PER_MINUTE, window: float = 60.0) -> None:
        self.per_minute, self.window = per_minute, window
        self._sent: dict[int, deque[float]] = {}

    def delay(self, chat_id: int, now: float) -> float:
        """Seconds to wait before the next message to `chat_id` (0 for private chats)."""
        if chat_id >= 0:
            return 0.0
        times = self._sent.get(chat_id)
        if times is None:
            return 0.0
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._sent[chat_id]
            return 0.0
        return 0.0 if len(times) < self.per_minute else times[0] + self.window - now

    def record(self, chat_id: int, now: float) -> None:
        if chat_id < 0:
            times = self._sent.setdefault(chat_id, deque())
            # Bulk sends are recorded without a `delay` call: drop what left the window here,
            # so a group that only ever gets notices does not grow its history for good.
            while times and times[0] <= now - self.window:
                times.popleft()
            times.append(now)

    async def wait(self, chat_id: int) -> None:
        while (delay := self.delay(chat_id, time.monotonic())) > 0:
            log.info("group pacing: waiting %.1fs", delay)
            await asyncio.sleep(delay)
        self.record(chat_id, time.monotonic())


# ------------------------------------------------------------------ flood control


def retry_after_seconds(value: Any) -> float:
    """Seconds flood control asks to wait: from an error carrying `retry_after`, or the value
    itself (python-telegram-bot gives a number or a timedelta)."""
    value = getattr(value, "retry_after", value)
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


async def send_paced(send: Callable[[], Awaitable[T]], *, chat_id: int,
                     flood_seconds: Callable[[BaseException], float | None],
                     pacer: GroupPacer | None = None, flood_retries: int = 1,
                     sleep: Callable[[float], Awaitable[Any]] | None = None) -> T:
    """`send()` once `pacer` lets `chat_id` have a turn; on flood control (an exception for
    which `flood_seconds` gives a number) wait as asked and send again, up to `flood_retries`
    times. Any other exception, or flood control beyond that, propagates."""
    if pacer is not None:
        await pacer.wait(chat_id)
    retries = 0
    while True:
        try:
            return await send()
        except Exception as exc:
            delay = flood_seconds(exc)
            if delay is None or retries >= flood_retries:
                raise
            retries += 1
            log.info("flood control: waiting %.1fs", delay)
            await (sleep or asyncio.sleep)(delay)
