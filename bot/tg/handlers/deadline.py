"""/deadline: a guided conversation (scheme → city → last certification date) ending in the
calculator's answer; and /city, which changes the remembered place."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.db.questions import record_question
from bot.db.users import get_user, set_user_profile
from bot.deadline.chat import deadline_card
from bot.deadline.regions import lookup_region, rule_for
from bot.deadline.rules import compute_deadline
from bot.deadline.schemes import SCHEMES
from bot.text.dates import DateParseError, parse_date_match
from bot.tg import texts
from bot.tg.callbacks import answer_query
from bot.tg.context import services
from bot.tg.flow import (
    add_navigation,
    clear_prompt,
    finish,
    offer_close_places,
    prompt,
    saved_date_keyboard,
    saved_date_text,
    with_nav,
)
from bot.tg.keyboards import (
    city_keyboard,
    deadline_card_keyboard,
    scheme_keyboard,
)
from bot.tg.sending import send_text

SCHEME, CITY, LAST_DATE = range(3)
CITY_ONLY = 10
SKIP_WORDS = ("跳过", "不设置", "不知道", "全国", "skip")
UNKNOWN_DATE_WORDS = ("不知道", "不记得", "忘了", "记不清")

ASK_SCHEME = "您（或家人）领的是哪一种待遇？请点下面的按钮。"
ASK_CITY = "在哪个城市领取待遇？请直接打城市名（例如：锦州、广州），不确定可以点“跳过”。"
ASK_DATE = (
    "上次认证是哪一天？可以这样写：2025年3月10日、2025.3.10、去年3月10号、上个月15号。\n"
    "不记得的话发“不知道”。"
)
HOW_TO_FIND_DATE = (
    "上次认证日期可以这样查：\n"
    "1. 翻一翻手机短信，认证成功后很多地方会收到12333的短信；\n"
    "2. 打开认证用过的APP（如掌上12333、电子社保卡、当地人社APP），一般能看到认证记录；\n"
    "3. 拨打12333，或到社区、社保经办机构询问。\n"
    "查到后把日期发给我就行，或者发“算了”先不弄了。"
)
REGION_KEY, SCHEME_KEY = "deadline_region", "deadline_scheme"
NAV, CITY_NAV = "dl", "city"


def _saved(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> dict:
    return get_user(services(context).db, user_id) or {}


def _cleanup(context: ContextTypes.DEFAULT_TYPE) -> None:
    context.user_data.pop(REGION_KEY, None)
    context.user_data.pop(SCHEME_KEY, None)


async def _ask(update: Update, context: ContextTypes.DEFAULT_TYPE, state: object,
               lead: str = "") -> int:
    """Ask one step of /deadline (again), with 上一步 · 取消 under it."""
    user = _saved(context, update.effective_user.id)
    if state == SCHEME:
        await prompt(update, context, lead + ASK_SCHEME,
                     with_nav(scheme_keyboard("dl:s:", user.get("scheme")), NAV))
    elif state == CITY:
        await prompt(update, context, lead + ASK_CITY,
                     with_nav(city_keyboard(user.get("city"), skip="dl:skip", saved="dl:saved"),
                              NAV))
    else:
        await prompt(update, context, lead + ASK_DATE,
                     with_nav(saved_date_keyboard(user.get("last_date"), "dl:d:saved"), NAV))
    return state  # type: ignore[return-value]


async def deadline_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Begin: ask for the scheme (a remembered one is offered first)."""
    _cleanup(context)
    return await _ask(update, context, SCHEME)


async def scheme_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """A scheme button: remember it and ask for the city."""
    query = update.callback_query
    key = (query.data or "").rsplit(":", 1)[-1]
    await answer_query(query)
    if key not in SCHEMES:
        return await _ask(update, context, SCHEME)
    context.user_data[SCHEME_KEY] = key
    return await _ask(update, context, CITY, f"好的：{SCHEMES[key].name}。\n")


async def city_typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """The city as text: look it up; a typo gets the closest names as buttons; unknown places
    fall back to the national rule."""
    text = update.effective_message.text.strip()
    lead = ""
    if any(word in text for word in SKIP_WORDS):
        context.user_data[REGION_KEY] = None
    else:
        region = lookup_region(text)
        context.user_data[REGION_KEY] = region.short if region else None
        if region is None:
            if await offer_close_places(update, context, text, prefix="dl:c:", skip="dl:skip",
                                        nav=NAV):
                return CITY
            lead = texts.CITY_UNKNOWN.format(place=text[:20]) + "\n"
        else:
            lead = f"好的：{region.display}。\n"
    return await _ask(update, context, LAST_DATE, lead)


async def city_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """跳过, 用 <saved city>, or a close name offered for a typo."""
    query = update.callback_query
    await answer_query(query)
    data = query.data or ""
    if data.startswith("dl:c:"):
        region = lookup_region(data[len("dl:c:"):])
        city = region.short if region else None
    elif data == "dl:saved":
        city = _saved(context, update.effective_user.id).get("city")
    else:
        city = None
    context.user_data[REGION_KEY] = city
    region = lookup_region(city) if city else None
    lead = f"好的：{region.display}。\n" if region else "好的，先按全国通用规则算。\n"
    return await _ask(update, context, LAST_DATE, lead)


async def date_typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """The last certification date: compute and answer, or ask again politely."""
    return await _date_given(update, context, update.effective_message.text.strip())


async def date_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """用 <the date given last time>."""
    await answer_query(update.callback_query)
    saved = _saved(context, update.effective_user.id).get("last_date")
    if not saved_date_text(saved):
        return await _ask(update, context, LAST_DATE)
    return await _date_given(update, context, saved_date_text(saved))


async def _date_given(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> int:
    svc = services(context)
    today = svc.clock.today()
    if any(word in text for word in UNKNOWN_DATE_WORDS):
        await update.effective_message.reply_text(HOW_TO_FIND_DATE)
        return LAST_DATE
    try:
        found = parse_date_match(text, today)
    except DateParseError as exc:
        await update.effective_message.reply_text(str(exc))
        return LAST_DATE
    if found.date is None or found.date > today:
        await update.effective_message.reply_text(
            "这个日期还没到呢，请发上一次已经完成认证的日期。")
        return LAST_DATE
    scheme = context.user_data.get(SCHEME_KEY)
    if scheme not in SCHEMES:
        return await deadline_start(update, context)
    region = context.user_data.get(REGION_KEY)
    result = compute_deadline(rule_for(scheme, region), today=today, last=found.date,
                              day_assumed=found.day_assumed)
    user_id = update.effective_user.id
    set_user_profile(svc.db, user_id, scheme=scheme, city=region, last_date=found.date)
    question_id = record_question(
        svc.db, at=svc.clock.now(), chat_id=update.effective_chat.id, chat_type="private",
        user_id=user_id, text=f"/deadline {scheme} {region or ''}", kind="deadline",
        entry_id="next-due-how", score=1.0, question_id=svc.question_ids.take())
    await clear_prompt(context)
    await send_text(context.bot, update.effective_chat.id, deadline_card(result),
                    reply_markup=deadline_card_keyboard(result.status == "overdue", question_id))
    return ConversationHandler.END


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/cancel: leave any guided flow."""
    return await finish(update, context, cleanup=_cleanup)


async def city_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/city [名字]: set the remembered place directly or ask for it."""
    if context.args:
        return await _set_city(update, context, " ".join(context.args))
    return await _ask_city_only(update, context, CITY_ONLY)


async def _ask_city_only(update: Update, context: ContextTypes.DEFAULT_TYPE,
                         _state: object = None) -> int:
    await prompt(update, context, texts.CITY_ASK, with_nav(None, CITY_NAV))
    return CITY_ONLY


async def city_only_typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """The answer to /city."""
    return await _set_city(update, context, update.effective_message.text)


async def city_only_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """A close name offered for a typo, or 跳过 (keep the city as it was)."""
    query = update.callback_query
    await answer_query(query)
    data = query.data or ""
    if data.startswith("city:c:"):
        return await _set_city(update, context, data[len("city:c:"):])
    return await finish(update, context, "好的，地区没有改。")


async def _set_city(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> int:
    db = services(context).db
    user_id = update.effective_user.id
    text = text.strip()
    if any(word in text for word in SKIP_WORDS):
        set_user_profile(db, user_id, clear_city=True)
        return await finish(update, context, texts.CITY_CLEARED)
    region = lookup_region(text)
    if region is None:
        if await offer_close_places(update, context, text, prefix="city:c:", skip="city:skip",
                                    nav=CITY_NAV):
            return CITY_ONLY
        await clear_prompt(context)
        await update.effective_message.reply_text(texts.CITY_UNKNOWN.format(place=text[:20]))
        return ConversationHandler.END
    set_user_profile(db, user_id, city=region.short)
    return await finish(update, context, texts.CITY_SET.format(place=region.display))


def deadline_conversation() -> ConversationHandler:
    """The /deadline flow, also started by the 什么时候认证 button."""
    private_text = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
    states = add_navigation({
        SCHEME: [CallbackQueryHandler(scheme_chosen, pattern=r"^dl:s:")],
        CITY: [CallbackQueryHandler(city_button, pattern=r"^dl:(skip|saved|c:.+)$"),
               MessageHandler(private_text, city_typed)],
        LAST_DATE: [CallbackQueryHandler(date_button, pattern=r"^dl:d:saved$"),
                    MessageHandler(private_text, date_typed)],
    }, prefix=NAV, order=(SCHEME, CITY, LAST_DATE), ask=_ask, start=deadline_start,
        cleanup=_cleanup)
    return ConversationHandler(
        entry_points=[
            CommandHandler("deadline", deadline_start, filters=filters.ChatType.PRIVATE),
            MessageHandler(filters.ChatType.PRIVATE & filters.Regex(f"^{texts.BUTTON_WHEN}$"),
                           deadline_start),
        ],
        states=states,
        fallbacks=[CommandHandler("cancel", cancel)],
        name="deadline",
        conversation_timeout=30 * 60,
        allow_reentry=True,
    )


def city_conversation() -> ConversationHandler:
    """/city."""
    private_text = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
    states = add_navigation({
        CITY_ONLY: [CallbackQueryHandler(city_only_button, pattern=r"^city:(skip|c:.+)$"),
                    MessageHandler(private_text, city_only_typed)],
    }, prefix=CITY_NAV, order=(CITY_ONLY,), ask=_ask_city_only, start=_ask_city_only)
    return ConversationHandler(
        entry_points=[CommandHandler("city", city_start, filters=filters.ChatType.PRIVATE)],
        states=states,
        fallbacks=[CommandHandler("cancel", cancel)],
        name="city",
        conversation_timeout=30 * 60,
    )
