"""The /remind conversation in a private chat: scheme → city → last date (the steps /deadline
asks too, `bot.tg.steps`) → whose pension → confirm. /myreminders and its buttons are in
my_reminders.py, group notices in group_remind.py; bot.tg.app wires them all.

The schedule itself lives in SQLite (`bot.reminders`); the handlers only talk to Telegram.
"""

from __future__ import annotations

import datetime as dt

import sqlite_utils
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.db.users import get_user, remember_user, set_user_profile
from bot.deadline.divisions import Region
from bot.deadline.explanation import cn_date
from bot.deadline.regions import rule_for
from bot.deadline.schemes import SCHEMES
from bot.qa.places import place_key
from bot.qa.safety import redact
from bot.reminders import plans
from bot.reminders import store as rm
from bot.reminders.requests import asks_for_reminder
from bot.reminders.texts import days_words, place_name, plan_text
from bot.tg import steps
from bot.tg.callbacks import INVALID_BUTTON, answer_query, callback_index
from bot.tg.context import BotContext
from bot.tg.flow import (
    add_navigation,
    clear_prompt,
    finish,
    forget,
    nav_row,
    prompt,
    said,
    with_nav,
)
from bot.tg.handlers.my_reminders import LEADS_KEY
from bot.tg.keyboards import REMIND_START, main_keyboard
from bot.tg.text_filters import text_filter

SCHEME, CITY, LAST_DATE, LABEL, CONFIRM = range(20, 25)
FLOW_KEY = "remind_flow"
NAV = "rmf"

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
STEPS = steps.Steps(nav=NAV, city=f"{NAV}:city:", ask_scheme=START_TEXT, ask_city=ASK_CITY,
                    ask_date=ASK_DATE)
_STEP_OF = {SCHEME: steps.SCHEME, CITY: steps.CITY, LAST_DATE: steps.DATE}


def _label_keyboard(last: str | None = None) -> InlineKeyboardMarkup:
    """Whose pension: one button per choice; the one used last time first, as "用 父亲"."""
    buttons = [InlineKeyboardButton(label, callback_data=f"rmf:l:{i}")
               for i, label in enumerate(plans.LABEL_CHOICES)]
    rows = [buttons[i:i + 4] for i in range(0, len(buttons), 4)]
    if last in plans.LABEL_CHOICES:
        rows.insert(0, [InlineKeyboardButton(
            f"用 {last}", callback_data=f"rmf:l:{plans.LABEL_CHOICES.index(last)}")])
    return InlineKeyboardMarkup(rows)


def _last_label(db: sqlite_utils.Database, user_id: int) -> str | None:
    """Whose pension the user asked about last (the profile's 本人/父亲/母亲…)."""
    whose = (get_user(db, user_id) or {}).get("whose")
    existing = rm.user_reminders(db, user_id)
    return whose or (existing[-1].label if existing else None)


def _flow(context: BotContext) -> dict:
    return context.user_data.setdefault(FLOW_KEY, {})


_cleanup = forget(FLOW_KEY, LEADS_KEY, STEPS.early_city)


async def _ask(update: Update, context: BotContext, state: object,
               lead: str = "") -> int:
    """Ask one step of /remind (again), with 上一步 · 取消 under it."""
    if state in _STEP_OF:
        await STEPS.ask(update, context, _STEP_OF[state], lead)
    elif state == LABEL:
        last = _last_label(context.services.db, update.effective_user.id)
        await prompt(update, context, lead + ASK_LABEL, with_nav(_label_keyboard(last), NAV))
    else:  # CONFIRM: back from here is the label again
        return await _ask(update, context, LABEL, lead)
    return state  # type: ignore[return-value]


async def remind_start(update: Update, context: BotContext) -> int:
    """/remind, the 设置提醒 button or a typed request (提醒我认证) in a private chat."""
    svc = context.services
    user = update.effective_user
    if user is not None:
        remember_user(svc.db, user.id, update.effective_chat.id, user.first_name or "",
                      svc.clock.now())
    context.user_data[FLOW_KEY] = {}
    context.user_data.pop(STEPS.early_city, None)
    return await _ask(update, context, SCHEME)


async def remind_from_button(update: Update, context: BotContext) -> int:
    """设提醒 under a deadline card."""
    query = update.callback_query
    if query.data != REMIND_START:  # PTB lets empty callback data through any pattern
        await answer_query(query, INVALID_BUTTON, alert=True)
        return ConversationHandler.END
    await answer_query(query)
    return await remind_start(update, context)


async def scheme_given(update: Update, context: BotContext) -> int:
    """The scheme, pressed or typed: on to the city (the date, when the city came first)."""
    answer = await STEPS.scheme_answer(update, context)
    if answer is None:
        return SCHEME
    key, region, lead = answer
    _flow(context).update(scheme=key, **({"city": place_key(region)} if region else {}))
    return await _ask(update, context, CITY if region is None else LAST_DATE, lead)


async def city_typed(update: Update, context: BotContext) -> int:
    text = update.effective_message.text.strip()
    found = await STEPS.typed_city(update, context, text)
    if found == steps.SKIPPED:
        _flow(context)["city"] = None
        return await _ask(update, context, LAST_DATE, "好的，先按全国通用规则算。\n")
    if not isinstance(found, Region):
        if found == steps.UNKNOWN:
            await prompt(update, context, CITY_NOT_FOUND.format(place=said(text)),
                         STEPS.city_keyboard(None))
        return CITY
    _flow(context)["city"] = place_key(found)
    return await _ask(update, context, LAST_DATE, f"好的：{found.display}。\n")


async def city_button(update: Update, context: BotContext) -> int:
    city = await STEPS.city_button(update, context)
    _flow(context)["city"] = city
    return await _ask(update, context, LAST_DATE, f"好的：{place_name(city)}。\n")


async def date_given(update: Update, context: BotContext) -> int:
    """The last certification date, typed or 用 <the date given last time, in /deadline or a
    reminder>: the due date it gives, then whose pension."""
    svc = context.services
    today = plans.china(svc.clock.now()).date()
    found = await STEPS.date_answer(update, context, today)
    if found is None or found.date is None:
        return LAST_DATE
    flow = _flow(context)
    if flow.get("scheme") not in SCHEMES:
        return await remind_start(update, context)
    result = plans.due_for(flow["scheme"], flow.get("city"), last=found.date, today=today,
                           day_assumed=found.day_assumed)
    flow.update(last=found.date.isoformat(), due=result.due.isoformat(),
                day_assumed=found.day_assumed)
    return await _ask(update, context, LABEL)


async def label_button(update: Update, context: BotContext) -> int:
    query = update.callback_query
    index = callback_index(query.data, 2, len(plans.LABEL_CHOICES))
    if index is None:
        await answer_query(query, INVALID_BUTTON)
        return await _ask(update, context, LABEL)
    await answer_query(query)
    label = plans.LABEL_CHOICES[index]
    return await _confirm(update, context, label)


async def label_typed(update: Update, context: BotContext) -> int:
    try:
        label = plans.clean_label(redact(update.effective_message.text))
    except plans.ReminderError as exc:
        await prompt(update, context, str(exc), with_nav(_label_keyboard(), NAV))
        return LABEL
    return await _confirm(update, context, label)


async def _confirm(update: Update, context: BotContext, label: str) -> int:
    """Show what will be saved: due date and plan; wait for 确认."""
    svc = context.services
    flow = _flow(context)
    if not {"scheme", "due", "last"} <= set(flow):
        await update.effective_message.reply_text(FLOW_EXPIRED)
        return ConversationHandler.END
    flow["label"] = label
    now = svc.clock.now()
    today = plans.china(now).date()
    due, last = dt.date.fromisoformat(flow["due"]), dt.date.fromisoformat(flow["last"])
    rule = rule_for(flow["scheme"], flow.get("city"))
    slots = [s for s in plans.plan(due) if s.at > plans.china(now)]
    lines = [
        "请确认：",
        f"· 提醒对象：{label}",
        f"· 待遇：{SCHEMES[flow['scheme']].name}",
        f"· 地区：{place_name(flow.get('city'))}",
        f"· 上次认证：{cn_date(last)}" + ("（只知道月份，按1号算）" if flow.get("day_assumed")
                                       else ""),
        f"· 下次请在{cn_date(due)}之前办好（{days_words(due, today)}）",
        "",  # the rule and the plan below the first screen
        f"按{rule.label}：{rule.rule.describe()}",
    ]
    if due < today:
        lines.append("已经过了截止日期，请尽快补认证；办好后在 /myreminders 里点“我已认证”，"
                     "我按新的日期提醒。")
    lines.append(plan_text(slots))
    existing = [r for r in rm.user_reminders(svc.db, update.effective_user.id)
                if r.label == label]
    if existing:
        lines.append(f"（会替换您之前给“{label}”设的提醒）")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("✅ 确认", callback_data="rmf:ok"),
                                    InlineKeyboardButton("❌ 取消", callback_data="rmf:no")],
                                   [nav_row(NAV)[0]]])
    await prompt(update, context, "\n".join(lines), markup)
    return CONFIRM


async def confirmed(update: Update, context: BotContext) -> int:
    query = update.callback_query
    svc = context.services
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
    except plans.ReminderError as exc:
        await query.message.reply_text(str(exc), reply_markup=main_keyboard())
        return ConversationHandler.END
    upcoming = reminder.upcoming(now)
    first = (f"第一次提醒在{cn_date(upcoming[0].day)}上午9点。" if upcoming else "")
    await query.message.reply_text(
        f"设置好了！{first}\n发 /myreminders 可以查看、修改或删除，发 /stop 停止全部提醒。",
        reply_markup=main_keyboard())
    return ConversationHandler.END


async def declined(update: Update, context: BotContext) -> int:
    query = update.callback_query
    await answer_query(query)
    return await finish(update, context, "好的，没有设置。需要时再发 /remind。", cleanup=_cleanup)


async def cancel(update: Update, context: BotContext) -> int:
    return await finish(update, context, cleanup=_cleanup)


async def stale_flow_button(update: Update, context: BotContext) -> None:
    """A flow button pressed after the flow ended (or after a restart)."""
    await answer_query(update.callback_query, FLOW_EXPIRED, alert=True)


ASKS_FOR_REMINDER = text_filter(asks_for_reminder, "asks_for_reminder")


def remind_conversation() -> ConversationHandler:
    private = filters.ChatType.PRIVATE
    private_text = private & filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[
            CommandHandler("remind", remind_start, filters=private),
            # The 设置提醒 button, or a request typed in words (提醒我认证, 到时候提醒我一下).
            MessageHandler(private & filters.TEXT & ~filters.COMMAND & ASKS_FOR_REMINDER,
                           remind_start),
            CallbackQueryHandler(remind_from_button, pattern=f"^{REMIND_START}$"),
        ],
        states=add_navigation({
            SCHEME: [CallbackQueryHandler(scheme_given, pattern=r"^rmf:s:"),
                     MessageHandler(private_text & steps.SCHEME_TEXT, scheme_given)],
            CITY: [CallbackQueryHandler(city_button, pattern=r"^rmf:city:"),
                   MessageHandler(private_text, city_typed)],
            LAST_DATE: [CallbackQueryHandler(date_given, pattern=r"^rmf:d:saved$"),
                         MessageHandler(private_text, date_given)],
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
