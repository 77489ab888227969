"""What every guided private flow (/deadline, /city, /remind) shares: words and buttons that
mean stop, back or start again, and one prompt at a time (the keyboard of a finished step is
removed, so old buttons do not linger).

A flow calls `add_navigation` on its states once; each step asks with `prompt`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.deadline.explanation import cn_date
from bot.qa.places_typo import closest_places
from bot.qa.safety import redact
from bot.text.normalize import quoted
from bot.tg import texts
from bot.tg.callbacks import answer_query
from bot.tg.context import BotContext
from bot.tg.keyboards import main_keyboard, place_guess_keyboard

STOP_WORDS = ("取消", "算了", "不弄了", "不要了", "不办了", "不用了", "退出", "不设了", "不算了")
BACK_WORDS = ("返回", "上一步", "后退", "退回")
RESTART_WORDS = ("重新来", "重来", "重新开始", "从头来")
_FILLER = r"[\s，,。.!！~～、啊吧了呀哦嗯还是先那我]"
_WORDS = "|".join(sorted(STOP_WORDS + BACK_WORDS + RESTART_WORDS, key=len, reverse=True))
NAV_PATTERN = re.compile(rf"^(?:{_FILLER}|{_WORDS})*(?:{_WORDS})(?:{_FILLER}|{_WORDS})*$")
PROMPT_KEY = "flow_prompt"

Ask = Callable[[Update, BotContext, object], Awaitable[int]]
Start = Callable[[Update, BotContext], Awaitable[int]]
Cleanup = Callable[[BotContext], None]


def forget(*keys: str) -> Cleanup:
    """A flow's cleanup: drop its answers (these user_data keys) when it ends."""
    def cleanup(context: BotContext) -> None:
        for key in keys:
            context.user_data.pop(key, None)
    return cleanup


def nav_word(text: str | None) -> str | None:
    """'stop', 'back', 'restart' when the whole message means that, else None."""
    clean = (text or "").strip()
    if not clean or len(clean) > 12 or not NAV_PATTERN.match(clean):
        return None
    if any(word in clean for word in STOP_WORDS):
        return "stop"
    if any(word in clean for word in RESTART_WORDS):
        return "restart"
    return "back"


def nav_row(prefix: str, *, back: bool = True) -> list[InlineKeyboardButton]:
    """上一步 · 取消 under a step; callback data `<prefix>:nav:back|stop`."""
    row = [InlineKeyboardButton("上一步", callback_data=f"{prefix}:nav:back")] if back else []
    return [*row, InlineKeyboardButton("取消", callback_data=f"{prefix}:nav:stop")]


def with_nav(markup: InlineKeyboardMarkup | None, prefix: str, *,
             back: bool = True) -> InlineKeyboardMarkup:
    rows = [list(row) for row in (markup.inline_keyboard if markup else ())]
    return InlineKeyboardMarkup([*rows, nav_row(prefix, back=back)])


async def clear_prompt(context: BotContext) -> None:
    """Remove the buttons of the last step's message (best effort: it may be too old)."""
    where = context.user_data.pop(PROMPT_KEY, None) if context.user_data is not None else None
    if where:
        with contextlib.suppress(TelegramError):
            await context.bot.edit_message_reply_markup(where[0], where[1], reply_markup=None)


def said(text: str) -> str:
    """What the user typed, fit to repeat in a reply: numbers hidden, at most 20 characters."""
    return quoted(redact(text))


def end_open_flows(application: Application, chat_id: int, user_id: int) -> int:
    """End every guided flow this user has open in this chat; returns how many there were.

    python-telegram-bot has no public call for it: a ConversationHandler keeps the state of
    each (chat, user) in `_conversations` (tests/e2e/test_private_flows.py notices a change).
    """
    ended = 0
    for handlers in application.handlers.values():
        for handler in handlers:
            if isinstance(handler, ConversationHandler) and \
                    handler._conversations.pop((chat_id, user_id), None) is not None:
                ended += 1
    return ended


async def fresh_start(update: Update, context: BotContext) -> None:
    """A command, a home button or a typed request starts something new: the flows left open
    end first, so that none of them takes the next message as its answer (users rarely say
    取消 before they do something else)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is not None and user is not None and \
            end_open_flows(context.application, chat.id, user.id):
        await clear_prompt(context)


async def prompt(update: Update, context: BotContext, text: str,
                 markup: InlineKeyboardMarkup | None = None) -> Message:
    """Ask one step: the previous step's buttons go away, this one's are remembered."""
    await clear_prompt(context)
    message = await update.effective_message.reply_text(text, reply_markup=markup)
    if markup is not None:
        context.user_data[PROMPT_KEY] = (message.chat_id, message.message_id)
    return message


async def finish(update: Update, context: BotContext, text: str = texts.CANCELLED,
                 *, cleanup: Cleanup | None = None) -> int:
    """End a flow politely, with the home keyboard."""
    if cleanup is not None:
        cleanup(context)
    await clear_prompt(context)
    await update.effective_message.reply_text(text, reply_markup=main_keyboard())
    return ConversationHandler.END


async def _navigate(update: Update, context: BotContext, *, state: object,
                    order: Sequence[object], ask: Ask, start: Start,
                    cleanup: Cleanup | None) -> int:
    query = update.callback_query
    if query is not None:
        await answer_query(query)
        action = (query.data or "").rsplit(":", 1)[-1]
    else:
        action = nav_word(update.effective_message.text) or "back"
    if action == "stop":
        return await finish(update, context, cleanup=cleanup)
    if action == "restart":
        await clear_prompt(context)
        return await start(update, context)
    index = list(order).index(state) if state in order else 0
    return await ask(update, context, order[max(index - 1, 0)])


def add_navigation(states: dict[object, list[BaseHandler]], *, prefix: str,
                   order: Sequence[object], ask: Ask, start: Start,
                   cleanup: Cleanup | None = None) -> dict[object, list[BaseHandler]]:
    """Put stop/back/restart first in every state: typed words and the nav buttons.

    `order` lists the states from first to last step (上一步 goes one back in it, and stays on
    the first); `ask(update, context, state)` asks that step again and returns the state.
    """
    words = filters.ChatType.PRIVATE & filters.TEXT & filters.Regex(NAV_PATTERN)
    for state, handlers in states.items():
        go = partial(_navigate, state=state, order=order, ask=ask, start=start, cleanup=cleanup)
        handlers[:0] = [CallbackQueryHandler(go, pattern=rf"^{re.escape(prefix)}:nav:"),
                        MessageHandler(words, go)]
    return states


def saved_date_keyboard(saved: str | None, data: str) -> InlineKeyboardMarkup | None:
    """用 2025年3月10日: the last certification date the user gave before, as one button."""
    if not saved:
        return None
    try:
        day = dt.date.fromisoformat(saved)
    except ValueError:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(f"用 {cn_date(day)}", callback_data=data)]])


def saved_date_text(saved: str | None) -> str:
    """The remembered date as the flow's date step reads it ("" when there is none)."""
    try:
        return cn_date(dt.date.fromisoformat(saved or ""))
    except ValueError:
        return ""


async def offer_close_places(update: Update, context: BotContext, typed: str,
                             *, prefix: str, skip: str, nav: str) -> bool:
    """"您是说锦州吗？" with the closest names as buttons; False when nothing is close."""
    guesses = [region.short for region in closest_places(typed)]
    if not guesses:
        return False
    await prompt(update, context, texts.PLACE_GUESS.format(place=said(typed), first=guesses[0]),
                 with_nav(place_guess_keyboard(guesses, prefix=prefix, skip=skip), nav))
    return True
