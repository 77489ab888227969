"""/broadcast on Telegram: choose the audience, compose, preview, send now, pin or schedule;
stop a running or scheduled one; a reply to a notice confirms its delivery.

Who may: bot admins (ADMIN_IDS) broadcast to all subscribers, all groups, a city or a scheme;
a group's admins broadcast — and pin — in their own group only: /broadcast in the group gives
them a link to compose in private. Everyone else is refused politely. The run itself is
`bot.tg.broadcast_runner`'s.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.broadcasts.audience import Audience, audience_values, count_audience
from bot.broadcasts.compose import BroadcastError, parse_composed, parse_when
from bot.broadcasts.store import (
    RUNNING,
    SCHEDULED,
    confirm_delivery,
    create_broadcast,
    get_broadcast,
    progress,
    set_progress_message,
)
from bot.db.groups import get_group, remember_group
from bot.db.ids import parse_id
from bot.deadline.schemes import SCHEMES
from bot.tg import broadcast_texts as texts
from bot.tg.broadcast_keyboards import (
    audience_keyboard,
    confirm_keyboard,
    link_keyboard,
    stop_keyboard,
    values_keyboard,
)
from bot.tg.callbacks import INVALID_BUTTON, answer_query, callback_id
from bot.tg.context import BotContext, Services
from bot.tg.handlers.group import visible_numbers
from bot.tg.permissions import (
    forget_group_admins,
    is_bot_admin,
    is_group_admin,
    is_group_admin_now,
    posted_as_the_group,
)

log = logging.getLogger(__name__)

AUDIENCE, CITY, TEXT, CONFIRM, WHEN = range(600, 605)
DRAFT = "broadcast_draft"


# ------------------------------------------------------------------ composing a broadcast


def _audience_keyboard(svc: Services) -> InlineKeyboardMarkup:
    return audience_keyboard(count_audience(svc.db, Audience("users")),
                             count_audience(svc.db, Audience("groups")))


def _values_keyboard(svc: Services, column: str) -> InlineKeyboardMarkup:
    return values_keyboard(column, audience_values(svc.db, column))


def _scheme_names() -> dict[str, str]:
    return {key: scheme.short for key, scheme in SCHEMES.items()}


async def broadcast_command(update: Update, context: BotContext) -> int:
    """/broadcast: bot admins start composing; in a group, its admins get a private link."""
    svc = context.services
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    user_id = user.id if user else None
    if chat.type != ChatType.PRIVATE:
        remember_group(svc.db, chat.id, chat.title or "", svc.clock.now())
        allowed = is_bot_admin(svc, user_id) or posted_as_the_group(message) or (
            user_id is not None and await is_group_admin(context, chat.id, user_id))
        if not allowed:
            await message.reply_text(texts.REFUSED_GROUP)
            return ConversationHandler.END
        link = f"https://t.me/{context.bot.username}?start=bc_{chat.id}"
        await message.reply_text(texts.GO_PRIVATE, reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(texts.GO_PRIVATE_BUTTON, url=link)]]))
        return ConversationHandler.END
    if not is_bot_admin(svc, user_id):
        await message.reply_text(texts.REFUSED_PRIVATE)
        return ConversationHandler.END
    context.user_data[DRAFT] = {}
    await message.reply_text(texts.CHOOSE_AUDIENCE, reply_markup=_audience_keyboard(svc))
    return AUDIENCE


async def start_for_group(update: Update, context: BotContext) -> int:
    """/start bc_<group id> (the link from /broadcast in a group): compose for that group."""
    svc = context.services
    user, message = update.effective_user, update.effective_message
    chat_id = parse_id(message.text.split("bc_", 1)[1], positive=False)
    if chat_id is None or chat_id >= 0:
        await message.reply_text(texts.BAD_GROUP_LINK)
        return ConversationHandler.END
    allowed = is_bot_admin(svc, user.id) or await is_group_admin(context, chat_id, user.id)
    if not allowed:
        await message.reply_text(texts.REFUSED_OTHER_GROUP)
        return ConversationHandler.END
    title = (get_group(svc.db, chat_id) or {}).get("title") or str(chat_id)
    audience = Audience("group", str(chat_id))
    context.user_data[DRAFT] = {"audience": audience.key, "label": f"群“{title}”"}
    await message.reply_text(texts.ASK_TEXT_GROUP.format(label=f"群“{title}”"))
    return TEXT


async def audience_chosen(update: Update, context: BotContext) -> int:
    """A button of the audience menu."""
    svc = context.services
    query = update.callback_query
    await answer_query(query)
    choice = (query.data or "").removeprefix("bc:a:")
    if choice == "menu":
        await query.edit_message_text(texts.CHOOSE_AUDIENCE, reply_markup=_audience_keyboard(svc))
        return AUDIENCE
    if choice == "city":
        await query.edit_message_text(texts.CHOOSE_CITY, reply_markup=_values_keyboard(svc, "city"))
        return CITY
    if choice == "scheme":
        await query.edit_message_text(texts.CHOOSE_SCHEME,
                                      reply_markup=_values_keyboard(svc, "scheme"))
        return AUDIENCE
    if choice.startswith("c:"):
        audience = Audience("city", choice[2:])
    elif choice.startswith("s:"):
        audience = Audience("scheme", choice[2:])
    elif choice in ("users", "groups", "everyone"):
        audience = Audience(choice)
    else:
        return AUDIENCE
    return await _audience_selected(update, context, audience)


async def city_typed(update: Update, context: BotContext) -> int:
    """A city name typed instead of picked."""
    svc = context.services
    name = (update.effective_message.text or "").strip()
    candidates = [name]
    try:
        from bot.deadline.place_names import lookup_region

        region = lookup_region(name)
        if region is not None:
            candidates = [region.short, region.name, name]
    except ImportError:  # region data not installed: match the name as typed
        pass
    for candidate in dict.fromkeys(candidates):
        audience = Audience("city", candidate)
        if count_audience(svc.db, audience):
            return await _audience_selected(update, context, audience)
    await update.effective_message.reply_text(texts.NO_CITY.format(city=name))
    return CITY


async def _audience_selected(update: Update, context: BotContext,
                             audience: Audience) -> int:
    svc = context.services
    count = count_audience(svc.db, audience)
    query = update.callback_query
    if not count:
        if query:
            await query.edit_message_text(texts.NOBODY, reply_markup=_audience_keyboard(svc))
        else:
            await update.effective_message.reply_text(texts.NOBODY,
                                                      reply_markup=_audience_keyboard(svc))
        return AUDIENCE
    label = audience.label(_scheme_names())
    context.user_data[DRAFT] = {"audience": audience.key, "label": label}
    text = texts.ASK_TEXT.format(label=label, count=count)
    if query:
        await query.edit_message_text(text)
    else:
        await update.effective_message.reply_text(text)
    return TEXT


async def _draft(update: Update, context: BotContext,
                 needs: str) -> dict[str, Any] | None:
    """The draft being composed, if it got as far as `needs`; otherwise say it expired."""
    draft = context.user_data.get(DRAFT) or {}
    if needs not in draft:
        await update.effective_message.reply_text(texts.DRAFT_EXPIRED)
        return None
    return draft


async def text_received(update: Update, context: BotContext) -> int:
    """The announcement itself: show it exactly as recipients will see it, then ask."""
    svc = context.services
    message = update.effective_message
    draft = await _draft(update, context, "audience")
    if draft is None:
        return ConversationHandler.END
    if visible_numbers(message.text or ""):  # it would be stored and shown to everyone
        await message.reply_text(texts.NUMBERS_IN_NOTICE)
        return TEXT
    try:
        composed = parse_composed(message.text or "")
    except BroadcastError as problem:
        await message.reply_text(f"{problem}\n请修改后再发一次，或发 /cancel 取消。")
        return TEXT
    draft["composed"] = composed
    audience = Audience.parse(draft["audience"])
    count = count_audience(svc.db, audience)
    await message.reply_text(composed.text, reply_markup=link_keyboard(composed.buttons))
    preview = texts.PREVIEW_GROUP if audience.kind == "group" else texts.PREVIEW
    await message.reply_text(preview.format(label=draft["label"], count=count),
                             reply_markup=confirm_keyboard(audience.kind == "group"))
    return CONFIRM


async def _still_allowed(context: BotContext, audience: Audience,
                         user_id: int) -> bool:
    """At the moment of sending: asked of Telegram afresh (getChatMember), never the cache,
    so an admin demoted while composing cannot send."""
    svc = context.services
    if is_bot_admin(svc, user_id):
        return True
    if audience.kind != "group":
        return False
    chat_id = int(audience.value)
    allowed = await is_group_admin_now(context.bot, chat_id, user_id)
    if allowed is False:  # forget the cached list, which still has them
        forget_group_admins(svc, chat_id)
    return bool(allowed)


async def confirm_pressed(update: Update, context: BotContext) -> int:
    """立即发送 / 发送并置顶 / 定时发送 / 取消 under the preview."""
    svc = context.services
    query = update.callback_query
    await answer_query(query)
    draft = context.user_data.get(DRAFT) or {}
    if query.data == "bc:x":
        context.user_data.pop(DRAFT, None)
        await query.edit_message_text(texts.COMPOSE_CANCELLED)
        return ConversationHandler.END
    if "composed" not in draft:
        await query.edit_message_text(texts.DRAFT_EXPIRED)
        return ConversationHandler.END
    audience = Audience.parse(draft["audience"])
    if not await _still_allowed(context, audience, query.from_user.id):
        context.user_data.pop(DRAFT, None)
        await query.edit_message_text(texts.REFUSED_NO_LONGER)
        return ConversationHandler.END
    if query.data == "bc:when":
        example = f"{svc.clock.now() + dt.timedelta(days=1):%Y-%m-%d} 09:30"
        await query.edit_message_text(texts.ASK_WHEN.format(example=example))
        return WHEN
    broadcast_id = create_broadcast(
        svc.db, created_by=query.from_user.id, origin_chat_id=query.message.chat_id,
        composed=draft["composed"], audience=audience, audience_label=draft["label"],
        now=svc.clock.now(), pin=query.data == "bc:pin" and audience.kind == "group")
    context.user_data.pop(DRAFT, None)
    # The summary message becomes the progress message: one message per broadcast.
    set_progress_message(svc.db, broadcast_id, query.message.chat_id, query.message.message_id)
    row = get_broadcast(svc.db, broadcast_id)
    assert row is not None
    await query.edit_message_text(texts.progress_text(row, progress(svc.db, broadcast_id), None),
                                  reply_markup=stop_keyboard(broadcast_id))
    context.services.broadcasts.start(broadcast_id)
    return ConversationHandler.END


async def when_typed(update: Update, context: BotContext) -> int:
    """The send time for a scheduled broadcast."""
    svc = context.services
    message = update.effective_message
    draft = await _draft(update, context, "composed")
    if draft is None:
        return ConversationHandler.END
    try:
        when = parse_when(message.text or "", svc.clock.now())
    except BroadcastError as problem:
        await message.reply_text(f"{problem}\n请再发一次时间，或发 /cancel 取消。")
        return WHEN
    if not await _still_allowed(context, Audience.parse(draft["audience"]),
                                update.effective_user.id):
        context.user_data.pop(DRAFT, None)
        await message.reply_text(texts.REFUSED_NO_LONGER)
        return ConversationHandler.END
    broadcast_id = create_broadcast(
        svc.db, created_by=update.effective_user.id, origin_chat_id=message.chat_id,
        composed=draft["composed"], audience=Audience.parse(draft["audience"]),
        audience_label=draft["label"], now=svc.clock.now(), scheduled_at=when)
    context.user_data.pop(DRAFT, None)
    await message.reply_text(
        texts.SCHEDULED_OK.format(id=broadcast_id, when=f"{when:%Y-%m-%d %H:%M}",
                                  label=draft["label"]),
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(
            "取消这条定时通知", callback_data=f"bc:stop:{broadcast_id}")]]))
    return ConversationHandler.END


async def cancel_compose(update: Update, context: BotContext) -> int:
    context.user_data.pop(DRAFT, None)
    await update.effective_message.reply_text(texts.COMPOSE_CANCELLED)
    return ConversationHandler.END


async def stop_pressed(update: Update, context: BotContext) -> None:
    """⏹ under a progress message or a scheduled confirmation."""
    svc = context.services
    query = update.callback_query
    broadcast_id = callback_id(query.data, 2)
    if broadcast_id is None or (query.data or "").count(":") != 2:
        await answer_query(query, INVALID_BUTTON, alert=True)
        return
    row = get_broadcast(svc.db, broadcast_id)
    if row is None:
        await answer_query(query, texts.STOP_TOO_LATE)
        return
    if not (is_bot_admin(svc, query.from_user.id) or row["created_by"] == query.from_user.id):
        await answer_query(query, texts.STOP_DENIED, alert=True)
        return
    was_scheduled = row["status"] == SCHEDULED
    ok = context.services.broadcasts.cancel(broadcast_id, query.from_user.id)
    await answer_query(query, texts.STOP_DONE if ok else texts.STOP_TOO_LATE)
    if ok and was_scheduled:
        with contextlib.suppress(TelegramError):
            await query.edit_message_text(texts.SCHEDULE_CANCELLED.format(id=broadcast_id))
    elif not ok and row["status"] not in (RUNNING, SCHEDULED):
        with contextlib.suppress(TelegramError):
            await query.edit_message_reply_markup(None)


def broadcast_conversation() -> ConversationHandler:
    private = filters.ChatType.PRIVATE
    private_text = private & filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[
            CommandHandler("broadcast", broadcast_command),
            CommandHandler("start", start_for_group,
                           filters=private & filters.Regex(r"^/start\s+bc_-[0-9]+\s*$")),
        ],
        states={
            AUDIENCE: [CallbackQueryHandler(audience_chosen, pattern=r"^bc:a:"),
                       CallbackQueryHandler(confirm_pressed, pattern=r"^bc:x$")],
            CITY: [CallbackQueryHandler(audience_chosen, pattern=r"^bc:a:"),
                   MessageHandler(private_text, city_typed)],
            TEXT: [MessageHandler(private_text, text_received)],
            CONFIRM: [CallbackQueryHandler(confirm_pressed, pattern=r"^bc:(go|pin|when|x)$"),
                      MessageHandler(private_text, text_received)],
            WHEN: [MessageHandler(private_text, when_typed)],
        },
        fallbacks=[CommandHandler("cancel", cancel_compose)],
        name="broadcast",
        conversation_timeout=30 * 60,
        allow_reentry=True,
    )


async def reply_to_bot(update: Update, context: BotContext) -> None:
    """A reply to one of the bot's messages: proof that a broadcast of unknown delivery arrived.

    Runs in its own handler group, next to whatever answers the message.
    """
    message = update.effective_message
    replied = message.reply_to_message if message else None
    if replied is None or replied.from_user is None or replied.from_user.id != context.bot.id \
            or not replied.text:
        return
    svc = context.services
    if confirm_delivery(svc.db, message.chat_id, replied.text, svc.clock.now()):
        log.info("broadcast: a delivery of unknown outcome was confirmed by a reply")
