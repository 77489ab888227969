"""/remind in a group: its admins set a monthly notice (每月1日 09:00 + their text), list and
delete them; a group that becomes a supergroup keeps its notices."""

from __future__ import annotations

import contextlib

import sqlite_utils
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot.db.groups import remember_group
from bot.deadline.explanation import cn_date
from bot.reminders import group_notices as notices
from bot.reminders import plans
from bot.tg.callbacks import INVALID_BUTTON, answer_query, callback_id
from bot.tg.context import BotContext
from bot.tg.permissions import is_group_admin_now, posted_as_the_group

GROUP_ONLY_ADMINS = "只有群管理员可以设置或删除群提醒。想给自己设提醒，请私聊我发 /remind。"


def _group_list(db: sqlite_utils.Database, chat_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    found = notices.group_reminders(db, chat_id)
    if not found:
        return "本群还没有群提醒。\n" + plans.GROUP_USAGE, None
    lines = ["本群的提醒："]
    buttons = []
    for index, group in enumerate(found, start=1):
        lines.append(f"{index}. {group.schedule.describe()}：{group.schedule.text[:60]}")
        buttons.append([InlineKeyboardButton(f"🗑 删除第{index}条",
                                             callback_data=f"grm:del:{group.id}")])
    lines.append("\n" + plans.GROUP_USAGE)
    return "\n".join(lines), InlineKeyboardMarkup(buttons)


async def group_remind(update: Update, context: BotContext) -> None:
    """/remind in a group: admins set a monthly notice; without text, list them."""
    svc = context.services
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    remember_group(svc.db, chat.id, chat.title or "", svc.clock.now())
    parts = (message.text or "").split(maxsplit=1)
    rest = parts[1].strip() if len(parts) > 1 else ""
    if not rest:
        text, markup = _group_list(svc.db, chat.id)
        await message.reply_text(text, reply_markup=markup)
        return
    if not posted_as_the_group(message) and (
            user is None or not await is_group_admin_now(context.bot, chat.id, user.id)):
        await message.reply_text(GROUP_ONLY_ADMINS)
        return
    now = svc.clock.now()
    try:
        schedule = plans.parse_group_schedule(rest)
        group = notices.add_group_reminder(svc.db, chat_id=chat.id, created_by=user.id,
                                      schedule=schedule, now=now)
    except plans.ReminderError as exc:
        await message.reply_text(str(exc))
        return
    assert group.next_at is not None
    note = "（小月没有这一天时，在月底最后一天发）" if schedule.day > 28 else ""
    await message.reply_text(
        f"好的，本群提醒已设置：{schedule.describe()}{note}\n内容：{schedule.text}\n"
        f"下一次：{cn_date(group.next_at.date())} {group.next_at:%H:%M}。"
        "发 /remind 可以查看或删除。")


async def group_button(update: Update, context: BotContext) -> None:
    """删除 under the group list: admins only, and only this group's notices."""
    query = update.callback_query
    svc = context.services
    reminder_id = callback_id(query.data, 2)
    if reminder_id is None:
        await answer_query(query, INVALID_BUTTON, alert=True)
        return
    chat_id = query.message.chat.id if query.message else None
    group = notices.get_group_reminder(svc.db, reminder_id)
    if group is None or group.chat_id != chat_id:
        await answer_query(query, "这条群提醒已经删除了。", alert=True)
        return
    if not await is_group_admin_now(context.bot, group.chat_id, query.from_user.id):
        await answer_query(query, GROUP_ONLY_ADMINS, alert=True)
        return
    notices.delete_group_reminder(svc.db, reminder_id)
    await answer_query(query, "已删除")
    text, markup = _group_list(svc.db, group.chat_id)
    with contextlib.suppress(TelegramError):
        await query.edit_message_text(text, reply_markup=markup)
