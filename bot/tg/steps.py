"""The steps /deadline and /remind both ask: which benefit (scheme) → which city → the last
certification date. Each flow keeps its own words, button data and what it does with the
answers; asking, reading a button and reading a typed city or date happen here once.
"""

from __future__ import annotations

import datetime as dt

from telegram import InlineKeyboardMarkup, Update

from bot.db.users import get_user
from bot.deadline.divisions import Region
from bot.deadline.place_names import find_region_in_text, lookup_region
from bot.deadline.schemes import HOW_TO_TELL, SCHEMES, find_scheme, unsure_of_scheme
from bot.qa.places import only_a_place, place_key
from bot.qa.safety import redact
from bot.text.dates import DateMatch, DateParseError, parse_date_match
from bot.text.normalize import normalize
from bot.tg.callbacks import answer_query
from bot.tg.context import BotContext
from bot.tg.flow import offer_close_places, prompt, saved_date_keyboard, saved_date_text, with_nav
from bot.tg.keyboards import city_keyboard, scheme_keyboard
from bot.tg.text_filters import text_filter

SKIP_WORDS = ("跳过", "不设置", "不知道", "全国", "skip")
UNKNOWN_DATE_WORDS = ("不知道", "不记得", "忘了", "记不清")
HOW_TO_FIND_DATE = (
    "上次认证日期可以这样查：\n"
    "1. 翻一翻手机短信，认证成功后很多地方会收到12333的短信；\n"
    "2. 打开认证用过的APP（如掌上12333、电子社保卡、当地人社APP），一般能看到认证记录；\n"
    "3. 拨打12333，或到社区、社保经办机构询问。\n"
    "查到后把日期发给我就行，或者发“算了”先不弄了。"
)
FUTURE_DATE = "这个日期还没到呢，请发上一次已经完成认证的日期。"
PICK_SCHEME = "点下面的按钮选一种，直接打字（如“企业退休”）也行。"
CITY_KEPT = "好的，城市记下了：{place}。先选一下待遇类型，{pick}"

# The steps, as `Steps.ask` names them.
SCHEME, CITY, DATE = "scheme", "city", "date"
# What a typed city can be besides a place: a skip word, a typo answered with close names
# as buttons, or nothing known.
SKIPPED, OFFERED, UNKNOWN = "skipped", "offered", "unknown"


def _place_alone(text: str) -> Region | None:
    """The place when a message is only that (锦州, 在锦州, 我爸在锦州那边)."""
    return only_a_place(normalize(text))


def _scheme_step_text(text: str) -> bool:
    """What a typed message can say where the scheme is asked: a scheme (企业退休), that the
    writer does not know which (不知道), or the city ahead of time (锦州)."""
    return bool(find_scheme(text) or unsure_of_scheme(text, asked=True) or _place_alone(text))


# Typed text the scheme step reads; anything else (a question) goes on to the answering.
SCHEME_TEXT = text_filter(_scheme_step_text, "scheme_step_text")


def saved_profile(context: BotContext, user_id: int) -> dict:
    """What the user gave last time (scheme, city, last date, whose pension), or {}."""
    return get_user(context.services.db, user_id) or {}


class Steps:
    """One flow's scheme → city → date steps: its questions and its button data.

    Buttons: `<nav>:s:<scheme>`; `<city>skip`, `<city>saved`, `<city>c:<name>`;
    `<nav>:d:saved`; and 上一步 · 取消 as `<nav>:nav:…` (bot.tg.flow).
    """

    def __init__(self, *, nav: str, city: str, ask_scheme: str, ask_city: str,
                 ask_date: str) -> None:
        self.nav = nav
        self.ask_scheme, self.ask_city, self.ask_date = ask_scheme, ask_city, ask_date
        self.skip, self.saved, self.close = f"{city}skip", f"{city}saved", f"{city}c:"
        self.date_saved = f"{nav}:d:saved"
        self.early_city = f"{nav}:early_city"  # user_data: a city typed at the scheme step

    def city_keyboard(self, saved_city: str | None) -> InlineKeyboardMarkup:
        """跳过 (and 用 <city>), with 上一步 · 取消."""
        return with_nav(city_keyboard(saved_city, skip=self.skip, saved=self.saved), self.nav)

    def scheme_keyboard(self, saved_scheme: str | None) -> InlineKeyboardMarkup:
        """One button per scheme (the remembered one first), with 上一步 · 取消."""
        return with_nav(scheme_keyboard(f"{self.nav}:s:", saved_scheme), self.nav)

    async def ask(self, update: Update, context: BotContext, step: str,
                  lead: str = "") -> None:
        """Ask one step (again), offering what the user gave last time."""
        saved = saved_profile(context, update.effective_user.id)
        if step == SCHEME:
            await prompt(update, context, lead + self.ask_scheme,
                         self.scheme_keyboard(saved.get("scheme")))
        elif step == CITY:
            await prompt(update, context, lead + self.ask_city,
                         self.city_keyboard(saved.get("city")))
        else:
            await prompt(update, context, lead + self.ask_date, with_nav(
                saved_date_keyboard(saved.get("last_date"), self.date_saved), self.nav))

    async def scheme_button(self, update: Update) -> str | None:
        """The scheme a button chose, or None for one we do not know."""
        query = update.callback_query
        key = (query.data or "").rsplit(":", 1)[-1]
        await answer_query(query)
        return key if key in SCHEMES else None

    async def scheme_answer(self, update: Update, context: BotContext
                            ) -> tuple[str, Region | None, str] | None:
        """The scheme, pressed or typed, with the city typed along or ahead of its step (then
        skipped) and the lead of the next question; None once the scheme has been asked again
        (a stale button, 不知道 answered with how to tell, a city kept for later)."""
        if update.callback_query is not None:
            key = await self.scheme_button(update)
        else:
            key = await self._typed_scheme(update, context)
        if key is None:
            if update.callback_query is not None:
                await self.ask(update, context, SCHEME)
            return None
        name = context.user_data.pop(self.early_city, None)
        region = lookup_region(name) if name else None
        lead = f"好的：{SCHEMES[key].name}，{region.display}。\n" if region \
            else f"好的：{SCHEMES[key].name}。\n"
        return key, region, lead

    async def _typed_scheme(self, update: Update, context: BotContext) -> str | None:
        """A scheme typed instead of pressed (企业退休), or None after answering the text."""
        text = update.effective_message.text.strip()
        key = find_scheme(text)
        if key is not None:
            region = find_region_in_text(text)  # 锦州企业退休: the city too
            if region is not None:
                context.user_data[self.early_city] = place_key(region)
            return key
        saved = saved_profile(context, update.effective_user.id).get("scheme")
        if unsure_of_scheme(text, asked=True):
            lead = f"{HOW_TO_TELL}\n\n{PICK_SCHEME}"
        else:
            region = _place_alone(text)
            if region is None:  # the filter lets only the three kinds of text through
                return None
            context.user_data[self.early_city] = place_key(region)
            lead = CITY_KEPT.format(place=region.display, pick=PICK_SCHEME)
        await prompt(update, context, lead, self.scheme_keyboard(saved))
        return None

    async def city_button(self, update: Update, context: BotContext
                          ) -> str | None:
        """跳过 (None), 用 <saved city>, or a close name offered for a typo."""
        query = update.callback_query
        await answer_query(query)
        data = query.data or ""
        if data.startswith(self.close):
            region = lookup_region(data[len(self.close):])
            return region.short if region else None
        if data == self.saved:
            return saved_profile(context, update.effective_user.id).get("city")
        return None

    async def typed_city(self, update: Update, context: BotContext,
                         text: str) -> Region | str:
        """The place typed, or SKIPPED, OFFERED (close names are shown) or UNKNOWN."""
        if any(word in text for word in SKIP_WORDS):
            return SKIPPED
        region = lookup_region(text)
        if region is not None:
            return region
        if await offer_close_places(update, context, text, prefix=self.close, skip=self.skip,
                                    nav=self.nav):
            return OFFERED
        return UNKNOWN

    async def date_answer(self, update: Update, context: BotContext,
                          today: dt.date) -> DateMatch | None:
        """The last certification date, typed or 用 <the date given last time>; None once the
        user has been told why not, or asked again when there is no saved date after all."""
        if update.callback_query is None:
            return await _last_date(update, update.effective_message.text.strip(), today)
        await answer_query(update.callback_query)
        saved = saved_date_text(saved_profile(context, update.effective_user.id).get("last_date"))
        if not saved:
            await self.ask(update, context, DATE)
            return None
        return await _last_date(update, saved, today)


async def _last_date(update: Update, text: str, today: dt.date) -> DateMatch | None:
    """The last certification date in `text`; None after telling the user why not (how to
    find it, what we could not read, or that it lies ahead)."""
    message = update.effective_message
    if any(word in text for word in UNKNOWN_DATE_WORDS):
        await message.reply_text(HOW_TO_FIND_DATE)
        return None
    try:
        found = parse_date_match(text, today)
    except DateParseError as exc:
        await message.reply_text(redact(str(exc)))
        return None
    if found.date is None or found.date > today:
        await message.reply_text(FUTURE_DATE)
        return None
    return found
