"""/myreminders, /stop and the buttons under a reminder: 我已认证, 稍后提醒, 停止, 重新开启,
删除 and 改提醒天数 (a preset or typed lead days)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable

import sqlite_utils
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.deadline.explanation import cn_date
from bot.deadline.regions import rule_for
from bot.qa.safety import redact
from bot.reminders import plans
from bot.reminders import store as rm
from bot.reminders.texts import describe_leads, describe_reminder, plan_text, who
from bot.tg.callbacks import INVALID_BUTTON, answer_query, callback_id, callback_index
from bot.tg.context import BotContext
from bot.tg.flow import NAV_PATTERN
from bot.tg.keyboards import main_keyboard

LEADS_TEXT = 30
LEADS_KEY = "remind_leads_for"
NOT_YOURS = "这不是您的提醒。"
NO_REMINDERS = "您还没有设置提醒。发 /remind 或点“设置提醒”按钮就能设置。"

LEAD_PRESETS: tuple[tuple[tuple[int, ...], str], ...] = (
    (plans.DEFAULT_LEADS, "提前30、7、1天，过期后1天（推荐）"),
    ((30, 7, 1), "提前30、7、1天"),
    ((15, 3, 0), "提前15天、3天和到期当天"),
    ((7, 1), "提前7天和1天"),
    ((60, 30, 7, 1, -1), "提前60、30、7、1天，过期后1天"),
)


def _manage_keyboard(reminder: rm.Reminder) -> InlineKeyboardMarkup:
    first = [InlineKeyboardButton("✏️ 改提醒天数", callback_data=f"rm:edit:{reminder.id}"),
             InlineKeyboardButton("✅ 我已认证", callback_data=f"rm:done:{reminder.id}")]
    if reminder.active:
        second = [InlineKeyboardButton("🛑 停止", callback_data=f"rm:stop:{reminder.id}"),
                  InlineKeyboardButton("🗑 删除", callback_data=f"rm:del:{reminder.id}")]
    else:
        second = [InlineKeyboardButton("▶️ 重新开启", callback_data=f"rm:on:{reminder.id}"),
                  InlineKeyboardButton("🗑 删除", callback_data=f"rm:del:{reminder.id}")]
    return InlineKeyboardMarkup([first, second])


def _leads_keyboard(reminder_id: int) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(title, callback_data=f"rm:lp:{reminder_id}:{i}")]
            for i, (_leads, title) in enumerate(LEAD_PRESETS)]
    rows.append([InlineKeyboardButton("✍️ 自己写天数", callback_data=f"rm:lt:{reminder_id}")])
    return InlineKeyboardMarkup(rows)


async def my_reminders(update: Update, context: BotContext) -> None:
    """/myreminders: one message per reminder, each with its buttons."""
    svc = context.services
    found = rm.user_reminders(svc.db, update.effective_user.id)
    if not found:
        await update.effective_message.reply_text(NO_REMINDERS, reply_markup=main_keyboard())
        return
    now = svc.clock.now()
    for reminder in found:
        await update.effective_message.reply_text(describe_reminder(reminder, now),
                                                  reply_markup=_manage_keyboard(reminder))


async def stop_command(update: Update, context: BotContext) -> None:
    """/stop: every reminder of this user ends."""
    svc = context.services
    count = rm.stop_all(svc.db, update.effective_user.id, svc.clock.now())
    if count == 0:
        await update.effective_message.reply_text("您现在没有正在提醒的项目。")
        return
    await update.effective_message.reply_text(
        f"已停止全部{count}个提醒。想恢复的话，发 /myreminders 点“重新开启”，"
        "或发 /remind 重新设置。",
        reply_markup=main_keyboard())


def _owned(db: sqlite_utils.Database, data: str, user_id: int) -> rm.Reminder | None:
    reminder_id = callback_id(data, 2)
    if reminder_id is None:
        return None
    reminder = rm.get_reminder(db, reminder_id)
    return reminder if reminder is not None and reminder.user_id == user_id else None


async def _drop_buttons(update: Update) -> None:
    # An old message may no longer be editable; the action is stored anyway.
    with contextlib.suppress(TelegramError):
        await update.callback_query.edit_message_reply_markup(None)


async def reminder_button(update: Update, context: BotContext) -> None:
    """我已认证 / 稍后提醒 / 停止提醒 under a reminder, and the /myreminders buttons."""
    query = update.callback_query
    svc = context.services
    data = query.data or ""
    action = data.split(":")[1] if data.count(":") >= 1 else ""
    if action == "keep":
        await answer_query(query)
        with contextlib.suppress(TelegramError):
            await query.edit_message_text("好的，保留这个提醒。")
        return
    if callback_id(data, 2) is None:
        await answer_query(query, INVALID_BUTTON, alert=True)
        return
    reminder = _owned(svc.db, data, query.from_user.id)
    if reminder is None:
        exists = _owned_id_exists(svc.db, data)
        await answer_query(query, NOT_YOURS if exists else "这个提醒已经删除了。", alert=True)
        return
    now = svc.clock.now()
    handler = _ACTIONS.get(action)
    if handler is None:
        await answer_query(query)
        return
    await handler(update, context, reminder, now)


def _owned_id_exists(db: sqlite_utils.Database, data: str) -> bool:
    reminder_id = callback_id(data, 2)
    return reminder_id is not None and rm.get_reminder(db, reminder_id) is not None


async def _settle(update: Update, toast: str, reply: str) -> None:
    """Answer the button with `toast`, take the buttons off its message, and say what changed."""
    query = update.callback_query
    await answer_query(query, toast)
    await _drop_buttons(update)
    await query.message.reply_text(reply)


async def _done(update: Update, context: BotContext, reminder: rm.Reminder,
                now: dt.datetime) -> None:
    updated = rm.certified(context.services.db, reminder.id, now)
    rule = rule_for(updated.scheme, updated.city)
    today = plans.china(now).date()
    await _settle(update, "已记下",
                  f"太好了！已记下{who(updated.label)}今天（{cn_date(today)}）完成了认证。\n"
                  f"按{rule.label}，{rule.rule.describe()}，下次请在{cn_date(updated.due)}之前办好。\n"
                  + plan_text(updated.upcoming(now)))


async def _snooze(update: Update, context: BotContext, reminder: rm.Reminder,
                  now: dt.datetime) -> None:
    when = rm.snooze(context.services.db, reminder.id, now)
    await _settle(update, "明天再提醒",
                  f"好的，明天（{cn_date(when.date())}）上午{when.hour}点再提醒您。")


async def _stop(update: Update, context: BotContext, reminder: rm.Reminder,
                now: dt.datetime) -> None:
    rm.stop(context.services.db, reminder.id, now)
    await _settle(update, "已停止",
                  f"已停止“{reminder.label}”的提醒。想恢复的话，发 /myreminders 点“重新开启”。")


async def _resume(update: Update, context: BotContext, reminder: rm.Reminder,
                  now: dt.datetime) -> None:
    updated = rm.resume(context.services.db, reminder.id, now)
    await _settle(update, "已重新开启",
                  f"已重新开启“{updated.label}”的提醒。\n" + plan_text(updated.upcoming(now)))


async def _ask_delete(update: Update, context: BotContext, reminder: rm.Reminder,
                      now: dt.datetime) -> None:
    query = update.callback_query
    await answer_query(query)
    markup = InlineKeyboardMarkup([[
        InlineKeyboardButton("确定删除", callback_data=f"rm:delok:{reminder.id}"),
        InlineKeyboardButton("不删了", callback_data="rm:keep")]])
    await query.message.reply_text(f"确定删除“{reminder.label}”的提醒吗？删除后不再提醒，"
                                   "这条记录也会清除。", reply_markup=markup)


async def _delete(update: Update, context: BotContext, reminder: rm.Reminder,
                  now: dt.datetime) -> None:
    query = update.callback_query
    rm.delete(context.services.db, reminder.id)
    await answer_query(query, "已删除")
    with contextlib.suppress(TelegramError):
        await query.edit_message_text(f"已删除“{reminder.label}”的提醒。")


async def _edit(update: Update, context: BotContext, reminder: rm.Reminder,
                now: dt.datetime) -> None:
    query = update.callback_query
    await answer_query(query)
    await query.message.reply_text(
        f"“{reminder.label}”现在是：{describe_leads(reminder.leads)}。想改成哪种？",
        reply_markup=_leads_keyboard(reminder.id))


async def _preset(update: Update, context: BotContext, reminder: rm.Reminder,
                  now: dt.datetime) -> None:
    query = update.callback_query
    index = callback_index(query.data, 3, len(LEAD_PRESETS))
    if index is None:
        await answer_query(query, INVALID_BUTTON, alert=True)
        return
    leads = LEAD_PRESETS[index][0]
    await answer_query(query, "已修改")
    await _apply_leads(update, context, reminder, leads, now)


async def _apply_leads(update: Update, context: BotContext,
                       reminder: rm.Reminder, leads: tuple[int, ...], now: dt.datetime) -> None:
    updated = rm.set_leads(context.services.db, reminder.id, leads, now)
    text = (f"好的，“{updated.label}”改成：{describe_leads(updated.leads)}。\n"
            + plan_text(updated.upcoming(now)))
    if update.callback_query is not None:
        await _drop_buttons(update)
    await update.effective_message.reply_text(text)


_ACTIONS = {"done": _done, "snz": _snooze, "stop": _stop, "on": _resume, "del": _ask_delete,
            "delok": _delete, "edit": _edit, "lp": _preset}


async def custom_leads_start(update: Update, context: BotContext) -> int:
    query = update.callback_query
    reminder = _owned(context.services.db, query.data or "", query.from_user.id)
    if reminder is None:
        await answer_query(query, "这个提醒已经删除了。", alert=True)
        return ConversationHandler.END
    await answer_query(query)
    context.user_data[LEADS_KEY] = reminder.id
    await query.message.reply_text(
        "请发提前几天提醒，用空格或逗号隔开，例如：30 7 1\n"
        "0 表示到期当天，-1 表示过期后1天。发 /cancel 不改了。")
    return LEADS_TEXT


async def custom_leads_typed(update: Update, context: BotContext) -> int:
    svc = context.services
    reminder_id = context.user_data.get(LEADS_KEY)
    reminder = rm.get_reminder(svc.db, reminder_id) if reminder_id else None
    if reminder is None or reminder.user_id != update.effective_user.id:
        await update.effective_message.reply_text("这个提醒已经删除了。")
        return ConversationHandler.END
    try:
        leads = plans.parse_leads(update.effective_message.text)
    except plans.ReminderError as exc:
        await update.effective_message.reply_text(redact(str(exc)))
        return LEADS_TEXT
    context.user_data.pop(LEADS_KEY, None)
    await _apply_leads(update, context, reminder, leads, svc.clock.now())
    return ConversationHandler.END


def leads_conversation(cancel: Callable[[Update, BotContext], Awaitable[int]]
                       ) -> ConversationHandler:
    """改提醒天数 → 自己写天数: the typed lead days; `cancel` is /remind's /cancel."""
    return ConversationHandler(
        entry_points=[CallbackQueryHandler(custom_leads_start, pattern=r"^rm:lt:")],
        states={LEADS_TEXT: [
            # 取消, 算了 … end it here as in every other flow, not "请只写数字".
            MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & filters.Regex(NAV_PATTERN),
                           cancel),
            MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND,
                           custom_leads_typed)]},
        fallbacks=[CommandHandler("cancel", cancel)],
        name="remind_leads",
        conversation_timeout=30 * 60,
        allow_reentry=True,
    )
