"""The five kinds of benefit (待遇类型) whose holders must certify, and what people call them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import UnknownSchemeError


@dataclass(frozen=True)
class Scheme:
    key: str
    name: str  # official full name, used in explanations
    short: str  # what we call it in a chat reply
    example: str  # the everyday words a user recognises, shown when we ask which one
    aliases: tuple[str, ...]


# key, official full name, what we call it in a reply, the everyday words a user recognises
_NAMES = (
    ("enterprise", "企业职工基本养老保险", "企业职工养老保险", "企业退休、灵活就业退休"),
    ("institution", "机关事业单位养老保险", "机关事业单位养老保险", "机关、事业单位、公务员退休"),
    ("resident", "城乡居民基本养老保险", "城乡居民养老保险", "居民养老金、农村养老金、农保"),
    ("survivor", "遗属待遇（供养直系亲属）", "遗属待遇", "遗属补助、供养亲属、抚恤金"),
    ("injury", "工伤保险长期待遇", "工伤长期待遇", "伤残津贴、工伤"),
)
# What people call each one, as they type it (words separated by spaces).
_ALIAS_WORDS = {
    "enterprise": "企业职工基本养老保险 企业职工养老保险 企业职工养老金 企业职工 企业退休人员 "
                  "企业退休 企业养老保险 企业养老金 企业养老 企退 职工养老保险 职工养老金 "
                  "职工养老 城镇职工养老 城镇职工 灵活就业退休 灵活就业人员 灵活就业 个体户退休 "
                  "企业",
    "institution": "机关事业单位养老保险 机关事业单位养老金 机关事业单位 机关事业 机关单位 "
                   "机关退休 事业单位退休 事业单位养老 事业单位 事业编 公务员退休 公务员 "
                   "行政事业单位",
    "resident": "城乡居民基本养老保险 城乡居民养老保险 城乡居民养老金 城乡居民养老 城乡居民 "
                "城乡居保 城居保 居民养老保险 居民养老金 居民养老 农村养老保险 农村养老金 "
                "农村养老 农民养老金 农民养老 新农保 老农保 农保",
    "survivor": "遗属生活困难补助 遗属待遇 遗属补助 遗属津贴 遗属 供养直系亲属 供养亲属 抚恤金",
    "injury": "工伤保险长期待遇 工伤长期待遇 工伤保险 工伤待遇 伤残津贴 生活护理费 工伤",
}
SCHEMES: dict[str, Scheme] = {
    key: Scheme(key, name, short, example, tuple(_ALIAS_WORDS[key].split()))
    for key, name, short, example in _NAMES
}

# Longest first so that 企业职工基本养老保险 wins over 企业 and 工伤保险 over 工伤.
_ALIASES: list[tuple[str, str]] = sorted(
    ((alias, s.key) for s in SCHEMES.values() for alias in (*s.aliases, s.name, s.short)),
    key=lambda pair: len(pair[0]),
    reverse=True,
)


def display_name(key: str) -> str:
    return SCHEMES[key].name


def valid_schemes_text() -> str:
    return "、".join(f"{s.key}（{s.short}）" for s in SCHEMES.values())


def find_scheme(text: str) -> str | None:
    """The scheme whose longest alias occurs in free text, or None."""
    if not text:
        return None
    # "企业职工遗属" is a survivor, not a retiree: the benefit names the person who receives it.
    if any(alias in text for alias in SCHEMES["survivor"].aliases):
        return "survivor"
    best: tuple[int, int, str] | None = None  # (-length, position, key)
    for alias, key in _ALIASES:
        pos = text.find(alias)
        if pos >= 0:
            candidate = (-len(alias), pos, key)
            if best is None or candidate < best:
                best = candidate
    return best[2] if best else None


def resolve_scheme(name: str) -> str:
    """A key or a Chinese name (exact, or containing one known name) → key."""
    cleaned = "".join((name or "").split()).lower()
    if cleaned in SCHEMES:
        return cleaned
    for alias, key in _ALIASES:
        if cleaned == alias:
            return key
    found = find_scheme(cleaned)
    if found:
        return found
    raise UnknownSchemeError(f"不认识的待遇类型“{name}”，可选：{valid_schemes_text()}")


# For someone who cannot tell which kind a pension is (a son asked for his father's): what
# each kind is, in everyday words, and where to look it up. No amounts: they differ by place.
HOW_TO_TELL = (
    "分不清也没关系，大致这样分：\n"
    "1. 在企业、工厂退休，或按灵活就业交社保的 → 企业职工；\n"
    "2. 在机关、事业单位退休的 → 机关事业单位；\n"
    "3. 农村老人，或城里没单位、自己交钱参保的 → 城乡居民；\n"
    "4. 家里职工去世后发给家属的 → 遗属待遇；\n"
    "5. 工伤后每月领伤残津贴的 → 工伤长期待遇。\n\n"
    "还分不清就打12333问。全国一般都是12个月认证一次，各地另有规定的以当地为准。"
)
_UNSURE = re.compile(r"不知道|[搞弄分说记]?不清楚?|不确定|不记得|不晓得|[拿说]不准|不太?懂")
# Which kind of pension, not which app or office: 哪个险种, 什么养老金, 哪种待遇.
_WHICH_KIND = re.compile(r"险种|(?:哪|什么|啥)一?[种类]的?(?:养老|保险|待遇)|"
                         r"(?:什么|啥)(?:养老|保险|待遇)|哪个(?:养老保险|待遇)")
# Asked which kind, a bare 哪种 / 是啥 is enough.
_WHICH_ANSWER = re.compile(r"是?(?:哪一?[种类个样]|啥|什么)")
_FILLER = re.compile(r"[\s，。,.!！?？~～…、我也都还真呢啊呀吧哦噢嗯的了这个]+")
# Whose pension it is, in the answer: 不知道我爸是哪种, 我妈领的是啥不清楚.
_WHOSE = re.compile(r"爸爸?|妈妈?|父亲|母亲|老人家?|老伴|爷爷|奶奶|公公|婆婆|岳父|岳母|他|她|"
                    r"领的|拿的|俺|咱")


def unsure_of_scheme(text: str, *, asked: bool = False) -> bool:
    """Whether a message says its writer does not know which kind of benefit it is.

    Out of the blue it must be about the kind (我不知道我爸是哪个险种), not 不知道怎么认证 or
    不知道用哪个APP. `asked`: the bot has just asked for the kind, so 不知道 alone, or
    不清楚是哪种, is the answer.
    """
    if not _UNSURE.search(text or ""):
        return False
    if _WHICH_KIND.search(text):
        return True
    if not asked:
        return False
    rest = _FILLER.sub("", _WHOSE.sub("", _UNSURE.sub("", text)))
    return not rest or bool(_WHICH_ANSWER.fullmatch(rest))
