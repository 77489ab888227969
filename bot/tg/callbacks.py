"""What every button handler needs: the ids in its callback data, and a best-effort answer.

Callback data and deep links come from the user's client and can be anything: an id is read
with `callback_id` (the shared `bot.db.connection.parse_id` check, SQLite's INTEGER range) and a bad
one gets `INVALID_BUTTON` as the answer to the press instead of an exception.

`answer_query` answers the press without ever stopping the action: Telegram refuses answers to
queries older than about 15 seconds ("Query is too old"), which happens after a slow network or
a restart, and the user still wants what the button asked for.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery
from telegram.error import TelegramError

from bot.db.ids import parse_id

log = logging.getLogger(__name__)

INVALID_BUTTON = "这个按钮已经失效了，请重新发送命令或重新提问。"


def callback_id(data: str | None, index: int, *, positive: bool = True) -> int | None:
    """The id at position `index` of colon-separated callback data, or None if it is not one."""
    parts = (data or "").split(":")
    if not 0 <= index < len(parts):
        return None
    return parse_id(parts[index], positive=positive)


def callback_index(data: str | None, index: int, size: int) -> int | None:
    """A choice number (0 ≤ n < size) at position `index` of callback data, or None."""
    number = callback_id(data, index, positive=False)
    return number if number is not None and 0 <= number < size else None


async def answer_query(query: CallbackQuery | None, text: str | None = None, *,
                       alert: bool = False) -> bool:
    """Answer a button press best-effort; True if Telegram took the answer."""
    if query is None:
        return False
    try:
        await query.answer(text, show_alert=alert)
    except TelegramError as exc:  # "Query is too old", a network error: the action goes on
        log.info("callback query not answered: %s", exc)
        return False
    return True
