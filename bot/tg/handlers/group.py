"""Groups: the greeting when the bot is added, ID numbers posted in a group, the questions
auto-answer leaves alone, and /stats for a group's own admins.

Everything said here is said in front of a whole community of retirees: short, plain words,
and never a number someone posted by mistake.
"""

from __future__ import annotations

import contextlib
import logging

import sqlite_utils
from telegram import Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.db.groups import migrate_group, reactivate_group, remember_group
from bot.db.questions import record_question
from bot.qa.answers import Reply
from bot.qa.safety import check_message, redact
from bot.reminders.group_notices import resume_group_reminders
from bot.reminders.store import migrate_chat as migrate_reminders
from bot.stats import collect_group_stats, format_group_stats
from bot.tg import texts
from bot.tg.context import BotContext
from bot.tg.permissions import is_bot_admin, is_group_admin, posted_as_the_group
from bot.tg.sending import send_text

log = logging.getLogger(__name__)

SKIPPED = "skipped"  # the kind stored for a question auto-answer did not answer
# Sensitive kinds (bot.qa.safety.check_message) that must not stay visible in a group.
VISIBLE_NUMBERS = ("身份证号", "银行卡号")
_IN_GROUP = (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER,
             ChatMemberStatus.RESTRICTED)
_OUT = (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)


def is_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


# ------------------------------------------------------------------ added to a group


async def bot_membership(update: Update, context: BotContext) -> None:
    """my_chat_member: greet once when the bot is added to a group (not on every change)."""
    change = update.my_chat_member
    if change is None or not is_group(update):
        return
    old, new = change.old_chat_member.status, change.new_chat_member.status
    if old not in _OUT or new not in _IN_GROUP:
        return  # promoted, demoted, removed: nothing to say
    svc = context.services
    chat = update.effective_chat
    now = svc.clock.now()
    remember_group(svc.db, chat.id, chat.title or "", now)
    # Back after being removed: broadcasts reach the group again, and its notices carry on.
    reactivate_group(svc.db, chat.id, chat.title or "")
    resumed = resume_group_reminders(svc.db, chat.id, now)
    welcome = texts.GROUP_WELCOME
    if resumed:
        welcome += "\n\n" + texts.GROUP_NOTICES_RESUMED.format(
            when="、".join(r.schedule.describe() for r in resumed))
    try:
        await send_text(context.bot, chat.id, welcome)
    except TelegramError as exc:  # e.g. a group where members may not write
        log.info("greeting not sent to a group: %s", exc)


# ------------------------------------------------------------------ ID numbers in a group


def visible_numbers(text: str) -> bool:
    """Whether a group message shows an ID or bank card number."""
    return any(kind in VISIBLE_NUMBERS for kind in check_message(text).sensitive)


async def _can_delete(context: BotContext, chat_id: int) -> bool:
    try:
        me = await context.bot.get_chat_member(chat_id, context.bot.id)
    except TelegramError as exc:
        log.info("getChatMember(bot) failed: %s", exc)
        return False
    if me.status == ChatMemberStatus.OWNER:
        return True
    return me.status == ChatMemberStatus.ADMINISTRATOR and bool(
        getattr(me, "can_delete_messages", False))


async def guard_numbers(update: Update, context: BotContext) -> None:
    """Any group message showing an ID or card number (a command, a caption, an edit): protected
    before anything reads it, and handled no further: not stored, answered or echoed."""
    message = update.effective_message
    if message is None or not visible_numbers(message.text or message.caption or ""):
        return
    await protect_numbers(update, context, message)
    raise ApplicationHandlerStop


async def ignore_edit(_update: Update, _context: BotContext) -> None:
    """An edited command, or any edited group message: already handled once. Editing
    /remind 每月1日 to 每月2日 must not add a second notice, nor an edit answer twice in front
    of the group."""
    raise ApplicationHandlerStop


async def protect_numbers(update: Update, context: BotContext,
                          message: Message, *, deleted_text: str = texts.ID_DELETED,
                          kept_text: str = texts.ID_CANNOT_DELETE) -> bool:
    """An ID or card number posted in a group: delete it when allowed, else ask the sender to.

    Returns whether the message was deleted. The number is never repeated, logged or stored.
    """
    chat_id = message.chat_id
    deleted = False
    if await _can_delete(context, chat_id):
        try:
            deleted = bool(await context.bot.delete_message(chat_id, message.message_id))
        except TelegramError as exc:  # too old, or the right was taken away meanwhile
            log.info("could not delete a message with a number: %s", exc)
    try:
        if deleted:
            await send_text(context.bot, chat_id, deleted_text)
        else:
            await send_text(context.bot, chat_id, kept_text, reply_to=message.message_id)
    except TelegramError as exc:
        log.info("number warning not sent: %s", exc)
    return deleted


# ------------------------------------------------------------------ auto-answer skips


def is_skipped_question(reply: Reply) -> bool:
    """A certification question auto-answer leaves alone because it is not sure enough.

    Chat ("大家好", "收到") and messages about something else are declined or empty, and are
    not counted; an answer or a "did you mean" below the auto-answer bar is.
    """
    return reply.kind in ("answer", "suggest") and bool(reply.suggestion_ids or reply.id)


def record_skipped(update: Update, context: BotContext, reply: Reply) -> None:
    """Count a skipped question for the group (its text redacted, as every question)."""
    svc = context.services
    chat, user = update.effective_chat, update.effective_user
    record_question(svc.db, at=svc.clock.now(), chat_id=chat.id, chat_type=chat.type,
                    user_id=user.id if user else None, text=redact(reply.question),
                    kind=SKIPPED, entry_id=reply.id or (reply.suggestion_ids or [None])[0],
                    score=reply.score)


# ------------------------------------------------------------------ privacy mode, in plain words


async def bot_sees_everything(context: BotContext, chat_id: int) -> bool:
    """Whether the bot gets every message of the group (it is an admin, or reads all)."""
    if getattr(context.bot, "can_read_all_group_messages", False):
        return True
    with contextlib.suppress(TelegramError):
        me = await context.bot.get_chat_member(chat_id, context.bot.id)
        return me.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
    return False


async def autoanswer_on_text(context: BotContext, chat_id: int) -> str:
    """What /autoanswer on says: what the bot can see in this group, and what to do if not."""
    tail = texts.AUTOANSWER_SEES_ALL if await bot_sees_everything(context, chat_id) \
        else texts.AUTOANSWER_NEEDS_ADMIN
    return f"{texts.AUTOANSWER_ON}\n{tail}"


# ------------------------------------------------------------------ /stats in a group


async def group_stats(update: Update, context: BotContext) -> None:
    """/stats in a group: that group's numbers, for its admins (and the bot's) only."""
    svc = context.services
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    user_id = user.id if user else None
    allowed = posted_as_the_group(message) or (user_id is not None and (
        is_bot_admin(svc, user_id) or await is_group_admin(context, chat.id, user_id)))
    if not allowed:
        await message.reply_text(texts.GROUP_STATS_REFUSED)
        return
    stats = collect_group_stats(svc.db, chat.id, svc.clock.today())
    titles = {entry_id: entry.question for entry_id, entry in svc.engine.kb.entries.items()}
    await send_text(context.bot, chat.id, format_group_stats(stats, chat.title or "", titles))


def follow_migration(db: sqlite_utils.Database, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: its settings and its notices follow it to the new id."""
    migrate_group(db, old_chat_id, new_chat_id)
    migrate_reminders(db, old_chat_id, new_chat_id)


async def migrated(update: Update, context: BotContext) -> None:
    """The service message of an upgrade to a supergroup (sent to the old and the new chat)."""
    message = update.effective_message
    if message.migrate_to_chat_id:
        follow_migration(context.services.db, message.chat_id, message.migrate_to_chat_id)
    elif message.migrate_from_chat_id:
        follow_migration(context.services.db, message.migrate_from_chat_id, message.chat_id)
