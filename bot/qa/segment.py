"""Turning normalised text into the terms the matcher compares.

Steps: repair homophones and pinyin typed instead of characters (认正 → 认证, shua lian →
刷脸), map synonyms to one word (年审 → 认证), segment with jieba and a domain dictionary,
drop particles, and add character bigrams so that a typo that breaks a word still leaves
most of its pieces.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from bot.qa.jieba_import import jieba
from bot.qa.wordcut import WordCutter
from bot.text.death import mentions_death
from bot.text.heads import longest_by_head
from bot.text.normalize import normalize, strip_non_words

jieba.setLogLevel(60)

# Particles and politeness carry no topic; question words (怎么, 什么时候, 哪里) do, so stay.
STOPWORDS = frozenset(
    [
        "的", "了", "吗", "呢", "吧", "啊", "呀", "嘛", "哦", "哈", "么", "啦",
        "哇", "噢", "喔", "嗯", "请问", "你好", "您好", "谢谢", "麻烦", "一下",
        "我", "我们", "您", "你", "他", "她", "它", "是", "个", "这", "那",
        "这个", "那个", "就", "都", "也", "还", "和", "与", "及", "给", "把",
        "被", "在", "又", "很", "挺", "好", "想", "问", "问问", "请", "帮忙",
        "各位", "大家", "事", "事情", "问题", "情况",
    ]
)
BIGRAM_PREFIX = "§"
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_ASCII_RUN = re.compile(r"[a-z]+(?: [a-z]+)*")
MAX_REPAIR_UNITS = 300
MAX_WORD_UNITS = 6
REPAIR_CACHE = 256

# Regional accents blur these sounds, and old users type by sound: compare with them folded.
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("f", "h"), ("r", "l"))
# an/ang is left apart: 帮 (bang) read as 办 (ban) turns "怎么帮他认证" into "怎么办他认证".
_FUZZY_FINALS = (("eng", "en"), ("ing", "in"))


def fuzzy_syllable(syllable: str) -> str:
    """Fold a toneless pinyin syllable so that near-homophones compare equal."""
    for full, short in _FUZZY_INITIALS:
        if syllable.startswith(full):
            syllable = short + syllable[len(full):]
            break
    for full, short in _FUZZY_FINALS:
        if syllable.endswith(full):
            syllable = syllable[: -len(full)] + short
            break
    return syllable


@dataclass
class PinyinTables:
    """Character readings and the words we can repair to, precomputed once."""

    char_pinyin: dict[str, str]  # 认 -> ren
    syllables: frozenset[str]  # every toneless syllable, to split typed pinyin
    words_by_sound: dict[tuple[str, ...], str]  # fuzzy syllables -> word
    core_words: frozenset[str]  # repaired even when the typo is itself a real word
    known_words: frozenset[str]  # words never "repaired" into something else
    # Sounds shared by several words (锦州, 荆州): the typo keeps the one it shares characters with.
    sound_alikes: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)

    @property
    def char_sounds(self) -> dict[str, str]:
        """Folded sound of every character, computed once (it is looked up per character)."""
        cached = self.__dict__.get("_char_sounds")
        if cached is None:
            cached = {ch: fuzzy_syllable(p) for ch, p in self.char_pinyin.items()}
            self.__dict__["_char_sounds"] = cached
        return cached

    @property
    def first_pairs(self) -> dict[tuple[str, ...], int]:
        """The first two sounds of every repairable word, with the longest such word's length:
        most positions are skipped at once, and the rest try only lengths that can match."""
        cached = self.__dict__.get("_first_pairs")
        if cached is None:
            cached = longest_by_head(self.words_by_sound)
            self.__dict__["_first_pairs"] = cached
        return cached


CLAUSE_END = frozenset("，。？！、；：,.?!;:…~")


def _is_place(word: str) -> bool:
    """Whether `word` is the name of a province, city or county in the region data."""
    from bot.deadline.place_names import lookup_region

    region = lookup_region(word)
    return region is not None and word in (region.name, region.short)


def _ends_clause(units: list[tuple[str, str | None]], end: int) -> bool:
    """Whether the text ends, or a clause does, right before unit `end`."""
    return end == len(units) or not units[end][0].strip() or units[end][0] in CLAUSE_END


def split_pinyin(run: str, syllables: frozenset[str]) -> list[str] | None:
    """Split typed pinyin like 'shualian' into syllables, or None if it is not pinyin."""
    result: list[str] = []
    for part in run.split(" "):
        i = 0
        while i < len(part):
            for size in range(min(6, len(part) - i), 0, -1):
                if part[i : i + size] in syllables:
                    result.append(part[i : i + size])
                    i += size
                    break
            else:
                return None
    return result


class Segmenter:
    """Terms of a normalised text: repaired, synonym-mapped, segmented, plus bigrams."""

    def __init__(self, tokenizer: jieba.Tokenizer, synonyms: dict[str, str],
                 tables: PinyinTables):
        self._tokenizer = tokenizer
        self._cutter = WordCutter(tokenizer)
        self._tables = tables
        # Variants are matched against normalised text, so they are normalised too: written
        # 一年几次, the variant would never meet a message, which arrives as 1年几次.
        self._synonyms = {normalize(variant): canonical for variant, canonical in synonyms.items()}
        # Dictionary words that contain a synonym (社保认证助手 contains 社保认证) must stay whole.
        mapped = tuple(self._synonyms)
        for word in tables.core_words:
            if word not in self._synonyms and any(v in word and v != word for v in mapped):
                self._synonyms[word] = word
        variants = sorted(self._synonyms, key=len, reverse=True)
        self._synonym_re = re.compile("|".join(map(re.escape, variants))) if variants else None
        # One message is repaired for the place, the topic and the words: do it once.
        self.repair = lru_cache(maxsize=REPAIR_CACHE)(self._repair)  # type: ignore[method-assign]

    def _repair(self, text: str) -> str:
        """Replace homophone typos and typed pinyin with the domain word they sound like."""
        tables = self._tables
        units: list[tuple[str, str | None]] = []  # (text, fuzzy syllable or None)
        pos = 0
        for match in _ASCII_RUN.finditer(text):
            units.extend(self._char_units(text[pos : match.start()]))
            parts = split_pinyin(match.group(), tables.syllables)
            if parts and (len(parts) > 1 or " " in match.group()):
                units.extend((p, fuzzy_syllable(p)) for p in parts)
            else:
                units.append((match.group(), None))
            pos = match.end()
        units.extend(self._char_units(text[pos:]))
        if len(units) > MAX_REPAIR_UNITS or not tables.words_by_sound:
            return "".join(u for u, _ in units) if units else text
        out: list[str] = []
        pairs = tables.first_pairs
        sounds_of = [s for _, s in units]
        i = 0
        while i < len(units):
            step, piece = 1, units[i][0]
            longest = pairs.get(tuple(sounds_of[i : i + 2]))
            if longest is None:  # no word starts with these sounds
                out.append(piece)
                i += 1
                continue
            for size in range(min(longest, len(units) - i), 1, -1):
                sounds = tuple(sounds_of[i : i + size])
                word = None if None in sounds else tables.words_by_sound.get(sounds)  # type: ignore[arg-type]
                if word is None:
                    continue
                typed = "".join(u for u, _ in units[i : i + size])
                alikes = tables.sound_alikes.get(sounds)  # type: ignore[arg-type]
                if alikes:  # 锦洲 is 锦州, not 荆州
                    word = max(alikes, key=lambda w: _shared(w, typed))
                if typed != word and mentions_death(word):
                    continue  # 事忘, 是网 sound like 死亡: a false repair would offer condolences
                is_chinese = all(len(u) == 1 for u, _ in units[i : i + size])
                if typed != word and is_chinese and word not in tables.core_words and (
                        typed in tables.known_words or self._overlaps_word(units, i, size)):
                    continue  # a real word (事业 is not 失业), or part of two (老是|失败)
                if typed != word and is_chinese and (
                        typed in tables.known_words or self._overlaps_word(units, i, size)) and \
                        self._reads_better(units, i, size, word):
                    continue  # even a domain word, where the text reads likelier as typed:
                    # 老公|上个月 is not 老工伤个月, 工商|银行 not 工伤银行
                if typed != word and is_chinese and typed in tables.known_words and \
                        self._sounds_differ(typed, word):
                    continue  # a real word that only sounds alike: 市民 is not 实名
                if typed != word and is_chinese and word not in tables.core_words and \
                        not _shared(word, typed):
                    continue  # 您的 only sounds like 宁德: a place typo keeps a character
                if typed != word and is_chinese and self._breaks_inner_word(typed, word) and \
                        _is_place(word):
                    continue  # and keeps the words typed inside it: 线上|还是 is not 线上海市
                if typed.endswith("吗") and not word.endswith("吗") and \
                        _ends_clause(units, i + size):
                    continue  # 吗 closing a clause asks a question: 要验证吗 is not 要验证码
                if word not in tables.core_words and self._core_word_starts_inside(
                        sounds_of, i, size):
                    continue  # "shi shi bai": 失败 beats 逝世
                step, piece = size, word
                break
            out.append(piece)
            i += step
        return "".join(out)

    def _reads_better(self, units: list[tuple[str, str | None]], start: int, size: int,
                      word: str) -> bool:
        """Whether the text as typed is likelier than with `word`, by jieba's word frequencies
        over the span and two characters either side."""
        before = "".join(u for u, _ in units[max(0, start - 2) : start])
        after = "".join(u for u, _ in units[start + size : start + size + 2])
        typed = "".join(u for u, _ in units[start : start + size])
        likelihood = self._cutter.log_probability
        return likelihood(before + typed + after) > likelihood(before + word + after)

    def _sounds_differ(self, typed: str, word: str) -> bool:
        """Whether two words differ in reading before accents are folded (shimin, shiming)."""
        readings = self._tables.char_pinyin
        return [readings.get(c) for c in typed] != [readings.get(c) for c in word]

    def _core_word_starts_inside(self, sounds: list[str | None], start: int, size: int) -> bool:
        """Whether a domain word begins inside this span and runs past its end."""
        tables = self._tables
        for begin in range(start + 1, start + size):
            longest = tables.first_pairs.get(tuple(sounds[begin : begin + 2]))
            if longest is None:
                continue
            for length in range(2, longest + 1):
                if begin + length <= start + size or begin + length > len(sounds):
                    continue
                key = tuple(sounds[begin : begin + length])
                if None not in key and tables.words_by_sound.get(key) in tables.core_words:  # type: ignore[arg-type]
                    return True
        return False

    def _breaks_inner_word(self, typed: str, word: str) -> bool:
        """Whether a word of two or more characters inside `typed` would be changed."""
        known = self._tables.known_words
        return any(typed[a:b] in known and typed[a:b] != word[a:b]
                   for a in range(len(typed) - 1) for b in range(a + 2, len(typed) + 1)
                   if b - a < len(typed))

    def _overlaps_word(self, units: list[tuple[str, str | None]], start: int, size: int) -> bool:
        """Whether the span's first or last character forms a word with its neighbour."""
        known = self._tables.known_words
        before = start > 0 and units[start - 1][0] + units[start][0] in known
        end = start + size
        after = end < len(units) and units[end - 1][0] + units[end][0] in known
        return before or after

    def _char_units(self, chunk: str) -> list[tuple[str, str | None]]:
        sounds = self._tables.char_sounds
        return [(ch, sounds.get(ch)) for ch in chunk]

    def canonical(self, text: str, *, repaired: bool = False) -> str:
        """Normalised text with typos repaired (unless `repaired` already) and synonyms mapped
        to their standard word."""
        if not repaired:
            text = self.repair(text)
        if self._synonym_re is not None:
            # Twice: "给我妈认证" becomes "给父母认证" and only then "代认证".
            for _ in range(2):
                text = self._synonym_re.sub(lambda m: self._synonyms[m.group()], text)
        return text

    def words(self, canonical_text: str) -> list[str]:
        """jieba words of canonical text, without particles and punctuation."""
        words = []
        # HMM guesses unknown words; the character bigrams already cover those, faster.
        for word in self._cutter.cut(canonical_text):
            word = strip_non_words(word)
            if word and word not in STOPWORDS:
                words.append(word)
        return words

    def terms(self, text: str) -> tuple[str, list[str]]:
        """(canonical compact text, terms): words plus prefixed character bigrams."""
        compact_text, _words, terms = self.analyse(text)
        return compact_text, terms

    def analyse(self, text: str, *, repaired: bool = False) -> tuple[str, list[str], list[str]]:
        """(canonical compact text, words, terms) of a normalised text."""
        canonical = self.canonical(text, repaired=repaired)
        words = self.words(canonical)
        compact_text = strip_non_words(canonical)
        return compact_text, words, words + bigrams(compact_text)


def _shared(word: str, typed: str) -> int:
    """How many characters two equally long spellings share, position by position."""
    return sum(a == b for a, b in zip(word, typed, strict=False))


def bigrams(compact_text: str) -> list[str]:
    """Character bigrams of the Chinese parts, marked so they never collide with words."""
    # Compared, not matched: a regex call per character was a tenth of a long message's time.
    chars = [c for c in compact_text if "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf"]
    return [BIGRAM_PREFIX + a + b for a, b in itertools.pairwise(chars)]


def build_pinyin_tables(vocabulary: Iterable[str], core_words: Iterable[str],
                        known_words: Iterable[str]) -> PinyinTables:
    """Readings for every common character and the sound index of the vocabulary."""
    from pypinyin import Style, lazy_pinyin, pinyin_dict  # slow import: only at build time

    char_pinyin: dict[str, str] = {}
    for code in pinyin_dict.pinyin_dict:
        if 0x4E00 <= code <= 0x9FFF:
            ch = chr(code)
            reading = lazy_pinyin(ch, style=Style.NORMAL, errors="ignore")
            if reading and reading[0].isascii() and reading[0].isalpha():
                char_pinyin[ch] = reading[0].replace("ü", "v")
    syllables = frozenset(char_pinyin.values())
    core = frozenset(core_words)
    words_by_sound: dict[tuple[str, ...], str] = {}
    alikes: dict[tuple[str, ...], list[str]] = {}
    # Core words first so that they win a clash of sounds.
    for word in [*sorted(core), *sorted(set(vocabulary) - core)]:
        if not 2 <= len(word) <= MAX_WORD_UNITS or not all(_CJK.match(c) for c in word):
            continue
        keys = {tuple(fuzzy_syllable(char_pinyin.get(c, "?")) for c in word)}
        keys.add(tuple(fuzzy_syllable(p) for p in lazy_pinyin(word, style=Style.NORMAL)))
        for key in keys:
            if "?" not in key:
                words_by_sound.setdefault(key, word)
                alikes.setdefault(key, []).append(word)
    return PinyinTables(char_pinyin, syllables, words_by_sound, core,
                        frozenset(known_words) | frozenset(vocabulary),
                        {key: tuple(words) for key, words in alikes.items() if len(words) > 1})
