"""Reminders in Telegram: the /remind flow, /myreminders, /stop, the buttons under a reminder,
group notices for group admins, and the background sender that drains the outbox.

The schedule itself lives in SQLite (`bot.reminders.store`); this module only talks to Telegram.
The send loop and its retries are the shared sender's (`bot.delivery.sender`, also used by
broadcasts); `ReminderSender` picks the due rows, skips the ones no longer wanted and words
the messages, and `reminder_policy` says how reminders retry.
The sender runs as a background loop of the application (`bot.tg.context.repeat`) every few
seconds and asks the clock each time, so a test that moves a FileClock makes the due
reminders go out.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlite_utils
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.clock import Clock
from bot.db.groups import migrate_group, remember_group
from bot.db.users import deactivate_user, get_user, remember_user, set_user_profile
from bot.deadline.regions import lookup_region, rule_for
from bot.deadline.rules import cn_date
from bot.deadline.schemes import SCHEMES
from bot.delivery import sender as delivery
from bot.delivery.pacing import TokenBucket
from bot.qa.safety import redact
from bot.reminders import store as rm
from bot.text.dates import DateParseError, parse_date_match
from bot.tg import texts
from bot.tg.callbacks import INVALID_BUTTON, answer_query, callback_id, callback_index
from bot.tg.context import Services, repeat, services
from bot.tg.flow import (
    add_navigation,
    clear_prompt,
    finish,
    nav_row,
    offer_close_places,
    prompt,
    saved_date_keyboard,
    saved_date_text,
    with_nav,
)
from bot.tg.handlers.deadline import HOW_TO_FIND_DATE, SKIP_WORDS, UNKNOWN_DATE_WORDS
from bot.tg.keyboards import (
    REMIND_START,
    city_keyboard,
    main_keyboard,
    scheme_keyboard,
)
from bot.tg.sending import bulk_kwargs, classify_error

log = logging.getLogger(__name__)

SCHEME, CITY, LAST_DATE, LABEL, CONFIRM = range(20, 25)
LEADS_TEXT = 30
FLOW_KEY = "remind_flow"
LEADS_KEY = "remind_leads_for"

# Reminders share Telegram's ~30 messages/s with everything else the bot sends.
REMINDER_RATE = 20.0
NETWORK_RETRY_DELAYS = (0.5, 2.0)  # in-process retries of one send after a network error
NETWORK_RETRY_LATER = dt.timedelta(minutes=10)
MAX_SEND_ROUNDS = 5  # after this many rounds of network failures a send is given up
MAX_RETRY_AFTER_WAITS = 5
FLOOD_RETRY_LATER = dt.timedelta(minutes=1)


def reminder_policy(retry_delays: tuple[float, ...] = NETWORK_RETRY_DELAYS
                    ) -> delivery.RetryPolicy:
    """Reminders wait through flood control in place, retry a network error in place and then
    every ten minutes, follow a migrated group at once, and send again what a crash left in
    flight (a missed pension is worse than a duplicate reminder)."""
    return delivery.RetryPolicy(
        flood_waits=MAX_RETRY_AFTER_WAITS, flood_requeue=FLOOD_RETRY_LATER.total_seconds(),
        network_delays=retry_delays, network_requeue=NETWORK_RETRY_LATER.total_seconds(),
        max_attempts=MAX_SEND_ROUNDS, max_migrations=2, resend_after_crash=True)

LEAD_PRESETS: tuple[tuple[tuple[int, ...], str], ...] = (
    (rm.DEFAULT_LEADS, "提前30、7、1天，过期后1天（推荐）"),
    ((30, 7, 1), "提前30、7、1天"),
    ((15, 3, 0), "提前15天、3天和到期当天"),
    ((7, 1), "提前7天和1天"),
    ((60, 30, 7, 1, -1), "提前60、30、7、1天，过期后1天"),
)

START_TEXT = (
    "好的，我们来设置认证到期提醒，一共4步，不想弄了随时点“取消”。\n"
    "第1步：领的是哪一种待遇？"
)
ASK_CITY = (
    "第2步：在哪个城市领取待遇？请直接打城市名（例如：锦州、广州）。\n"
    "不确定可以点“跳过”，先按全国通用规则算。"
)
ASK_DATE = (
    "第3步：上次认证是哪一天？可以这样写：2025年3月10日、2025.3.10、去年3月10号。\n"
    "不记得的话发“不知道”，我告诉您怎么查。"
)
ASK_LABEL = "第4步：这个提醒是给谁设的？点下面的按钮，或者直接打称呼（例如：大姨）。"
CITY_NOT_FOUND = "没找到“{place}”这个地方。请再发一次城市名（例如：锦州、广州），或点“跳过”。"
FLOW_EXPIRED = "这一步已经过期了，请重新发 /remind 设置。"
NOT_YOURS = "这不是您的提醒。"
GROUP_ONLY_ADMINS = "只有群管理员可以设置或删除群提醒。想给自己设提醒，请私聊我发 /remind。"
NO_REMINDERS = "您还没有设置提醒。发 /remind 或点“设置提醒”按钮就能设置。"


# --- keyboards -------------------------------------------------------------------------------


def _label_keyboard(last: str | None = None) -> InlineKeyboardMarkup:
    """Whose pension: one button per choice; the one used last time first, as "用 父亲"."""
    buttons = [InlineKeyboardButton(label, callback_data=f"rmf:l:{i}")
               for i, label in enumerate(rm.LABEL_CHOICES)]
    rows = [buttons[i:i + 4] for i in range(0, len(buttons), 4)]
    if last in rm.LABEL_CHOICES:
        rows.insert(0, [InlineKeyboardButton(
            f"用 {last}", callback_data=f"rmf:l:{rm.LABEL_CHOICES.index(last)}")])
    return InlineKeyboardMarkup(rows)


def _last_label(db: sqlite_utils.Database, user_id: int) -> str | None:
    """Whose pension the user asked about last (the profile's 本人/父亲/母亲…)."""
    whose = (get_user(db, user_id) or {}).get("whose")
    existing = rm.user_reminders(db, user_id)
    return whose or (existing[-1].label if existing else None)


def reminder_keyboard(reminder_id: int) -> InlineKeyboardMarkup:
    """The buttons under every reminder."""
    return InlineKeyboardMarkup([
        [InlineKeyboardButton("✅ 我已认证", callback_data=f"rm:done:{reminder_id}"),
         InlineKeyboardButton("⏰ 稍后提醒", callback_data=f"rm:snz:{reminder_id}")],
        [InlineKeyboardButton("🛑 停止提醒", callback_data=f"rm:stop:{reminder_id}")],
    ])


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


# --- texts -----------------------------------------------------------------------------------


def _place(city: str | None) -> str:
    region = lookup_region(city) if city else None
    return region.display if region else "未设置（按全国通用规则）"


def _days_words(due: dt.date, today: dt.date) -> str:
    days = (due - today).days
    if days > 0:
        return f"还有{days}天"
    return "今天到期" if days == 0 else f"已经过了{-days}天"


def _plan_text(slots: list[rm.Slot]) -> str:
    if not slots:
        return ("这一轮已经没有要提醒的时间了，请尽快去认证；办好后点“我已认证”，"
                "我按新的日期继续提醒。")
    lines = []
    for slot in slots:
        what = "稍后提醒" if slot.is_snooze else rm.describe_lead(slot.lead or 0)
        lines.append(f"· {cn_date(slot.day)} 上午{slot.at.hour}点（{what}）")
    return "我会在这些时间提醒（北京时间）：\n" + "\n".join(lines)


def describe_reminder(reminder: rm.Reminder, now: dt.datetime) -> str:
    """One reminder as /myreminders shows it."""
    today = rm.china(now).date()
    state = "提醒中" if reminder.active else (
        "已停止（您屏蔽过机器人）" if reminder.stopped == "blocked" else "已停止")
    last = cn_date(reminder.last_date) if reminder.last_date else "未知"
    lines = [
        f"📋 {reminder.label}（{state}）",
        f"待遇：{SCHEMES[reminder.scheme].short}；地区：{_place(reminder.city)}",
        f"上次认证：{last}；下次请在{cn_date(reminder.due)}之前办好"
        f"（{_days_words(reminder.due, today)}）",
        f"提醒时间：{rm.describe_leads(reminder.leads)}，都在上午9点",
    ]
    if reminder.active:
        upcoming = reminder.upcoming(now)
        lines.append(f"下一次：{cn_date(upcoming[0].day)} 上午9点" if upcoming
                     else "这一轮的提醒都发完了；认证后点“我已认证”，我按新日期继续提醒。")
    return "\n".join(lines)


# --- the /remind flow ------------------------------------------------------------------------


def _svc(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return services(context)


def _flow(context: ContextTypes.DEFAULT_TYPE) -> dict:
    return context.user_data.setdefault(FLOW_KEY, {})


NAV = "rmf"


def _saved_profile(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> dict:
    return get_user(_svc(context).db, user_id) or {}


def _cleanup(context: ContextTypes.DEFAULT_TYPE) -> None:
    context.user_data.pop(FLOW_KEY, None)
    context.user_data.pop(LEADS_KEY, None)


async def _ask(update: Update, context: ContextTypes.DEFAULT_TYPE, state: object,
               lead: str = "") -> int:
    """Ask one step of /remind (again), with 上一步 · 取消 under it."""
    saved = _saved_profile(context, update.effective_user.id)
    if state == SCHEME:
        await prompt(update, context, lead + START_TEXT,
                     with_nav(scheme_keyboard("rmf:s:", saved.get("scheme")), NAV))
    elif state == CITY:
        await prompt(update, context, lead + ASK_CITY, with_nav(city_keyboard(
            saved.get("city"), skip="rmf:city:skip", saved="rmf:city:saved"), NAV))
    elif state == LAST_DATE:
        await prompt(update, context, lead + ASK_DATE,
                     with_nav(saved_date_keyboard(saved.get("last_date"), "rmf:d:saved"), NAV))
    elif state == LABEL:
        last = _last_label(_svc(context).db, update.effective_user.id)
        await prompt(update, context, lead + ASK_LABEL, with_nav(_label_keyboard(last), NAV))
    else:  # CONFIRM: back from here is the label again
        return await _ask(update, context, LABEL, lead)
    return state  # type: ignore[return-value]


async def remind_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/remind or the 设置提醒 button in a private chat."""
    svc = _svc(context)
    user = update.effective_user
    if user is not None:
        remember_user(svc.db, user.id, update.effective_chat.id, user.first_name or "",
                      svc.clock.now())
    context.user_data[FLOW_KEY] = {}
    return await _ask(update, context, SCHEME)


async def remind_from_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """设提醒 under a deadline card."""
    query = update.callback_query
    if query.data != REMIND_START:  # PTB lets empty callback data through any pattern
        await answer_query(query, INVALID_BUTTON, alert=True)
        return ConversationHandler.END
    await answer_query(query)
    return await remind_start(update, context)


async def scheme_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    key = (query.data or "").rsplit(":", 1)[-1]
    await answer_query(query)
    if key not in SCHEMES:
        return await _ask(update, context, SCHEME)
    _flow(context)["scheme"] = key
    return await _ask(update, context, CITY, f"好的：{SCHEMES[key].name}。\n")


async def city_typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    text = update.effective_message.text.strip()
    if any(word in text for word in SKIP_WORDS):
        _flow(context)["city"] = None
        return await _ask(update, context, LAST_DATE, "好的，先按全国通用规则算。\n")
    region = lookup_region(text)
    if region is None:
        if not await offer_close_places(update, context, text, prefix="rmf:city:c:",
                                        skip="rmf:city:skip", nav=NAV):
            await prompt(update, context, CITY_NOT_FOUND.format(place=text[:20]), with_nav(
                city_keyboard(None, skip="rmf:city:skip", saved="rmf:city:saved"), NAV))
        return CITY
    _flow(context)["city"] = region.short
    return await _ask(update, context, LAST_DATE, f"好的：{region.display}。\n")


async def city_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    await answer_query(query)
    data = query.data or ""
    if data.startswith("rmf:city:c:"):
        region = lookup_region(data[len("rmf:city:c:"):])
        city = region.short if region else None
    elif data == "rmf:city:saved":
        city = _saved_profile(context, update.effective_user.id).get("city")
    else:
        city = None
    _flow(context)["city"] = city
    return await _ask(update, context, LAST_DATE, f"好的：{_place(city)}。\n")


async def date_typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    return await _date_given(update, context, update.effective_message.text.strip())


async def date_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """用 <the date given last time, in /deadline or a reminder>."""
    await answer_query(update.callback_query)
    saved = saved_date_text(_saved_profile(context, update.effective_user.id).get("last_date"))
    if not saved:
        return await _ask(update, context, LAST_DATE)
    return await _date_given(update, context, saved)


async def _date_given(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> int:
    svc = _svc(context)
    message = update.effective_message
    today = rm.china(svc.clock.now()).date()
    if any(word in text for word in UNKNOWN_DATE_WORDS):
        await message.reply_text(HOW_TO_FIND_DATE)
        return LAST_DATE
    try:
        found = parse_date_match(text, today)
    except DateParseError as exc:
        await message.reply_text(str(exc))
        return LAST_DATE
    if found.date is None or found.date > today:
        await message.reply_text("这个日期还没到呢，请发上一次已经完成认证的日期。")
        return LAST_DATE
    flow = _flow(context)
    if flow.get("scheme") not in SCHEMES:
        return await remind_start(update, context)
    result = rm.due_for(flow["scheme"], flow.get("city"), last=found.date, today=today,
                        day_assumed=found.day_assumed)
    flow.update(last=found.date.isoformat(), due=result.due.isoformat(),
                day_assumed=found.day_assumed)
    return await _ask(update, context, LABEL)


async def label_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    index = callback_index(query.data, 2, len(rm.LABEL_CHOICES))
    if index is None:
        await answer_query(query, INVALID_BUTTON)
        return await _ask(update, context, LABEL)
    await answer_query(query)
    label = rm.LABEL_CHOICES[index]
    return await _confirm(update, context, label)


async def label_typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    try:
        label = rm.clean_label(redact(update.effective_message.text))
    except rm.ReminderError as exc:
        await prompt(update, context, str(exc), with_nav(_label_keyboard(), NAV))
        return LABEL
    return await _confirm(update, context, label)


async def _confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, label: str) -> int:
    """Show what will be saved: due date and plan; wait for 确认."""
    svc = _svc(context)
    flow = _flow(context)
    if not {"scheme", "due", "last"} <= set(flow):
        await update.effective_message.reply_text(FLOW_EXPIRED)
        return ConversationHandler.END
    flow["label"] = label
    now = svc.clock.now()
    today = rm.china(now).date()
    due, last = dt.date.fromisoformat(flow["due"]), dt.date.fromisoformat(flow["last"])
    rule = rule_for(flow["scheme"], flow.get("city"))
    slots = [s for s in rm.plan(due) if s.at > rm.china(now)]
    lines = [
        "请确认：",
        f"· 提醒对象：{label}",
        f"· 待遇：{SCHEMES[flow['scheme']].name}",
        f"· 地区：{_place(flow.get('city'))}",
        f"· 上次认证：{cn_date(last)}" + ("（只知道月份，按1号算）" if flow.get("day_assumed")
                                       else ""),
        f"· 下次请在{cn_date(due)}之前办好（{_days_words(due, today)}）",
        "",  # the rule and the plan below the first screen
        f"按{rule.label}：{rule.rule.describe()}",
    ]
    if due < today:
        lines.append("已经过了截止日期，请尽快补认证；办好后在 /myreminders 里点“我已认证”，"
                     "我按新的日期提醒。")
    lines.append(_plan_text(slots))
    existing = [r for r in rm.user_reminders(svc.db, update.effective_user.id)
                if r.label == label]
    if existing:
        lines.append(f"（会替换您之前给“{label}”设的提醒）")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("✅ 确认", callback_data="rmf:ok"),
                                    InlineKeyboardButton("❌ 取消", callback_data="rmf:no")],
                                   [nav_row(NAV)[0]]])
    await prompt(update, context, "\n".join(lines), markup)
    return CONFIRM


async def confirmed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    svc = _svc(context)
    flow = context.user_data.pop(FLOW_KEY, {})
    if not {"scheme", "due", "last", "label"} <= set(flow):
        await answer_query(query, FLOW_EXPIRED, alert=True)
        return ConversationHandler.END
    await answer_query(query, "已保存")
    await clear_prompt(context)
    now = svc.clock.now()
    # One profile: /deadline offers what was given here (and /remind what /deadline stored).
    set_user_profile(svc.db, update.effective_user.id, scheme=flow["scheme"],
                     city=flow.get("city"), last_date=dt.date.fromisoformat(flow["last"]),
                     whose=flow["label"])
    try:
        reminder = rm.add_reminder(
            svc.db, user_id=update.effective_user.id, chat_id=update.effective_chat.id,
            label=flow["label"], scheme=flow["scheme"], city=flow.get("city"),
            last=dt.date.fromisoformat(flow["last"]), due=dt.date.fromisoformat(flow["due"]),
            now=now)
    except rm.ReminderError as exc:
        await query.message.reply_text(str(exc), reply_markup=main_keyboard())
        return ConversationHandler.END
    upcoming = reminder.upcoming(now)
    first = (f"第一次提醒在{cn_date(upcoming[0].day)}上午9点。" if upcoming else "")
    await query.message.reply_text(
        f"设置好了！{first}\n发 /myreminders 可以查看、修改或删除，发 /stop 停止全部提醒。",
        reply_markup=main_keyboard())
    return ConversationHandler.END


async def declined(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    await answer_query(query)
    return await finish(update, context, "好的，没有设置。需要时再发 /remind。", cleanup=_cleanup)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    return await finish(update, context, cleanup=_cleanup)


async def stale_flow_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A flow button pressed after the flow ended (or after a restart)."""
    await answer_query(update.callback_query, FLOW_EXPIRED, alert=True)


def remind_conversation() -> ConversationHandler:
    private = filters.ChatType.PRIVATE
    private_text = private & filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[
            CommandHandler("remind", remind_start, filters=private),
            MessageHandler(private & filters.Regex(f"^{texts.BUTTON_REMIND}$"), remind_start),
            CallbackQueryHandler(remind_from_button, pattern=f"^{REMIND_START}$"),
        ],
        states=add_navigation({
            SCHEME: [CallbackQueryHandler(scheme_chosen, pattern=r"^rmf:s:")],
            CITY: [CallbackQueryHandler(city_button, pattern=r"^rmf:city:"),
                   MessageHandler(private_text, city_typed)],
            LAST_DATE: [CallbackQueryHandler(date_button, pattern=r"^rmf:d:saved$"),
                         MessageHandler(private_text, date_typed)],
            LABEL: [CallbackQueryHandler(label_button, pattern=r"^rmf:l:"),
                    MessageHandler(private_text, label_typed)],
            CONFIRM: [CallbackQueryHandler(confirmed, pattern=r"^rmf:ok$"),
                      CallbackQueryHandler(declined, pattern=r"^rmf:no$")],
        }, prefix=NAV, order=(SCHEME, CITY, LAST_DATE, LABEL, CONFIRM), ask=_ask,
            start=remind_start, cleanup=_cleanup),
        fallbacks=[CommandHandler("cancel", cancel)],
        name="remind",
        conversation_timeout=30 * 60,
        allow_reentry=True,
    )


# --- managing reminders ----------------------------------------------------------------------


async def my_reminders(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/myreminders: one message per reminder, each with its buttons."""
    svc = _svc(context)
    found = rm.user_reminders(svc.db, update.effective_user.id)
    if not found:
        await update.effective_message.reply_text(NO_REMINDERS, reply_markup=main_keyboard())
        return
    now = svc.clock.now()
    for reminder in found:
        await update.effective_message.reply_text(describe_reminder(reminder, now),
                                                  reply_markup=_manage_keyboard(reminder))


async def stop_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stop: every reminder of this user ends."""
    svc = _svc(context)
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


async def reminder_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """我已认证 / 稍后提醒 / 停止提醒 under a reminder, and the /myreminders buttons."""
    query = update.callback_query
    svc = _svc(context)
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


async def _done(update: Update, context: ContextTypes.DEFAULT_TYPE, reminder: rm.Reminder,
                now: dt.datetime) -> None:
    svc = _svc(context)
    query = update.callback_query
    updated = rm.certified(svc.db, reminder.id, now)
    await answer_query(query, "已记下")
    await _drop_buttons(update)
    rule = rule_for(updated.scheme, updated.city)
    today = rm.china(now).date()
    await query.message.reply_text(
        f"太好了！已记下{rm.who(updated.label)}今天（{cn_date(today)}）完成了认证。\n"
        f"按{rule.label}，{rule.rule.describe()}，下次请在{cn_date(updated.due)}之前办好。\n"
        + _plan_text(updated.upcoming(now)))


async def _snooze(update: Update, context: ContextTypes.DEFAULT_TYPE, reminder: rm.Reminder,
                  now: dt.datetime) -> None:
    svc = _svc(context)
    query = update.callback_query
    when = rm.snooze(svc.db, reminder.id, now)
    await answer_query(query, "明天再提醒")
    await _drop_buttons(update)
    await query.message.reply_text(
        f"好的，明天（{cn_date(when.date())}）上午{when.hour}点再提醒您。")


async def _stop(update: Update, context: ContextTypes.DEFAULT_TYPE, reminder: rm.Reminder,
                now: dt.datetime) -> None:
    svc = _svc(context)
    query = update.callback_query
    rm.stop(svc.db, reminder.id, now)
    await answer_query(query, "已停止")
    await _drop_buttons(update)
    await query.message.reply_text(
        f"已停止“{reminder.label}”的提醒。想恢复的话，发 /myreminders 点“重新开启”。")


async def _resume(update: Update, context: ContextTypes.DEFAULT_TYPE, reminder: rm.Reminder,
                  now: dt.datetime) -> None:
    svc = _svc(context)
    query = update.callback_query
    updated = rm.resume(svc.db, reminder.id, now)
    await answer_query(query, "已重新开启")
    await _drop_buttons(update)
    await query.message.reply_text(f"已重新开启“{updated.label}”的提醒。\n"
                                   + _plan_text(updated.upcoming(now)))


async def _ask_delete(update: Update, context: ContextTypes.DEFAULT_TYPE, reminder: rm.Reminder,
                      now: dt.datetime) -> None:
    query = update.callback_query
    await answer_query(query)
    markup = InlineKeyboardMarkup([[
        InlineKeyboardButton("确定删除", callback_data=f"rm:delok:{reminder.id}"),
        InlineKeyboardButton("不删了", callback_data="rm:keep")]])
    await query.message.reply_text(f"确定删除“{reminder.label}”的提醒吗？删除后不再提醒，"
                                   "这条记录也会清除。", reply_markup=markup)


async def _delete(update: Update, context: ContextTypes.DEFAULT_TYPE, reminder: rm.Reminder,
                  now: dt.datetime) -> None:
    query = update.callback_query
    rm.delete(_svc(context).db, reminder.id)
    await answer_query(query, "已删除")
    with contextlib.suppress(TelegramError):
        await query.edit_message_text(f"已删除“{reminder.label}”的提醒。")


async def _edit(update: Update, context: ContextTypes.DEFAULT_TYPE, reminder: rm.Reminder,
                now: dt.datetime) -> None:
    query = update.callback_query
    await answer_query(query)
    await query.message.reply_text(
        f"“{reminder.label}”现在是：{rm.describe_leads(reminder.leads)}。想改成哪种？",
        reply_markup=_leads_keyboard(reminder.id))


async def _preset(update: Update, context: ContextTypes.DEFAULT_TYPE, reminder: rm.Reminder,
                  now: dt.datetime) -> None:
    query = update.callback_query
    index = callback_index(query.data, 3, len(LEAD_PRESETS))
    if index is None:
        await answer_query(query, INVALID_BUTTON, alert=True)
        return
    leads = LEAD_PRESETS[index][0]
    await answer_query(query, "已修改")
    await _apply_leads(update, context, reminder, leads, now)


async def _apply_leads(update: Update, context: ContextTypes.DEFAULT_TYPE,
                       reminder: rm.Reminder, leads: tuple[int, ...], now: dt.datetime) -> None:
    updated = rm.set_leads(_svc(context).db, reminder.id, leads, now)
    text = (f"好的，“{updated.label}”改成：{rm.describe_leads(updated.leads)}。\n"
            + _plan_text(updated.upcoming(now)))
    if update.callback_query is not None:
        await _drop_buttons(update)
    await update.effective_message.reply_text(text)


_ACTIONS = {"done": _done, "snz": _snooze, "stop": _stop, "on": _resume, "del": _ask_delete,
            "delok": _delete, "edit": _edit, "lp": _preset}


async def custom_leads_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    reminder = _owned(_svc(context).db, query.data or "", query.from_user.id)
    if reminder is None:
        await answer_query(query, "这个提醒已经删除了。", alert=True)
        return ConversationHandler.END
    await answer_query(query)
    context.user_data[LEADS_KEY] = reminder.id
    await query.message.reply_text(
        "请发提前几天提醒，用空格或逗号隔开，例如：30 7 1\n"
        "0 表示到期当天，-1 表示过期后1天。发 /cancel 不改了。")
    return LEADS_TEXT


async def custom_leads_typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    svc = _svc(context)
    reminder_id = context.user_data.get(LEADS_KEY)
    reminder = rm.get_reminder(svc.db, reminder_id) if reminder_id else None
    if reminder is None or reminder.user_id != update.effective_user.id:
        await update.effective_message.reply_text("这个提醒已经删除了。")
        return ConversationHandler.END
    try:
        leads = rm.parse_leads(update.effective_message.text)
    except rm.ReminderError as exc:
        await update.effective_message.reply_text(str(exc))
        return LEADS_TEXT
    context.user_data.pop(LEADS_KEY, None)
    await _apply_leads(update, context, reminder, leads, svc.clock.now())
    return ConversationHandler.END


def leads_conversation() -> ConversationHandler:
    return ConversationHandler(
        entry_points=[CallbackQueryHandler(custom_leads_start, pattern=r"^rm:lt:")],
        states={LEADS_TEXT: [MessageHandler(filters.ChatType.PRIVATE & filters.TEXT
                                            & ~filters.COMMAND, custom_leads_typed)]},
        fallbacks=[CommandHandler("cancel", cancel)],
        name="remind_leads",
        conversation_timeout=30 * 60,
        allow_reentry=True,
    )


# --- group notices ---------------------------------------------------------------------------


async def _is_group_admin(bot: Bot, chat_id: int, user_id: int) -> bool:
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramError:
        return False
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


def _group_list(db: sqlite_utils.Database, chat_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    found = rm.group_reminders(db, chat_id)
    if not found:
        return "本群还没有群提醒。\n" + rm.GROUP_USAGE, None
    lines = ["本群的提醒："]
    buttons = []
    for index, group in enumerate(found, start=1):
        lines.append(f"{index}. {group.schedule.describe()}：{group.schedule.text[:60]}")
        buttons.append([InlineKeyboardButton(f"🗑 删除第{index}条",
                                             callback_data=f"grm:del:{group.id}")])
    lines.append("\n" + rm.GROUP_USAGE)
    return "\n".join(lines), InlineKeyboardMarkup(buttons)


async def group_remind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/remind in a group: admins set a monthly notice; without text, list them."""
    svc = _svc(context)
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    remember_group(svc.db, chat.id, chat.title or "", svc.clock.now())
    parts = (message.text or "").split(maxsplit=1)
    rest = parts[1].strip() if len(parts) > 1 else ""
    if not rest:
        text, markup = _group_list(svc.db, chat.id)
        await message.reply_text(text, reply_markup=markup)
        return
    if user is None or not await _is_group_admin(context.bot, chat.id, user.id):
        await message.reply_text(GROUP_ONLY_ADMINS)
        return
    now = svc.clock.now()
    try:
        schedule = rm.parse_group_schedule(rest)
        group = rm.add_group_reminder(svc.db, chat_id=chat.id, created_by=user.id,
                                      schedule=schedule, now=now)
    except rm.ReminderError as exc:
        await message.reply_text(str(exc))
        return
    assert group.next_at is not None
    note = "（小月没有这一天时，在月底最后一天发）" if schedule.day > 28 else ""
    await message.reply_text(
        f"好的，本群提醒已设置：{schedule.describe()}{note}\n内容：{schedule.text}\n"
        f"下一次：{cn_date(group.next_at.date())} {group.next_at:%H:%M}。"
        "发 /remind 可以查看或删除。")


async def group_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """删除 under the group list: admins only, and only this group's notices."""
    query = update.callback_query
    svc = _svc(context)
    reminder_id = callback_id(query.data, 2)
    if reminder_id is None:
        await answer_query(query, INVALID_BUTTON, alert=True)
        return
    chat_id = query.message.chat.id if query.message else None
    group = rm.get_group_reminder(svc.db, reminder_id)
    if group is None or group.chat_id != chat_id:
        await answer_query(query, "这条群提醒已经删除了。", alert=True)
        return
    if not await _is_group_admin(context.bot, group.chat_id, query.from_user.id):
        await answer_query(query, GROUP_ONLY_ADMINS, alert=True)
        return
    rm.delete_group_reminder(svc.db, reminder_id)
    await answer_query(query, "已删除")
    text, markup = _group_list(svc.db, group.chat_id)
    with contextlib.suppress(TelegramError):
        await query.edit_message_text(text, reply_markup=markup)


async def on_migrate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup: its notices follow it (chat.migrate moves the settings)."""
    message = update.effective_message
    db = _svc(context).db
    if message.migrate_to_chat_id:
        rm.migrate_chat(db, message.chat_id, message.migrate_to_chat_id)
    elif message.migrate_from_chat_id:
        rm.migrate_chat(db, message.migrate_from_chat_id, message.chat_id)


# --- the sender ------------------------------------------------------------------------------


@dataclass
class SendStats:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    blocked: int = 0
    retried: int = 0
    migrated: int = 0


class ReminderSender:
    """Drains the outbox through the shared sender (`bot.delivery.sender`): each send is
    marked before the call and settled after it; this class only picks the rows, skips the
    ones no longer wanted and words the messages."""

    def __init__(self, bot: Bot, db: sqlite_utils.Database, clock: Clock, *,
                 rate: float | None = REMINDER_RATE, batch: int = 50,
                 running: Callable[[], bool] = lambda: True,
                 retry_delays: tuple[float, ...] = NETWORK_RETRY_DELAYS,
                 budget: TokenBucket | None = None):
        self.bot, self.db, self.clock = bot, db, clock
        self.batch = batch
        self.running = running
        self.outbox = rm.ReminderOutbox(db, clock.now)
        self.sender = delivery.Sender(
            self.outbox, classify_error, reminder_policy(retry_delays),
            budget=budget,  # shared with broadcasts
            interval=1.0 / rate if rate else 0.0,
            on_blocked=self._on_blocked, on_migrated=self._on_migrated, running=running)

    async def run_once(self) -> SendStats:
        """Queue what has come due, then send everything pending (daytime only)."""
        stats = SendStats()
        while self.running():
            now = self.clock.now()
            if not rm.in_sending_hours(now):
                break
            rm.enqueue_due(self.db, now)
            rows = rm.pending_outbox(self.db, now, self.batch)
            if not rows:
                break
            for row in rows:
                if not self.running():
                    break
                await self.deliver(row, stats)
        return stats

    def _message(self, row: rm.OutboxRow, now: dt.datetime
                 ) -> tuple[int, str, InlineKeyboardMarkup | None, int | None]:
        """(chat id, text, buttons, user id) for a row, read fresh from its reminder."""
        if row.kind == "group":
            group = rm.get_group_reminder(self.db, row.ref_id)
            assert group is not None
            return group.chat_id, rm.group_text(group), None, None
        reminder = rm.get_reminder(self.db, row.ref_id)
        assert reminder is not None
        return (reminder.chat_id, rm.reminder_text(reminder, rm.china(now).date()),
                reminder_keyboard(reminder.id), reminder.user_id)

    async def deliver(self, row: rm.OutboxRow, stats: SendStats) -> str:
        """Send one outbox row; returns its final status."""
        db, now = self.db, self.clock.now()
        reason = rm.skip_reason(db, row, now)
        if reason:
            rm.mark_done(db, row.id, "skipped", reason, now)
            stats.skipped += 1
            return "skipped"
        chat_id, text, markup, user_id = self._message(row, now)

        async def send(to: int) -> int:
            return (await self.bot.send_message(to, text, reply_markup=markup,
                                                **bulk_kwargs(self.bot))).message_id

        # Committed before the request: after a crash this row is sent again (never lost);
        # marked sent right after its own send, so a crash duplicates at most this one message.
        item = delivery.Item(row.id, chat_id, row.attempts, ref=(row, user_id))
        result = await self.sender.deliver(item, send)
        stats.retried += result.network_errors
        stats.migrated += result.migrations
        if result.status == delivery.SENT:
            stats.sent += 1
            return "sent"
        if result.status == delivery.BLOCKED:
            stats.blocked += 1
            return "failed"
        if result.status == delivery.PENDING:
            return "pending"
        stats.failed += 1
        return "failed"

    def _on_migrated(self, item: delivery.Item, new_chat_id: int) -> bool:
        rm.migrate_chat(self.db, item.chat_id, new_chat_id)
        migrate_group(self.db, item.chat_id, new_chat_id)
        return True  # sent again at once, to the supergroup

    def _on_blocked(self, item: delivery.Item) -> None:
        row, user_id = item.ref
        self._blocked(row, item.chat_id, user_id)

    def _blocked(self, row: rm.OutboxRow, chat_id: int, user_id: int | None) -> None:
        now = self.clock.now()
        if row.kind == "group":
            count = rm.deactivate_group(self.db, chat_id, now)
            log.info("reminders: removed from a group, %d notices stopped", count)
            return
        if user_id is not None:
            count = rm.stop_all(self.db, user_id, now, reason="blocked")
            deactivate_user(self.db, user_id)
            log.info("reminders: a user blocked the bot, %d reminders stopped", count)


def _tick_seconds(application: Application) -> float:
    return application.bot_data["services"].settings.reminder_tick_seconds


async def _on_start(application: Application) -> None:
    """Rebuild from the database: interrupted sends go back in the queue, then the first tick
    (right away) catches up with everything that came due while the bot was down."""
    svc: Services = application.bot_data["services"]
    sender = ReminderSender(
        application.bot, svc.db, svc.clock,
        running=lambda: application.running, budget=svc.bulk_budget)
    recovered = sender.sender.recover()
    active = svc.db.conn.execute("SELECT count(*) FROM reminders WHERE active = 1").fetchone()[0]
    log.info("reminders: %d active, %d interrupted sends re-queued", active, recovered)
    svc.extras["reminder_sender"] = sender

    async def tick() -> None:
        stats = await sender.run_once()
        if stats.sent or stats.failed or stats.skipped or stats.blocked:
            log.info("reminders: %s", stats)

    # The next tick is counted from the end of the last one, so a long run never overlaps.
    repeat(application, tick, every=lambda: _tick_seconds(application), first=0.1,
           name="reminders")


def register(application: Application) -> None:
    """Add the reminder handlers and the sender (called by bot.tg.app)."""
    svc: Services = application.bot_data["services"]
    rm.ensure_reminder_tables(svc.db)
    private, groups = filters.ChatType.PRIVATE, filters.ChatType.GROUPS
    application.add_handler(remind_conversation())
    application.add_handler(leads_conversation())
    application.add_handler(CommandHandler("remind", group_remind, filters=groups))
    application.add_handler(CommandHandler("myreminders", my_reminders, filters=private))
    application.add_handler(CommandHandler("stop", stop_command, filters=private))
    application.add_handler(CallbackQueryHandler(reminder_button, pattern=r"^rm:"))
    application.add_handler(CallbackQueryHandler(group_button, pattern=r"^grm:"))
    application.add_handler(CallbackQueryHandler(stale_flow_button, pattern=r"^rmf:"))
    # A separate group, so the core migrate handler still runs for the same update.
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate), group=1)
    application.bot_data.setdefault("on_start", []).append(_on_start)
