"""/deadline: a guided conversation (scheme → city → last certification date) ending in the
calculator's answer; and /city, which changes the remembered place."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.db.questions import record_question
from bot.db.users import set_user_profile
from bot.deadline.calculator import compute_deadline
from bot.deadline.chat import deadline_card
from bot.deadline.divisions import Region
from bot.deadline.place_names import lookup_region
from bot.deadline.regions import rule_for
from bot.deadline.schemes import SCHEMES
from bot.qa.places import place_key
from bot.tg import steps, texts
from bot.tg.callbacks import answer_query
from bot.tg.context import BotContext
from bot.tg.flow import (
    add_navigation,
    clear_prompt,
    finish,
    forget,
    offer_close_places,
    prompt,
    said,
    with_nav,
)
from bot.tg.keyboards import deadline_card_keyboard
from bot.tg.sending import send_text

SCHEME, CITY, LAST_DATE = range(3)
CITY_ONLY = 10

ASK_SCHEME = "您（或家人）领的是哪一种待遇？请点下面的按钮。"
ASK_CITY = "在哪个城市领取待遇？请直接打城市名（例如：锦州、广州），不确定可以点“跳过”。"
ASK_DATE = (
    "上次认证是哪一天？可以这样写：2025年3月10日、2025.3.10、去年3月10号、上个月15号。\n"
    "不记得的话发“不知道”。"
)
REGION_KEY, SCHEME_KEY = "deadline_region", "deadline_scheme"
NAV, CITY_NAV = "dl", "city"
STEPS = steps.Steps(nav=NAV, city="dl:", ask_scheme=ASK_SCHEME, ask_city=ASK_CITY,
                    ask_date=ASK_DATE)
_STEP_OF = {SCHEME: steps.SCHEME, CITY: steps.CITY, LAST_DATE: steps.DATE}


_cleanup = forget(REGION_KEY, SCHEME_KEY, STEPS.early_city)


async def _ask(update: Update, context: BotContext, state: object,
               lead: str = "") -> int:
    """Ask one step of /deadline (again), with 上一步 · 取消 under it."""
    await STEPS.ask(update, context, _STEP_OF.get(state, steps.DATE), lead)
    return state  # type: ignore[return-value]


async def deadline_start(update: Update, context: BotContext) -> int:
    """Begin: ask for the scheme (a remembered one is offered first)."""
    _cleanup(context)
    return await _ask(update, context, SCHEME)


async def scheme_given(update: Update, context: BotContext) -> int:
    """The scheme, pressed or typed: on to the city (the date, when the city came first)."""
    answer = await STEPS.scheme_answer(update, context)
    if answer is None:
        return SCHEME
    key, region, lead = answer
    context.user_data[SCHEME_KEY] = key
    if region is not None:
        context.user_data[REGION_KEY] = place_key(region)
    return await _ask(update, context, CITY if region is None else LAST_DATE, lead)


async def city_typed(update: Update, context: BotContext) -> int:
    """The city as text: look it up; a typo gets the closest names as buttons; unknown places
    fall back to the national rule."""
    text = update.effective_message.text.strip()
    found = await STEPS.typed_city(update, context, text)
    context.user_data[REGION_KEY] = place_key(found) if isinstance(found, Region) else None
    if found == steps.OFFERED:
        return CITY
    if found == steps.SKIPPED:
        lead = ""
    elif found == steps.UNKNOWN:
        lead = texts.CITY_UNKNOWN.format(place=said(text)) + "\n"
    else:
        lead = f"好的：{found.display}。\n"
    return await _ask(update, context, LAST_DATE, lead)


async def city_button(update: Update, context: BotContext) -> int:
    """跳过, 用 <saved city>, or a close name offered for a typo."""
    city = await STEPS.city_button(update, context)
    context.user_data[REGION_KEY] = city
    region = lookup_region(city) if city else None
    lead = f"好的：{region.display}。\n" if region else "好的，先按全国通用规则算。\n"
    return await _ask(update, context, LAST_DATE, lead)


async def date_given(update: Update, context: BotContext) -> int:
    """The last certification date (typed, or 用 <the date given last time>): compute and
    answer, or ask again politely."""
    svc = context.services
    today = svc.clock.today()
    found = await STEPS.date_answer(update, context, today)
    if found is None or found.date is None:
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


async def cancel(update: Update, context: BotContext) -> int:
    """/cancel: leave any guided flow."""
    return await finish(update, context, cleanup=_cleanup)


async def city_start(update: Update, context: BotContext) -> int:
    """/city [名字]: set the remembered place directly or ask for it."""
    if context.args:
        return await _set_city(update, context, " ".join(context.args))
    return await _ask_city_only(update, context, CITY_ONLY)


async def _ask_city_only(update: Update, context: BotContext,
                         _state: object = None) -> int:
    await prompt(update, context, texts.CITY_ASK, with_nav(None, CITY_NAV))
    return CITY_ONLY


async def city_only_typed(update: Update, context: BotContext) -> int:
    """The answer to /city."""
    return await _set_city(update, context, update.effective_message.text)


async def city_only_button(update: Update, context: BotContext) -> int:
    """A close name offered for a typo, or 跳过 (keep the city as it was)."""
    query = update.callback_query
    await answer_query(query)
    data = query.data or ""
    if data.startswith("city:c:"):
        return await _set_city(update, context, data[len("city:c:"):])
    return await finish(update, context, "好的，地区没有改。")


async def _set_city(update: Update, context: BotContext, text: str) -> int:
    db = context.services.db
    user_id = update.effective_user.id
    text = text.strip()
    if any(word in text for word in steps.SKIP_WORDS):
        set_user_profile(db, user_id, clear_city=True)
        return await finish(update, context, texts.CITY_CLEARED)
    region = lookup_region(text)
    if region is None:
        if await offer_close_places(update, context, text, prefix="city:c:", skip="city:skip",
                                    nav=CITY_NAV):
            return CITY_ONLY
        await clear_prompt(context)
        await update.effective_message.reply_text(texts.CITY_UNKNOWN.format(place=said(text)))
        return ConversationHandler.END
    set_user_profile(db, user_id, city=place_key(region))
    return await finish(update, context, texts.CITY_SET.format(place=region.display))


def deadline_conversation() -> ConversationHandler:
    """The /deadline flow, also started by the 什么时候认证 button."""
    private_text = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
    states = add_navigation({
        SCHEME: [CallbackQueryHandler(scheme_given, pattern=r"^dl:s:"),
                 MessageHandler(private_text & steps.SCHEME_TEXT, scheme_given)],
        CITY: [CallbackQueryHandler(city_button, pattern=r"^dl:(skip|saved|c:.+)$"),
               MessageHandler(private_text, city_typed)],
        LAST_DATE: [CallbackQueryHandler(date_given, pattern=r"^dl:d:saved$"),
                    MessageHandler(private_text, date_given)],
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
        allow_reentry=True,
    )
