"""What service bots offer around the answers: the bot's description and menu button,
deep links that open one answer (for posters and QR codes), 转发给家人, and link buttons to the
official channels an answer names.
"""

from __future__ import annotations

import logging

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    Update,
)
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.qa.answers import Reply, topic_reply
from bot.tg.context import BotContext

log = logging.getLogger(__name__)

# Shown in the empty chat before /start (up to 512 characters) and on the bot's profile (120).
DESCRIPTION = (
    "养老金认证助手：帮退休老人、子女和社区工作人员弄明白养老金资格认证。\n"
    "• 怎么在手机上认证、怎么帮家里老人认证\n"
    "• 下次什么时候到期，到期前提醒您\n"
    "• 刷脸不过、错过认证、在外地怎么办\n"
    "认证是免费的。我不会问您要身份证号、密码或银行卡号。点下面的“开始”就能问。"
)
SHORT_DESCRIPTION = ("养老金资格认证怎么办、什么时候到期、刷脸不过怎么办，打字问我就行。"
                     "认证是免费的。")
SHARE_BUTTON = "转发给家人"
# Official channels an answer may name, and where they are: (name in the answer, button, link).
OFFICIAL_LINKS = (
    ("国家社会保险公共服务平台", "打开国家社会保险公共服务平台", "https://si.12333.gov.cn"),
)
DEEP_LINK = r"^/start\s+[A-Za-z0-9-]{2,64}\s*$"


async def set_profile(bot: Bot) -> None:
    """Description, short description and the menu button (the list of commands)."""
    try:
        await bot.set_my_description(DESCRIPTION)
        await bot.set_my_short_description(SHORT_DESCRIPTION)
        await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
    except TelegramError as exc:  # cosmetic: never a reason not to start
        log.warning("bot description or menu button not set: %s", exc)


def service_rows(reply: Reply, title: str = "") -> list[list[InlineKeyboardButton]]:
    """Link buttons to the official channels an answer names, and 转发给家人 (which shares the
    topic by its `title`: the user's own words, 郑州 say, may find nothing in inline mode)."""
    if reply.kind != "answer" or not reply.id:
        return []
    text = f"{reply.text}\n{reply.detail or ''}"
    rows = [[InlineKeyboardButton(label, url=url)]
            for name, label, url in OFFICIAL_LINKS if name in text]
    # The user picks a chat (a family member's) and the answer is sent there in inline mode.
    share = (title or reply.question)[:200]
    rows.append([InlineKeyboardButton(SHARE_BUTTON, switch_inline_query=share)])
    return rows


def with_service_buttons(markup: InlineKeyboardMarkup | None, reply: Reply,
                         title: str = "") -> InlineKeyboardMarkup | None:
    """The answer's buttons with `service_rows` added just above 有用 / 没用."""
    extra = service_rows(reply, title)
    if not extra:
        return markup
    rows = [list(row) for row in (markup.inline_keyboard if markup else ())]
    at = len(rows)
    if rows and any((b.callback_data or "").startswith("fb:") for b in rows[-1]):
        at -= 1
    return InlineKeyboardMarkup(rows[:at] + extra + rows[at:])


async def deep_link_start(update: Update, context: BotContext) -> None:
    """t.me/<bot>?start=<topic-id>: that one answer; an unknown topic gets the normal /start."""
    from bot.tg.handlers import chat  # the handlers this one falls back on

    if update.effective_chat.type != ChatType.PRIVATE:
        await chat.start(update, context)
        return
    svc = context.services
    topic = (context.args or [""])[0]
    user = update.effective_user
    reply = topic_reply(svc.engine, topic, chat._remembered_city(svc, user.id if user else None))
    if reply is None:
        await chat.start(update, context)
        return
    chat._remember(update, context)
    await chat._send_reply(update, context, reply)
