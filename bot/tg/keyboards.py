"""Keyboards: the large reply keyboard and the inline buttons under answers."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from bot.deadline.schemes import SCHEMES
from bot.qa.answers import Reply
from bot.tg import texts

MAX_BUTTON_CHARS = 60
MAX_CALLBACK_BYTES = 64


def main_keyboard() -> ReplyKeyboardMarkup:
    """Big buttons for the most common needs (old eyes, big thumbs)."""
    rows = [
        [KeyboardButton(texts.BUTTON_HOW), KeyboardButton(texts.BUTTON_WHEN)],
        [KeyboardButton(texts.BUTTON_FAMILY), KeyboardButton(texts.BUTTON_MISSED)],
        [KeyboardButton(texts.BUTTON_REMIND)],
    ]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True)


def _short(text: str) -> str:
    return text if len(text) <= MAX_BUTTON_CHARS else text[: MAX_BUTTON_CHARS - 1] + "…"


def answer_keyboard(reply: Reply, question_id: int | None) -> InlineKeyboardMarkup | None:
    """Buttons under a reply: go deeper, pick the place, related topics, 有用 / 没用.

    Under an answer the runners-up are "您可能还想问"; under an unsure reply or a decline they
    are the closest topics. Every topic button opens that topic's answer directly.
    """
    rows: list[list[InlineKeyboardButton]] = []
    if reply.detail and reply.id:  # the rest of this answer, in place
        rows.append([InlineKeyboardButton("详细", callback_data=_more_data(reply.id, _key(reply)))])
    deeper = [InlineKeyboardButton(label, callback_data=_topic_data(target, _key(reply)))
              for label, target in reply.buttons]
    rows += [deeper[i:i + 2] for i in range(0, len(deeper), 2)]
    if reply.place_choices and reply.id:
        keys = reply.choice_keys or reply.place_choices
        rows.append([InlineKeyboardButton(f"按{place}回答", callback_data=f"plc:{reply.id}:{key}")
                     for place, key in zip(reply.place_choices, keys, strict=False)])
    shown = {target for _, target in reply.buttons}
    rows += [[InlineKeyboardButton(_short(title), callback_data=_topic_data(entry_id, _key(reply)))]
             for entry_id, title in zip(reply.suggestion_ids, reply.suggestions, strict=False)
             if entry_id not in shown]
    last: list[InlineKeyboardButton] = []
    if reply.kind in ("answer", "deadline") and question_id is not None:
        last += _feedback_row(question_id)
    if reply.kind == "answer" and reply.id:  # the links behind "依据：…"
        last.append(InlineKeyboardButton("来源", callback_data=f"src:{reply.id}"))
    if last:
        rows.append(last)
    return InlineKeyboardMarkup(rows) if rows else None


def _key(reply: Reply) -> str:
    """The reply's place as button data carries it (never a name two places share)."""
    return reply.place_key or reply.place


def _topic_data(entry_id: str, place: str, prefix: str = "sug") -> str:
    """sug:<id>, with the place the question named when it fits Telegram's 64 bytes."""
    data = f"{prefix}:{entry_id}:{place}" if place else f"{prefix}:{entry_id}"
    return data if len(data.encode()) <= MAX_CALLBACK_BYTES else f"{prefix}:{entry_id}"


def _more_data(entry_id: str, place: str) -> str:
    return _topic_data(entry_id, place, prefix="more")


def without_more(markup: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    """The same buttons without 详细, once the whole answer is shown."""
    rows = [row for row in (markup.inline_keyboard if markup else ())
            if not any((b.callback_data or "").startswith("more:") for b in row)]
    return InlineKeyboardMarkup(rows) if rows else None


def feedback_keyboard(question_id: int) -> InlineKeyboardMarkup:
    """有用 / 没用 alone, under a reply that offers nothing else."""
    return InlineKeyboardMarkup([_feedback_row(question_id)])


def _feedback_row(question_id: int) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton("👍 有用", callback_data=f"fb:{question_id}:1"),
            InlineKeyboardButton("👎 没用", callback_data=f"fb:{question_id}:0")]


# What a remembered scheme is called on its "用 …" button: the words people use.
SCHEME_WORDS = {"enterprise": "企业退休", "institution": "机关事业退休", "resident": "城乡居民养老",
                "survivor": "遗属待遇", "injury": "工伤待遇"}


def scheme_keyboard(prefix: str, saved: str | None = None) -> InlineKeyboardMarkup:
    """One big button per kind of benefit; callback data is `prefix` + scheme key.

    With a remembered scheme, "用 企业退休" comes first."""
    rows = [[InlineKeyboardButton(s.name, callback_data=f"{prefix}{s.key}")]
            for s in SCHEMES.values()]
    if saved in SCHEMES:
        word = SCHEME_WORDS.get(saved, SCHEMES[saved].short)
        rows.insert(0, [InlineKeyboardButton(f"用 {word}", callback_data=f"{prefix}{saved}")])
    return InlineKeyboardMarkup(rows)


def city_keyboard(saved_city: str | None, *, skip: str, saved: str) -> InlineKeyboardMarkup:
    """跳过, and 用 <city> when the user has a remembered city."""
    buttons = [InlineKeyboardButton("跳过", callback_data=skip)]
    if saved_city:
        buttons.insert(0, InlineKeyboardButton(f"用 {saved_city}", callback_data=saved))
    return InlineKeyboardMarkup([buttons])


def place_guess_keyboard(names: list[str], *, prefix: str, skip: str) -> InlineKeyboardMarkup:
    """"您是说锦州吗？": one button per close name (data `prefix` + name), then 跳过."""
    rows = [[InlineKeyboardButton(name, callback_data=f"{prefix}{name}") for name in names]]
    return InlineKeyboardMarkup([*rows, [InlineKeyboardButton("跳过", callback_data=skip)]])


REMIND_START = "rmf:start"  # 设提醒 under a deadline card: starts /remind


def deadline_card_keyboard(overdue: bool, question_id: int | None) -> InlineKeyboardMarkup:
    """Under a deadline card: 怎么认证 · 设提醒 (· 错过了怎么补 when overdue), then 有用 / 没用."""
    rows = [[InlineKeyboardButton("怎么认证", callback_data="sug:how-to-certify"),
             InlineKeyboardButton("设提醒", callback_data=REMIND_START)]]
    if overdue:
        rows.append([InlineKeyboardButton("错过了怎么补", callback_data="sug:missed-makeup")])
    if question_id is not None:
        rows.append(_feedback_row(question_id))
    return InlineKeyboardMarkup(rows)
