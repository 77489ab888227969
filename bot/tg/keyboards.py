"""Keyboards: the large reply keyboard and the inline buttons under answers."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from bot.schemes import SCHEMES
from bot.tg import texts

MAX_BUTTON_CHARS = 60


def main_keyboard() -> ReplyKeyboardMarkup:
    """Big buttons for the most common needs (old eyes, big thumbs)."""
    rows = [
        [KeyboardButton(texts.BUTTON_HOW), KeyboardButton(texts.BUTTON_WHEN)],
        [KeyboardButton(texts.BUTTON_FAMILY), KeyboardButton(texts.BUTTON_MISSED)],
        [KeyboardButton(texts.BUTTON_REMIND)],
    ]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True)


def _short(text: str) -> str:
    return text if len(text) <= MAX_BUTTON_CHARS else text[: MAX_BUTTON_CHARS - 1] + "…"


def answer_keyboard(question_id: int | None, suggestion_ids: list[str],
                    titles: list[str], *, feedback: bool) -> InlineKeyboardMarkup | None:
    """Suggested topics as buttons, plus 有用 / 没用 under a real answer."""
    rows = [[InlineKeyboardButton(_short(title), callback_data=f"sug:{entry_id}")]
            for entry_id, title in zip(suggestion_ids, titles, strict=False)]
    if feedback and question_id is not None:
        rows.append([InlineKeyboardButton("👍 有用", callback_data=f"fb:{question_id}:1"),
                     InlineKeyboardButton("👎 没用", callback_data=f"fb:{question_id}:0")])
    return InlineKeyboardMarkup(rows) if rows else None


def scheme_keyboard(prefix: str) -> InlineKeyboardMarkup:
    """One big button per kind of benefit; callback data is `prefix` + scheme key."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(s.name, callback_data=f"{prefix}{s.key}")]
                                 for s in SCHEMES.values()])


def city_keyboard(saved_city: str | None, *, skip: str, saved: str) -> InlineKeyboardMarkup:
    """跳过, and 用 <city> when the user has a remembered city."""
    buttons = [InlineKeyboardButton("跳过", callback_data=skip)]
    if saved_city:
        buttons.insert(0, InlineKeyboardButton(f"用 {saved_city}", callback_data=saved))
    return InlineKeyboardMarkup([buttons])
