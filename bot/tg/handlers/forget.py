"""/forget (or 删除我的信息): what the bot keeps about a user, deleted on 确认删除."""

from __future__ import annotations

import contextlib

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot.privacy.forget import Held, forget_user, what_is_held
from bot.privacy.requests import asks_to_forget
from bot.tg.callbacks import answer_query
from bot.tg.context import BotContext
from bot.tg.text_filters import text_filter

CONFIRM, KEEP = "fg:yes", "fg:no"
NOTHING_HELD = "我这里没有存您的信息。"
IN_GROUP = "删除您的个人信息请私聊我：点我的头像，发送 /forget。"
KEPT = "好的，什么都没删。"
DONE = ("已删除，提醒也不会再发了。\n"
        "以后想再用，直接给我发消息就行；我会从头开始，只记下回复您需要的聊天编号和称呼。")
# 删除我的信息 typed in a private chat does what /forget does.
ASKS_TO_FORGET = text_filter(asks_to_forget, "asks_to_forget")


def held_text(held: Held) -> str:
    """The confirmation: what would be deleted, in the user's terms."""
    lines = ["要删除我这里存的关于您的信息吗？会删掉这些："]
    if held.profile:
        told = [f"城市（{held.city}）" if held.city else "", "待遇类型" if held.scheme else "",
                "上次认证日期" if held.last_date else ""]
        told = [item for item in told if item]
        lines.append("• 您的称呼" + (f"，您告诉过我的{'、'.join(told)}" if told else ""))
    if held.reminders:
        lines.append(f"• 认证提醒{held.reminders}个（删除后不再提醒）")
    if held.questions:
        lines.append(f"• 您问过的问题{held.questions}条")
    lines.append("删除后不能恢复。")
    return "\n".join(lines)


def _confirm_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("🗑 确认删除", callback_data=CONFIRM),
                                  InlineKeyboardButton("不删了", callback_data=KEEP)]])


async def forget_command(update: Update, context: BotContext) -> None:
    """/forget or 删除我的信息 in private: what is kept, with 确认删除 and 不删了."""
    held = what_is_held(context.services.db, update.effective_user.id)
    if not held.anything:
        await update.effective_message.reply_text(NOTHING_HELD)
        return
    await update.effective_message.reply_text(held_text(held), reply_markup=_confirm_keyboard())


async def forget_in_group(update: Update, _context: BotContext) -> None:
    """/forget in a group: personal data is handled in private only."""
    await update.effective_message.reply_text(IN_GROUP)


async def forget_button(update: Update, context: BotContext) -> None:
    """确认删除 / 不删了 under the /forget message; deletes only the presser's own data."""
    query = update.callback_query
    if query.data != CONFIRM:
        await answer_query(query)
        with contextlib.suppress(TelegramError):
            await query.edit_message_text(KEPT)
        return
    svc = context.services
    forget_user(svc.db, query.from_user.id, svc.clock.now())
    context.user_data.clear()  # a flow's half-typed answers are the user's too
    await answer_query(query, "已删除")
    with contextlib.suppress(TelegramError):  # an old message may no longer be editable
        await query.edit_message_text(DONE)
