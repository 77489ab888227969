"""Sending text safely: split under Telegram's limit, plain text, retry on flood control; and
the one per-group pacer every message to a group goes through (`GroupLimiter`).

Pacing and flood-control waits are `bot.delivery.pacing`'s, shared with reminders and broadcasts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from telegram import Bot, InlineKeyboardMarkup, Message, ReplyKeyboardMarkup
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import BaseRateLimiter

from bot.delivery import sender as delivery
from bot.delivery.pacing import (  # noqa: F401  (GroupPacer, GROUP_PER_MINUTE re-exported)
    GROUP_PER_MINUTE,
    GroupPacer,
    retry_after_seconds,
    send_paced,
)

log = logging.getLogger(__name__)

# Telegram's limit is 4096 characters; keep a margin for safety.
MAX_MESSAGE_CHARS = 4000
group_pacer = GroupPacer()

# Requests that put a new message in a chat: what Telegram's 20 a minute per group counts.
NEW_MESSAGE_METHODS = frozenset({
    "sendMessage", "sendPhoto", "sendDocument", "sendAudio", "sendVoice", "sendVideo",
    "sendAnimation", "sendSticker", "sendVideoNote", "sendMediaGroup", "sendLocation",
    "sendVenue", "sendContact", "sendPoll", "sendDice", "copyMessage", "forwardMessage",
})
# `rate_limit_args` of a bulk send (reminders, broadcasts): paced by the sender's own per-group
# budget, so it only counts towards the group's minute here and never waits.
BULK = {"bulk": True}


class GroupLimiter(BaseRateLimiter[dict[str, Any]]):
    """The bot's rate limiter (`ApplicationBuilder.rate_limiter`): every new message to a group,
    whichever handler sends it (`send_text`, `reply_text`, a reminder, a broadcast), goes
    through one `GroupPacer`, so a group gets at most 20 a minute. A reply waits for its group's
    turn in its own handler (updates of other chats run meanwhile, `bot.tg.updates`); private
    chats and every other request pass straight through."""

    def __init__(self, pacer: GroupPacer | None = None) -> None:
        self.pacer = pacer or group_pacer

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        if endpoint in NEW_MESSAGE_METHODS and isinstance(chat_id, int) and chat_id < 0:
            if rate_limit_args and rate_limit_args.get("bulk"):
                self.pacer.record(chat_id, time.monotonic())
            else:
                await self.pacer.wait(chat_id)
        return await callback(*args, **kwargs)


def bulk_kwargs(bot: Bot) -> dict[str, Any]:
    """What a bulk sender passes to `send_message`: marked as bulk for the bot's `GroupLimiter`
    (a bot without a rate limiter, as in benchmarks, refuses `rate_limit_args`)."""
    return {"rate_limit_args": BULK} if getattr(bot, "rate_limiter", None) else {}


def flood_seconds(exc: BaseException) -> float | None:
    """How long Telegram's flood control asks to wait, or None for any other error."""
    return retry_after_seconds(exc) if isinstance(exc, RetryAfter) else None


def certainly_not_sent(exc: NetworkError) -> bool:
    """Whether a network error certainly happened before Telegram got the message.

    A read timeout or a dropped connection after the request went out may well have delivered
    it (the answer was lost): sending again could repeat it.
    """
    cause = exc.__cause__
    if isinstance(exc, TimedOut):
        return isinstance(cause, httpx.PoolTimeout | httpx.ConnectTimeout)
    # No httpx cause: Telegram answered with a server error (5xx), so nothing was sent.
    return cause is None or isinstance(cause, httpx.ConnectError)


def classify_error(exc: Exception) -> delivery.Failure | None:
    """What a Telegram error means to the bulk sender (`bot.delivery.sender`); None for an
    exception that is not Telegram's. Reasons are recorded in the outbox as they are."""
    if isinstance(exc, RetryAfter):
        return delivery.Failure(delivery.FLOOD, "flood", retry_after_seconds(exc))
    if isinstance(exc, ChatMigrated):
        return delivery.Failure(delivery.MIGRATED, new_chat_id=exc.new_chat_id)
    if isinstance(exc, Forbidden):
        return delivery.Failure(delivery.BLOCKED, f"blocked: {exc.message}")
    if isinstance(exc, BadRequest):
        return delivery.Failure(delivery.FAILED, f"bad request: {exc.message}")
    if isinstance(exc, NetworkError):  # includes TimedOut
        if certainly_not_sent(exc):
            return delivery.Failure(delivery.NETWORK, f"network: {exc.message}")
        return delivery.Failure(delivery.MAYBE_SENT, f"maybe sent: {exc.message}")
    if isinstance(exc, TelegramError):
        return delivery.Failure(delivery.FAILED, f"telegram: {exc.message}")
    return None


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


FLOOD_RETRIES = 3


async def send_text(bot: Bot, chat_id: int, text: str, *, reply_markup: Markup | None = None,
                    reply_to: int | None = None) -> Message:
    """Send `text` as plain text (no parse mode: nothing a user typed can break formatting).

    The markup goes on the last part. On flood control wait as Telegram asks and try again, up
    to FLOOD_RETRIES times: each chat is handled on its own, so waiting here holds up only the
    chat that is being limited, and a reply is not lost to a second 429 in a row. Each part
    (and each retry) takes its group's turn in the bot's `GroupLimiter`; a bot built without
    it (benchmarks, in-process tests) is paced here instead.
    """
    pacer = None if isinstance(getattr(bot, "rate_limiter", None), GroupLimiter) \
        else group_pacer
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
        message = await send_paced(lambda kwargs=kwargs: bot.send_message(**kwargs),
                                   chat_id=chat_id, flood_seconds=flood_seconds,
                                   pacer=pacer, flood_retries=FLOOD_RETRIES)
    assert message is not None
    return message
