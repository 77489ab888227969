"""Text normalisation: the first thing every user message goes through.

Old users type full-width characters, traditional characters, Chinese numerals and stray
punctuation; everything downstream (matching, date parsing) sees one canonical form.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

# Longer messages are cut: nobody asks a certification question in 2,000 characters, and the
# matcher's cost must stay bounded whatever arrives.
MAX_CHARS = 1000

_PUNCT_MAP = str.maketrans(
    {
        "。": ".",
        "、": ",",
        "「": '"',
        "」": '"',
        "『": '"',
        "』": '"',
        "“": '"',
        "”": '"',
        "‘": "'",
        "’": "'",
        "【": "[",
        "】": "]",
        "《": "<",
        "》": ">",
        "～": "~",
        "—": "-",
        "–": "-",
        "…": "...",
        "·": " ",
    }
)

_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
           "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL_RUN = re.compile(
    r"(?<![统万唯单同一])([零〇○一二两三四五六七八九十百千]+)"
    r"(?=个?月|日|号|年|天|岁|次|周|个工作日|点|倍|分钟)"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\ufeff\ufffd]")
_SPACES = re.compile(r"\s+")
# What the matcher ignores: punctuation, symbols (emoji) and spaces.
_NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+")


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def chinese_number(run: str) -> int | None:
    """Value of a Chinese numeral like 十二, 二十五, 一百零八, or digit-by-digit 二〇二五."""
    if not any(ch in _UNITS for ch in run):
        if not all(ch in _DIGITS for ch in run):
            return None
        return int("".join(str(_DIGITS[ch]) for ch in run))
    total, current = 0, 0
    for ch in run:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        elif ch in _UNITS:
            total += (current or 1) * _UNITS[ch]
            current = 0
        else:
            return None
    return total + current


def _replace_numeral(match: re.Match[str]) -> str:
    value = chinese_number(match.group(1))
    return match.group(1) if value is None else str(value)


# A message is normalised by each part that reads it (safety, deadline, matcher): do it once.
@lru_cache(maxsize=512)
def normalize(text: str) -> str:
    """Canonical form of a user message.

    Full-width to half-width (NFKC), traditional to simplified, lower case, Chinese numerals
    before a unit (十二个月, 二〇二五年, 十五号) to digits, control characters removed,
    whitespace collapsed. Punctuation is kept, unified to ASCII where there is an equivalent,
    because dates like 2025.3.10 need it.
    """
    if not text:
        return ""
    text = text[:MAX_CHARS]
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub(" ", text)
    text = _converter().convert(text)
    text = text.translate(_PUNCT_MAP).lower()
    text = _NUMERAL_RUN.sub(_replace_numeral, text)
    return _SPACES.sub(" ", text).strip()


def compact(text: str) -> str:
    """Normalised text with punctuation, symbols and spaces removed (for fuzzy matching)."""
    return _NOT_WORD.sub("", normalize(text))


def strip_non_words(normalized: str) -> str:
    """Like `compact` for text that is already normalised."""
    return _NOT_WORD.sub("", normalized)


def quoted(text: str, limit: int = 20) -> str:
    """What the user typed, as a reply may repeat it: stripped and cut to `limit` characters,
    so that a pasted page never makes the reply longer than Telegram allows."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit] + "…"
