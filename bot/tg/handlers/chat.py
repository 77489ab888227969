"""Handlers for conversations: private chats, groups and the buttons under answers."""

from __future__ import annotations

import contextlib
import logging
import re

from telegram import (
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, ChatMigrated, TelegramError

from bot.db.groups import get_group, remember_group, set_autoanswer
from bot.db.questions import record_feedback, record_question
from bot.db.users import get_user, remember_user
from bot.deadline.chat import deadline_card, reply_to_deadline_question
from bot.deadline.schemes import display_name, find_scheme, unsure_of_scheme
from bot.qa.answers import (
    Reply,
    answer,
    sources_text,
    topic_reply,
    which_scheme_reply,
)
from bot.qa.places import only_a_place
from bot.qa.safety import redact
from bot.text.normalize import normalize
from bot.tg import texts
from bot.tg.callbacks import INVALID_BUTTON, answer_query, callback_id
from bot.tg.context import BotContext, Services
from bot.tg.flow import NAV_PATTERN
from bot.tg.handlers import group as groups
from bot.tg.handlers import service
from bot.tg.keyboards import (
    answer_keyboard,
    deadline_card_keyboard,
    main_keyboard,
    without_more,
)
from bot.tg.permissions import is_group_admin_now, posted_as_the_group
from bot.tg.sending import send_text

log = logging.getLogger(__name__)

# In groups the bot only speaks up uninvited when it is very sure (a wrong answer in front of a
# whole community is worse than silence).
AUTOANSWER_MIN_SCORE = 0.8
PENDING_DEADLINE = "pending_deadline"
PRESSED = "button"  # the kind stored for the answer a topic button opened
AUTOANSWER_WORDS = {"on": True, "开": True, "开启": True, "打开": True, "启用": True,
                    "off": False, "关": False, "关闭": False, "关掉": False, "停用": False}
LAST_TOPIC = "last_topic"  # the topic last answered in private: "郑州" then means it, for 郑州


def _remember(update: Update, context: BotContext) -> None:
    chat, user = update.effective_chat, update.effective_user
    svc = context.services
    if chat is None:
        return
    if chat.type == ChatType.PRIVATE and user is not None:
        remember_user(svc.db, user.id, chat.id, user.first_name or "", svc.clock.now())
    elif chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
        remember_group(svc.db, chat.id, chat.title or "", svc.clock.now())


async def start(update: Update, context: BotContext) -> None:
    """Greet the user and show the big buttons."""
    _remember(update, context)
    chat = update.effective_chat
    name = update.effective_user.first_name if update.effective_user else ""
    if chat.type != ChatType.PRIVATE:
        await update.effective_message.reply_text(texts.GROUP_START)
        return
    await update.effective_message.reply_text(texts.START.format(name=name or "朋友"),
                                              reply_markup=main_keyboard())


async def help_command(update: Update, context: BotContext) -> None:
    """List the commands (in a group, what members and the group's admins can do there)."""
    if update.effective_chat.type != ChatType.PRIVATE:
        await update.effective_message.reply_text(texts.GROUP_HELP)
        return
    await update.effective_message.reply_text(
        texts.HELP.format(username=context.bot.username or "bot"), reply_markup=main_keyboard())


async def unknown_command(update: Update, context: BotContext) -> None:
    """A /command no handler knows, in a private chat: the short help instead of silence."""
    command = (update.effective_message.text or "").split(maxsplit=1)[0].split("@")[0]
    text = texts.CANCELLED if command == "/cancel" else texts.UNKNOWN_COMMAND
    await update.effective_message.reply_text(text, reply_markup=main_keyboard())


async def _send_reply(update: Update, context: BotContext, reply: Reply,
                      *, reply_to: int | None = None, card_overdue: bool | None = None,
                      pressed: bool = False) -> Message:
    """Send the reply with its buttons, then store the (redacted) question.

    `card_overdue` is set when the reply is a deadline card: its own buttons go under it.
    `pressed`: the answer of a topic button, stored as such (its 有用/没用 need a row), and
    not counted as one more question in /stats."""
    svc = context.services
    chat, user = update.effective_chat, update.effective_user
    question_id = svc.question_ids.take()
    entry = svc.engine.kb.entries.get(reply.id or "")
    markup = (service.with_service_buttons(answer_keyboard(reply, question_id), reply,
                                           entry.question if entry else "")
              if card_overdue is None else deadline_card_keyboard(card_overdue, question_id))
    if chat.type == ChatType.PRIVATE:  # after buttons or a decline, a place alone is no follow-up
        if reply.kind == "answer" and reply.id:
            context.user_data[LAST_TOPIC] = reply.id
        else:
            context.user_data.pop(LAST_TOPIC, None)
    try:
        return await _send(context, chat.id, reply.text, markup, reply_to)
    finally:  # after the reply, so the user does not wait for it; stored even if sending failed
        record_question(
            svc.db, at=svc.clock.now(), chat_id=chat.id, chat_type=chat.type,
            user_id=user.id if user else None, text=redact(reply.question),
            kind=PRESSED if pressed else reply.kind,
            entry_id=reply.id, score=reply.score, question_id=question_id,
        )


async def _send(context: BotContext, chat_id: int, text: str,
                markup: InlineKeyboardMarkup | None, reply_to: int | None) -> Message:
    try:
        return await send_text(context.bot, chat_id, text, reply_markup=markup,
                               reply_to=reply_to)
    except ChatMigrated as exc:  # the group became a supergroup under us
        groups.follow_migration(context.services.db, chat_id, exc.new_chat_id)
        return await send_text(context.bot, exc.new_chat_id, text, reply_markup=markup)


async def private_text(update: Update, context: BotContext) -> None:
    """Answer a question typed in a private chat."""
    svc = context.services
    message = update.effective_message
    user_id = update.effective_user.id if update.effective_user else 0
    if NAV_PATTERN.match(message.text.strip()):  # 取消 / 算了 with no flow running
        context.user_data.pop(PENDING_DEADLINE, None)
        await message.reply_text(texts.CANCELLED, reply_markup=main_keyboard())
        _remember(update, context)
        return
    topic = texts.BUTTON_TOPICS.get(message.text.strip())
    reply = topic_reply(svc.engine, topic, _remembered_city(svc, user_id)) if topic else None
    if reply is None:
        reply = _with_deadline_memory(context, message.text, svc, user_id)
    try:
        await _send_reply(update, context, reply, card_overdue=_as_card(reply, svc))
    finally:  # the user row is bookkeeping: write it once the answer is on its way
        _remember(update, context)


def _as_card(reply: Reply, svc: Services) -> bool | None:
    """A complete deadline reply becomes the short card (warnings stay on top); returns whether
    it is overdue, or None when the reply is not a deadline result."""
    if reply.kind != "deadline" or not reply.complete:
        return None
    found = reply_to_deadline_question(reply.question, svc.clock.today())
    if found is None or found.result is None:
        return None
    reply.text = "\n\n".join([*reply.warnings, deadline_card(found.result)])
    return found.result.status == "overdue"


def _remembered_city(svc: Services, user_id: int | None) -> str | None:
    """The city a user gave /city or /deadline, used when a question names no place."""
    return (get_user(svc.db, user_id) or {}).get("city") if user_id else None


def _with_deadline_memory(context: BotContext, text: str, svc: Services,
                          user_id: int) -> Reply:
    """Answer, completing a deadline question from what the user said before.

    "上个月15号刷的脸" is answered with a question about the scheme; the reply "企业退休" then
    completes it. A scheme remembered from /deadline fills the gap without asking.
    """
    today = svc.clock.today()
    reply = answer(svc.engine, text, today, _remembered_city(svc, user_id),
                   follow_up=context.user_data.get(LAST_TOPIC))
    pending = context.user_data.pop(PENDING_DEADLINE, None)
    if pending and find_scheme(normalize(pending)) is None \
            and unsure_of_scheme(normalize(text), asked=True):
        # 不知道, where the scheme was asked for: how to tell, and the date kept for the answer.
        context.user_data[PENDING_DEADLINE] = pending
        return which_scheme_reply(reply.question, awaited=True, warnings=reply.warnings)
    if pending and reply.kind != "deadline":
        combined = answer(svc.engine, f"{pending}，{text}", today)
        if combined.kind == "deadline" and combined.complete:
            return combined
        if combined.kind == "deadline" and only_a_place(normalize(text)):
            # 锦州, where the scheme was asked for: kept with the date, the scheme asked again.
            context.user_data[PENDING_DEADLINE] = redact(f"{pending}，{text}")[:300]
            return combined
    if reply.kind == "deadline" and not reply.complete:
        profile = get_user(svc.db, user_id) or {}
        if profile.get("scheme"):
            remembered = display_name(profile["scheme"])
            place = profile.get("city") or ""
            filled = answer(svc.engine, f"{remembered} {place} {text}", today)
            if filled.kind == "deadline" and filled.complete:
                return filled
        context.user_data[PENDING_DEADLINE] = redact(text)[:300]
    return reply



def _addressed_text(message: Message, bot_id: int, username: str) -> str | None:
    """The question when a group message is meant for the bot, else None."""
    text = message.text or ""
    replied = message.reply_to_message
    mentioned = False
    for entity in message.entities or ():
        if entity.type == MessageEntity.MENTION:
            value = text[entity.offset: entity.offset + entity.length]
            if value.lower() == f"@{username}".lower():
                mentioned = True
        elif entity.type == MessageEntity.TEXT_MENTION and entity.user and \
                entity.user.id == bot_id:
            mentioned = True
    if mentioned:
        return re.sub(rf"@{re.escape(username)}", " ", text, flags=re.IGNORECASE).strip()
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return text
    return None


async def group_text(update: Update, context: BotContext) -> None:
    """In a group: answer when asked (mention or reply); with autoanswer, when very sure."""
    _remember(update, context)
    svc = context.services
    message = update.effective_message
    if message.is_automatic_forward:  # a post of the linked channel, not a member's question
        return
    question = _addressed_text(message, context.bot.id, context.bot.username or "")
    today = svc.clock.today()
    if question is not None:
        reply = answer(svc.engine, question, today)
        await _send_reply(update, context, reply, reply_to=message.message_id)
        return
    group = get_group(svc.db, update.effective_chat.id) or {}
    if not group.get("autoanswer"):
        return
    reply = answer(svc.engine, message.text or "", today)
    confident = reply.kind == "answer" and reply.score >= AUTOANSWER_MIN_SCORE
    fraud_alert = bool(reply.warnings)
    if confident or fraud_alert:
        await _send_reply(update, context, reply, reply_to=message.message_id)
    elif groups.is_skipped_question(reply):  # counted, so the group's admins can see it
        groups.record_skipped(update, context, reply)


async def ask_command(update: Update, context: BotContext) -> None:
    """/ask <question>: answer in any chat."""
    _remember(update, context)
    question = " ".join(context.args or [])
    if not question.strip():
        await update.effective_message.reply_text(texts.ASK_USAGE)
        return
    reply = answer(context.services.engine, question, context.services.clock.today())
    await _send_reply(update, context, reply, reply_to=update.effective_message.message_id)


async def autoanswer(update: Update, context: BotContext) -> None:
    """/autoanswer [on|off]: group admins switch unprompted answers on or off."""
    chat, user = update.effective_chat, update.effective_user
    if chat.type == ChatType.PRIVATE:
        await update.effective_message.reply_text("这个命令在群里由群管理员使用。")
        return
    _remember(update, context)
    if not posted_as_the_group(update.effective_message) and (
            user is None or not await is_group_admin_now(context.bot, chat.id, user.id)):
        await update.effective_message.reply_text(texts.GROUP_ONLY_ADMINS)
        return
    svc = context.services
    arg = (context.args or [""])[0].lower()
    current = bool((get_group(svc.db, chat.id) or {}).get("autoanswer"))
    # A bare /autoanswer (what the greeting says, or the command menu, tapped twice) switches
    # it on, never off: turning it off takes a word that says so.
    enabled = AUTOANSWER_WORDS.get(arg, True if not arg else None)
    if enabled is None:
        await update.effective_message.reply_text(texts.AUTOANSWER_USAGE)
        return
    if enabled != current:
        set_autoanswer(svc.db, chat.id, enabled)
    await update.effective_message.reply_text(
        await groups.autoanswer_on_text(context, chat.id) if enabled else texts.AUTOANSWER_OFF)


async def non_text(update: Update, context: BotContext) -> None:
    """Voice, stickers, photos, files: explain that the bot reads text."""
    _remember(update, context)
    message = update.effective_message
    voice = message.voice is not None or message.audio is not None or message.video_note is not None
    await message.reply_text(texts.NON_TEXT_VOICE if voice else texts.NON_TEXT,
                             reply_markup=main_keyboard())


async def suggestion_chosen(update: Update, context: BotContext) -> None:
    """A topic button ("did you mean", "您可能还想问", 用自己手机 …): send that topic's answer."""
    query = update.callback_query
    svc = context.services
    _, entry_id, place = ((query.data or "") + "::").split(":")[:3]
    reply = topic_reply(svc.engine, entry_id,
                        place or _remembered_city(svc, query.from_user.id))
    await answer_query(query)
    if reply is None:  # knowledge reloaded since the button was made
        await query.message.reply_text("这个话题已经更新了，请再问我一次。")
        return
    await _send_reply(update, context, reply, pressed=True)


async def sources_chosen(update: Update, context: BotContext) -> None:
    """来源: the pages an answer rests on, as links."""
    query = update.callback_query
    entry = context.services.engine.kb.entries.get((query.data or "").split(":", 1)[-1])
    await answer_query(query)
    text = sources_text(entry) if entry else "这个话题已经更新了，请再问我一次。"
    await query.message.reply_text(text, disable_web_page_preview=True)


async def more_chosen(update: Update, context: BotContext) -> None:
    """详细: the whole answer, edited into the same message (no new message to scroll to)."""
    query = update.callback_query
    _, entry_id, place = ((query.data or "") + "::").split(":")[:3]
    reply = topic_reply(context.services.engine, entry_id, place or None, full=True)
    await answer_query(query)
    if reply is None:
        await query.message.reply_text("这个话题已经更新了，请再问我一次。")
        return
    try:
        await query.edit_message_text(reply.text, reply_markup=without_more(
            query.message.reply_markup if query.message else None))
    except BadRequest as exc:
        if "not modified" in exc.message:  # pressed twice: the first press already showed it
            return
        await query.message.reply_text(reply.text)  # too old to edit: send the whole answer
    except TelegramError:
        await query.message.reply_text(reply.text)


async def place_chosen(update: Update, context: BotContext) -> None:
    """按河南回答: the answer again, with the specifics of the place the user picked."""
    query = update.callback_query
    svc = context.services
    _, entry_id, place = ((query.data or "") + "::").split(":")[:3]
    reply = topic_reply(svc.engine, entry_id, place)
    await answer_query(query)
    if reply is None:
        await query.message.reply_text("这个话题已经更新了，请再问我一次。")
        return
    await _send_reply(update, context, reply, pressed=True)


async def feedback(update: Update, context: BotContext) -> None:
    """有用 / 没用 under an answer."""
    query = update.callback_query
    svc = context.services
    parts = (query.data or "").split(":")
    question_id = callback_id(query.data, 1)
    if question_id is None or len(parts) != 3 or parts[2] not in ("0", "1"):
        await answer_query(query, INVALID_BUTTON)
        return
    useful = parts[2] == "1"
    stored = record_feedback(svc.db, question_id, query.from_user.id, useful, svc.clock.now())
    await answer_query(query,
                       texts.FEEDBACK_THANKS if useful or not stored else texts.FEEDBACK_SORRY)
    if stored and query.message is not None:
        markup = query.message.reply_markup
        rows = [row for row in (markup.inline_keyboard if markup else ())
                if not any((b.callback_data or "").startswith("fb:") for b in row)]
        # A message too old to edit only keeps its buttons; the vote is stored anyway.
        with contextlib.suppress(TelegramError):
            await query.edit_message_reply_markup(InlineKeyboardMarkup(rows) if rows else None)


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure (never the user's text) and apologise in private chats."""
    log.error("update %s failed: %r", getattr(update, "update_id", "?"), context.error,
              exc_info=context.error)
    if isinstance(update, Update) and update.callback_query is not None:
        await answer_query(update.callback_query, texts.ERROR)  # a press is never left spinning
    if isinstance(update, Update) and update.effective_chat and \
            update.effective_chat.type == ChatType.PRIVATE:
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(update.effective_chat.id, texts.ERROR)
