"""Turning a user's message into the reply the bot sends: the one place the bot and
`python -m bot ask` share.

Order: safety warnings first, then the deadline calculator when the message gives a scheme or
a date, then the knowledge base: answer, "did you mean…" suggestions, or a polite decline.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from bot.deadline.chat import DeadlineReply, reply_to_deadline_question
from bot.deadline.divisions import Region
from bot.deadline.schemes import HOW_TO_TELL, unsure_of_scheme
from bot.qa.about_bot import BOT_CANNOT_CERTIFY, NEXT_TOPICS, asks_bot_to_certify
from bot.qa.decision import OOS_PREFIX, SUGGEST_AT
from bot.qa.engine import Engine
from bot.qa.entries import OVERVIEW_TAG, Entry
from bot.qa.issuers import issuer_line
from bot.qa.knowledge import KnowledgeBase
from bot.qa.matcher import MatchResult
from bot.qa.places import PlaceReading, only_a_place, place_key, read_place
from bot.qa.safety import check_message, redact, warnings_for
from bot.text.normalize import normalize, strip_non_words

DEADLINE_ENTRY = "next-due-how"
# Topics about when and how often: a city's own cycle (武汉's calendar year) leads their reply.
CYCLE_TAGS = frozenset({"deadline", "schemes"})
# Entries about timing, which a calculation from the user's own date answers better.
TIMING_ENTRIES = frozenset({DEADLINE_ENTRY, "how-often", "fixed-date", "new-retiree",
                            "missed-consequence", "certified-already"})
CALCULATOR_YIELDS_AT = 0.8
# How sure the bot is of what a message that only names a place asks: too unsure for a group's
# auto-answer (bot/tg/handlers/chat.py), where 我在郑州 is chat, not a question.
PLACE_ONLY_SCORE = 0.5
LOCAL_RULES_NOTE = "各地规定不完全一样，具体以当地社保经办机构的规定为准。"
CAN_HELP_WITH = (
    "我可以帮您解答养老金资格认证的问题，比如：\n"
    "• 怎么在手机上认证、怎么帮家里老人认证\n"
    "• 多久认证一次、下次什么时候到期\n"
    "• 刷脸失败、错过认证、停发补发怎么办\n"
    "• 在外地或国外怎么认证，线下去哪里办\n"
    "其他社保问题可以拨打12333咨询。"
)
DECLINE_TEXT = "抱歉，这个问题我回答不了。" + CAN_HELP_WITH
SCHEME_AWAITED = "分清了就回复其中一种，比如“企业退休”，我接着帮您算下次认证的日期。"
EMPTY_TEXT = "您好！请用文字把问题发给我，比如“在手机上怎么认证？”。" + CAN_HELP_WITH
GREETING_TEXT = "您好！我是养老金认证助手。" + CAN_HELP_WITH
THANKS_TEXT = "不客气！还有认证方面的问题，随时问我。"
# Greetings and thanks deserve a friendly word, not "I cannot answer that".
_GREETING = re.compile(r"^((你|您|大家|老师|师傅|同志|小同志|大哥|大姐)好|在吗|在不在|早上好|"
                       r"上午好|中午好|下午好|晚上好|早安|哈喽|嗨|hello|hi|hey)+$")
_THANKS = re.compile(r"^((谢谢|多谢|感谢|谢了|辛苦了|好的|知道了|明白了|收到|ok|好)"
                     r"(你们|您们|你|您|侬|啦|了)?)+$")
# What people add to a greeting or a thank-you: particles, and what they call the bot.
_PARTICLES = re.compile(r"[啊呀哈呢吧哦嗯啦]")
_POLITE_FILLER = re.compile(r"[啊呀哈呢吧哦嗯啦]|机器人|小助手|助手|小同志|同志|小伙子|小姑娘|"
                            r"姑娘|师傅|老师|大哥|大姐|小朋友|孩子|非常|太|真是|真|很|十分")
FRAUD_TAG = "fraud"
FRAUD_MORE = "下面这几条可能有用，点一下就能看。"
SUGGEST_INTRO = "我不太确定您问的是哪一项，您是不是想问："
SUGGEST_OUTRO = "可以点下面的按钮，或者换个说法再问我。"
PLACE_OUTRO = "点下面的按钮，我按{place}的情况回答；也可以换个说法再问我。"
# A first screen a 72-year-old reads on a small phone without scrolling; the rest is behind 详细.
FIRST_SCREEN = 120
MIN_DETAIL = 30
KEEP_ON_FIRST_SCREEN = ("注意", "提醒", "千万", "不要", "别")
# Topics whose answer depends on where the pension is paid: the place's own line is added.
LOCAL_TAGS = frozenset({"channels", "proxy", "deadline", "missed", "offline", "schemes",
                        "remote"})
NOT_LOCAL_TAGS = frozenset({"abroad", "rumor", "safety"})
# The one place named is the asker's own: the pension's place decides, so ask for it.
ASKER_PLACE_NOTE = ("📍您在{place}，但认证的办法要按老人领养老金的地方来。"
                    "把那个城市发给我（例如：郑州），我补上那里的办法。")
NO_LOCAL_CHANNEL = ("这里还没有核实过的本地渠道，可以用国家社会保险公共服务平台网站、"
                    "掌上12333或电子社保卡。")


@dataclass
class Reply:
    """Everything the bot or the command line needs to show an answer."""

    question: str
    matched: bool
    id: str | None
    score: float
    text: str
    kind: str  # answer | deadline | suggest | decline | empty
    complete: bool = True  # False when a deadline reply asks for the scheme or the date
    suggestion_ids: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    place: str = ""  # the place whose specifics were added ("" when none)
    province: str = ""  # that place's province
    place_choices: list[str] = field(default_factory=list)  # places to ask about when unsure
    # The place and the choices as buttons carry them: names that find no other place.
    place_key: str = ""
    choice_keys: list[str] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (label, entry id) to go deeper
    detail: str | None = None  # the rest of the answer, behind the 详细 button

    def as_json(self) -> dict[str, object]:
        """The object of the `ask --json` contract."""
        return {
            "question": self.question,
            "matched": self.matched,
            "id": self.id,
            "score": round(self.score, 3),
            "answer": self.text,
            "detail": self.detail,
            "suggestions": self.suggestions,
        }


def sources_text(entry: Entry) -> str:
    """The pages an answer rests on, for the 来源 button: official ones first, with links."""
    lines = [f"“{entry.question}”的依据："]
    for source in sorted(entry.sources, key=lambda s: not s.official):
        if source.url.startswith("seed:"):
            continue
        who = source.issuer or ("政府网站" if source.official else "网上文章")
        lines.append(f"• {who}：{source.url}")
    if len(lines) == 1:
        lines.append("• 网上公开资料（未找到官方原文）")
    lines.append("非政府网站上的内容只作参考；有疑问请打12333核实。")
    return "\n".join(lines)


def format_entry(entry: Entry) -> str:
    """An entry's answer as the bot sends it: answer, local-rules note, sources."""
    return f"{entry.answer}\n\n{LOCAL_RULES_NOTE}\n{issuer_line(entry)}"


def _deadline_fits(deadline: DeadlineReply, result: MatchResult) -> bool:
    """Whether the calculator, rather than a knowledge entry, should answer.

    "遗属待遇要认证吗" names a scheme and says 要认证, but asks whether, not when: the entry
    answers it. A calculation from a date the user gave stands unless an entry about something
    other than timing is clearly what was asked; a request for the missing date only when the
    message asks when.
    """
    best = result.best
    if best is not None and best.is_out_of_scope and best.probability >= SUGGEST_AT:
        return False  # a date in a question about something else (丧葬费, 退休年龄)
    top = best.key if result.decision == "answer" and best is not None else None
    if deadline.complete:
        return top is None or top in TIMING_ENTRIES or best.probability < CALCULATOR_YIELDS_AT
    # Asking for the missing date or scheme suits a message whose closest topic is about timing.
    return result.decision == "decline" or (best is not None and best.key in TIMING_ENTRIES)


def answer(engine: Engine, message: str, today: dt.date, place: str | None = None,
           follow_up: str | None = None, *, seen: bool = False) -> Reply:
    """The reply to one user message. Never raises on any text.

    `place` is the user's remembered city, used when the message names none. `follow_up` is
    the topic last answered in this chat: a message that only names a place (郑州) gets that
    topic again with the place's specifics (the overview when there is none). `seen`: the text
    was read from a screenshot (a page that asks for money or a bank card is a scam).
    """
    question = message if isinstance(message, str) else str(message)
    check = check_message(question, seen=seen)
    warnings = warnings_for(check)
    safe = redact(question) if check.sensitive else question
    normalized = normalize(safe)
    display = redact(question).replace("\ufffd", "")[:200]
    if not strip_non_words(normalized):
        text = "\n\n".join([*warnings, EMPTY_TEXT]) if warnings else EMPTY_TEXT
        return Reply(display, False, None, 0.0, text, "empty", warnings=warnings)

    courtesy = _courtesy(normalized)
    if courtesy is not None:
        return Reply(display, False, None, 0.0, courtesy, "empty", warnings=warnings)

    if asks_bot_to_certify(normalized):
        buttons = [(label, i) for label, i in NEXT_TOPICS if i in engine.kb.entries]
        text = "\n\n".join([*warnings, BOT_CANNOT_CERTIFY])
        return Reply(display, True, None, 1.0, text, "answer", warnings=warnings,
                     buttons=buttons)

    if unsure_of_scheme(normalized):
        # 我不知道我爸是哪个险种: the bot asks which kind for a due date, so it says how to tell.
        return which_scheme_reply(display, warnings=warnings)

    named = only_a_place(engine.matcher.segmenter.repair(normalized))
    if named is not None:
        reply = _for_place(engine, named, follow_up)
        if reply is not None:
            reply.question = display
            if warnings:
                reply.text = "\n\n".join([*warnings, reply.text])
                reply.warnings = warnings
            return reply

    result = engine.matcher.match(normalized)
    deadline = reply_to_deadline_question(safe, today)
    if deadline is not None and _deadline_fits(deadline, result):
        text = "\n\n".join([*warnings, deadline.text])
        return Reply(display, True, DEADLINE_ENTRY, 1.0, text, "deadline",
                     complete=deadline.complete, warnings=warnings)

    # Places are read after typo repair, so that 粤省是 (粤省事) still names 广东.
    where = read_place(engine.matcher.segmenter.repair(normalized), place)
    reply = _reply_for_match(engine, display, result, where)
    if check.fraud and reply.kind in ("suggest", "decline"):
        # The warning is the answer; "我不太确定您问的是哪一项" under it would only muddle it.
        _with_a_fraud_topic(engine.kb, reply)
    if warnings:
        reply.text = "\n\n".join([*warnings, reply.text])
        reply.warnings = warnings
    return reply


def _with_a_fraud_topic(kb: KnowledgeBase, reply: Reply) -> None:
    """A message that smells of fraud, without a sure topic: the warning leads, and one of the
    buttons is about fraud (the closest topics keep their places: the warning may be a false
    alarm, 远程代办 is not always a scam)."""
    fraud = [e.id for e in kb.entries.values() if FRAUD_TAG in e.tags]
    if fraud and not set(fraud) & set(reply.suggestion_ids):
        reply.suggestion_ids = [*reply.suggestion_ids[:2], fraud[0]]
    reply.suggestions = [kb.entries[i].question for i in reply.suggestion_ids]
    reply.kind, reply.text = "suggest", FRAUD_MORE


def which_scheme_reply(question: str, *, awaited: bool = False,
                       warnings: list[str] | None = None) -> Reply:
    """How to tell which kind of benefit a pension is; `awaited` when a due date waits for it."""
    text = "\n\n".join([*(warnings or []), HOW_TO_TELL, *([SCHEME_AWAITED] if awaited else [])])
    return Reply(question, True, None, 1.0, text, "answer", warnings=list(warnings or []))


def _for_place(engine: Engine, region: Region, follow_up: str | None) -> Reply | None:
    """A message that only names a place: the last topic (or the overview) for that place."""
    kb = engine.kb
    entry = kb.entries.get(follow_up) if follow_up else None
    if entry is None or not is_local(entry):
        entry = kb.role(OVERVIEW_TAG)
    if entry is None:
        return None
    return compose(kb, entry, PlaceReading(region), probability=PLACE_ONLY_SCORE)


def _courtesy(normalized: str) -> str | None:
    """A friendly reply when the message is only a greeting or a thank-you."""
    words = strip_non_words(normalized)
    if len(words) > 16:
        return None
    # 老师好 is a greeting; only then may 老师 go as a mere address (谢谢老师).
    if _GREETING.match(_PARTICLES.sub("", words)):
        return GREETING_TEXT
    bare = _POLITE_FILLER.sub("", words)
    if not bare or len(bare) > 12:
        return None
    if _GREETING.match(bare):
        return GREETING_TEXT
    return THANKS_TEXT if _THANKS.match(bare) else None


def _reply_for_match(engine: Engine, question: str, result: MatchResult,
                     where: PlaceReading) -> Reply:
    kb = engine.kb
    ids = [i for i in result.entries(3) if i in kb.entries]
    if result.decision == "suggest" and result.general in kb.entries and result.general not in ids:
        ids.append(result.general)
    titles = [kb.entries[i].question for i in ids]
    best = result.best
    if result.decision == "answer" and best is not None:
        entry = kb.entries[best.key]
        # An answer with its own go-deeper buttons (the overview) needs no runners-up beside them.
        others = [] if entry.buttons else [i for i in ids if i != entry.id]
        reply = compose(kb, entry, where, probability=best.probability)
        reply.question = question
        reply.suggestion_ids = others
        reply.suggestions = [kb.entries[i].question for i in others]
        return reply
    if result.decision == "suggest":
        lines = "\n".join(f"{n}. {t}" for n, t in enumerate(titles, 1))
        # The place goes with the buttons, so the answer they open names it.
        place, province = (where.name, where.province or "") if where.region else ("", "")
        # 和平 alone could be anywhere: a city or district is named with its province.
        outro = (PLACE_OUTRO.format(place=place_label(place, province)) if place
                 else SUGGEST_OUTRO)
        text = f"{SUGGEST_INTRO}\n{lines}\n{outro}"
        return Reply(question, False, None, result.score, text, "suggest",
                     suggestion_ids=ids, suggestions=titles, place=place, province=province)
    text = DECLINE_TEXT
    if best is not None and best.key.startswith(OOS_PREFIX):
        topic = kb.out_of_scope.get(best.key[len(OOS_PREFIX):])
        if topic and topic.reply:
            text = f"{topic.reply}\n\n{CAN_HELP_WITH}"
    return Reply(question, False, None, result.score, text, "decline",
                 suggestion_ids=ids, suggestions=titles)


def topic_reply(engine: Engine, entry_id: str, place: str | None = None, *,
                full: bool = False) -> Reply | None:
    """The answer of one topic, as a button asks for it: no matching, no guessing.

    `place` is a remembered city or a place the user picked; None when the topic is unknown
    (the knowledge was reloaded since the button was made).
    """
    entry = engine.kb.entries.get(entry_id)
    if entry is None:
        return None
    return compose(engine.kb, entry, read_place("", place), full=full)


def is_local(entry: Entry) -> bool:
    """Whether an answer depends on where the pension is paid."""
    tags = set(entry.tags)
    return bool(tags & LOCAL_TAGS) and not tags & NOT_LOCAL_TAGS


def place_entry(kb: KnowledgeBase, province: str) -> Entry | None:
    """The page of a province (its channels and rules), found by its short name."""
    for entry in kb.entries.values():
        if entry.is_place and province in entry.regions:
            return entry
    return None


def place_line(kb: KnowledgeBase, place: str, province: str, *, chosen: bool = False,
               city_first: bool = False) -> str:
    """One line of what is specific to a place, naming it; `chosen` when the message named
    other places too and this one was taken as where the pension is paid; `city_first` puts
    the city's own rule before the province's channels."""
    entry = place_entry(kb, province)
    line = (entry.local if entry else "") or NO_LOCAL_CHANNEL
    city = dict(entry.local_cities).get(place, "") if entry else ""
    parts = (city, line) if city_first else (line, city)
    return f"📍{place_label(place, province, chosen=chosen)}：{''.join(parts)}"


def city_line(kb: KnowledgeBase, place: str, province: str) -> str:
    """What the province's entry says of this one city alone (葫芦岛's half-years), or ""."""
    entry = place_entry(kb, province)
    return dict(entry.local_cities).get(place, "") if entry else ""


def place_label(place: str, province: str, *, chosen: bool = False) -> str:
    """A place as a reply names it: 河南, 和平（天津）, 万州（重庆，按养老金领取地）."""
    notes = [province] if province and province != place else []
    if chosen:
        notes.append("按养老金领取地")
    return f"{place}（{'，'.join(notes)}）" if notes else place  # one bracket on a small screen


def split_for_phone(body: str, limit: int | None = None) -> tuple[str, str | None]:
    """(first screen, the rest): whole lines up to `limit` characters, at least the first
    line and the first step; a rest too short to be worth a button stays on the first screen.
    """
    limit = FIRST_SCREEN if limit is None else limit
    lines = [line for line in body.strip().splitlines() if line.strip()]
    first, size = [], 0
    for line in lines:
        if first and size + len(line) > limit and len(first) >= 2:
            break
        first.append(line)
        size += len(line)
    while len(first) > 1 and first[-1].endswith(("：", ":")):  # a heading goes with its list
        first.pop()
    rest = lines[len(first):]
    # A warning is never hidden behind a button (注意：假APP常冒用这个名字).
    first += [line for line in rest if line.startswith(KEEP_ON_FIRST_SCREEN)]
    rest = [line for line in rest if not line.startswith(KEEP_ON_FIRST_SCREEN)]
    if sum(map(len, rest)) < MIN_DETAIL:
        return "\n".join(lines), None
    return "\n".join(first), "\n".join(rest)


def compose(kb: KnowledgeBase, entry: Entry, where: PlaceReading | None = None,
            probability: float = 1.0, *, full: bool = False) -> Reply:
    """An entry's answer, with the specifics of the place it is about when that matters.

    The first message is what fits a small phone (`split_for_phone`); the rest is the
    reply's `detail`, shown behind the 详细 button. `full` puts everything in one message.
    """
    first, detail = (entry.answer.strip(), None) if full else split_for_phone(entry.answer)
    extra: list[str] = []
    place = province = key = ""
    choices: list[str] = []
    keys: list[str] = []
    lead: list[str] = []
    if where is not None and is_local(entry):
        if where.region is not None:
            place, province = where.name, where.province or where.name
            key = place_key(where.region)
            # 武汉的认证是按自然年吗: a city's own cycle comes before the national one.
            own_rule = bool(CYCLE_TAGS & set(entry.tags)) and bool(city_line(kb, place, province))
            (lead if own_rule else extra).append(place_line(
                kb, place, where.province or place, chosen=bool(where.others),
                city_first=own_rule))
        elif where.asked_about:
            choices = [r.short for r in where.asked_about[:2]]
            keys = [place_key(r) for r in where.asked_about[:2]]
            extra.append(f"您提到了{'和'.join(choices)}。养老金是在哪里领的？"
                         "点下面的按钮，我补上那里的办法。")
        elif where.asker is not None:
            extra.append(ASKER_PLACE_NOTE.format(place=where.asker.short))
    text = "\n\n".join([*lead, first, *extra, f"{LOCAL_RULES_NOTE}\n{issuer_line(entry)}"])
    return Reply(entry.question, True, entry.id, probability, text, "answer", place=place,
                 province=province, place_choices=choices, buttons=list(entry.buttons),
                 place_key=key, choice_keys=keys,
                 detail=detail)
