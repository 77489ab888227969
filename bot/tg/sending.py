"""Sending text safely: split under Telegram's limit, plain text, retry once on flood control."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

from telegram import Bot, InlineKeyboardMarkup, Message, ReplyKeyboardMarkup
from telegram.error import RetryAfter

log = logging.getLogger(__name__)

# Telegram's limit is 4096 characters; keep a margin for safety.
MAX_MESSAGE_CHARS = 4000
# Telegram allows a bot about 20 messages a minute in one group.
GROUP_PER_MINUTE = 20


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
            self._sent.setdefault(chat_id, deque()).append(now)

    async def wait(self, chat_id: int) -> None:
        while (delay := self.delay(chat_id, time.monotonic())) > 0:
            log.info("group pacing: waiting %.1fs", delay)
            await asyncio.sleep(delay)
        self.record(chat_id, time.monotonic())


group_pacer = GroupPacer()


def retry_delay(exc: RetryAfter) -> float:
    """Seconds Telegram asks us to wait (python-telegram-bot gives a number or a timedelta)."""
    value = exc.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Split at paragraph, then line, then hard boundaries so no part exceeds `limit`."""
    text = text.strip() or "…"
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    parts.append(text)
    return [p for p in parts if p]


Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup


async def send_text(bot: Bot, chat_id: int, text: str, *, reply_markup: Markup | None = None,
                    reply_to: int | None = None) -> Message:
    """Send `text` as plain text (no parse mode: nothing a user typed can break formatting).

    The markup goes on the last part. On flood control wait as Telegram asks, once.
    """
    parts = split_text(text)
    message: Message | None = None
    for index, part in enumerate(parts):
        kwargs = {
            "chat_id": chat_id,
            "text": part,
            "reply_markup": reply_markup if index == len(parts) - 1 else None,
            "reply_to_message_id": reply_to if index == 0 else None,
            "allow_sending_without_reply": True,
        }
        await group_pacer.wait(chat_id)
        try:
            message = await bot.send_message(**kwargs)
        except RetryAfter as exc:
            delay = retry_delay(exc)
            log.info("flood control: waiting %.1fs", delay)
            await asyncio.sleep(delay)
            message = await bot.send_message(**kwargs)
    assert message is not None
    return message
