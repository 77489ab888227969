"""Closest place names to a mistyped one: "锦洲" → 锦州, by sound (pinyin) and shape (shared
characters), so an unknown place gets "您是说锦州吗？" instead of a dead end."""

from __future__ import annotations

import re
from functools import lru_cache

from bot.deadline.regions import Region, all_regions, lookup_region
from bot.qa.segment import fuzzy_syllable

_SUFFIX = re.compile(r"(?:省|市|县|区|州市)$")
_CJK = re.compile(r"[\u4e00-\u9fff]+")


def _sounds(text: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    return tuple(fuzzy_syllable(p) for p in lazy_pinyin(text, style=Style.NORMAL))


@lru_cache(maxsize=1)
def _index() -> tuple[tuple[Region, tuple[str, ...]], ...]:
    seen: set[str] = set()
    rows = []
    for region in all_regions():
        if region.short in seen or len(region.short) < 2:
            continue
        seen.add(region.short)
        rows.append((region, _sounds(region.short)))
    return tuple(rows)


_LEVEL_BONUS = {"province": 0.3, "prefecture": 0.2}


def closest_places(typed: str, limit: int = 3) -> list[Region]:
    """Up to `limit` places whose names sound or look most like `typed` (best first).

    Only names of the same length count by sound; a shared character counts for any length.
    A name needs at least as many matching sounds-or-characters as half its length.
    """
    found = _CJK.findall(typed or "")
    word = _SUFFIX.sub("", "".join(found)) if found else ""
    if not 2 <= len(word) <= 6:
        return []
    sounds = _sounds(word)
    scored: list[tuple[float, Region]] = []
    for region, name_sounds in _index():
        name = region.short
        same_sound = sum(a == b for a, b in zip(sounds, name_sounds, strict=False)) \
            if len(name) == len(word) else 0
        same_place = sum(a == b for a, b in zip(word, name, strict=False))
        shared = len(set(word) & set(name))
        hits = max(same_sound, same_place)
        if hits * 2 < max(len(name), len(word)) or same_sound * 2 + shared < len(word) + 1:
            continue
        if region.level == "county" and same_sound < len(word):
            continue  # thousands of small names: only a perfect homophone is offered
        score = same_sound * 2 + shared + same_place * 0.5 + _LEVEL_BONUS.get(region.level, 0)
        if len(name) != len(word):
            score -= 1
        scored.append((score, region))
    scored.sort(key=lambda pair: (-pair[0], pair[1].adcode))
    best = [region for _, region in scored if region.short != word]
    exact = lookup_region(word)
    if exact is not None and exact.short == word:
        return []  # it is a real place: nothing to correct
    return best[:limit]
