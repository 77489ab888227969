"""The five kinds of benefit (待遇类型) whose holders must certify, and what people call them."""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import BotError


class UnknownSchemeError(BotError, ValueError):
    """A scheme name that is neither a key nor a known Chinese name."""


@dataclass(frozen=True)
class Scheme:
    key: str
    name: str  # official full name, used in explanations
    short: str  # what we call it in a chat reply
    example: str  # the everyday words a user recognises, shown when we ask which one
    aliases: tuple[str, ...]


SCHEMES: dict[str, Scheme] = {
    s.key: s
    for s in (
        Scheme(
            "enterprise",
            "企业职工基本养老保险",
            "企业职工养老保险",
            "企业退休、灵活就业退休",
            (
                "企业职工基本养老保险", "企业职工养老保险", "企业职工养老金", "企业职工",
                "企业退休人员", "企业退休", "企业养老保险", "企业养老金", "企业养老", "企退",
                "职工养老保险", "职工养老金", "职工养老", "城镇职工养老", "城镇职工",
                "灵活就业退休", "灵活就业人员", "灵活就业", "个体户退休", "企业",
            ),
        ),
        Scheme(
            "institution",
            "机关事业单位养老保险",
            "机关事业单位养老保险",
            "机关、事业单位、公务员退休",
            (
                "机关事业单位养老保险", "机关事业单位养老金", "机关事业单位", "机关事业",
                "机关单位", "机关退休", "事业单位退休", "事业单位养老", "事业单位", "事业编",
                "公务员退休", "公务员", "行政事业单位",
            ),
        ),
        Scheme(
            "resident",
            "城乡居民基本养老保险",
            "城乡居民养老保险",
            "居民养老金、农村养老金、农保",
            (
                "城乡居民基本养老保险", "城乡居民养老保险", "城乡居民养老金", "城乡居民养老",
                "城乡居民", "城乡居保", "城居保", "居民养老保险", "居民养老金", "居民养老",
                "农村养老保险", "农村养老金", "农村养老", "农民养老金", "农民养老", "新农保",
                "老农保", "农保",
            ),
        ),
        Scheme(
            "survivor",
            "遗属待遇（供养直系亲属）",
            "遗属待遇",
            "遗属补助、供养亲属、抚恤金",
            (
                "遗属生活困难补助", "遗属待遇", "遗属补助", "遗属津贴", "遗属",
                "供养直系亲属", "供养亲属", "抚恤金",
            ),
        ),
        Scheme(
            "injury",
            "工伤保险长期待遇",
            "工伤长期待遇",
            "伤残津贴、工伤",
            (
                "工伤保险长期待遇", "工伤长期待遇", "工伤保险", "工伤待遇", "伤残津贴",
                "生活护理费", "工伤",
            ),
        ),
    )
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
