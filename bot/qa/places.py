"""Where a question is about, decided apart from what it asks.

A message may name no place (then the user's remembered city is used), one place, or two: a
son in 深圳 asking about his father in a 河南 village. The place that counts is the one tied to
the pension (老家, 户口, 参保地, where the parent lives and is paid); when the words do not say
which, the bot asks rather than guesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.deadline.divisions import Region
from bot.deadline.place_names import find_regions_in_text, lookup_region
from bot.deadline.region_data import RegionData, load_region_data

# Words in a place's clause that tie the place to the pension ...
_PENSION_TIES = ("老家", "户口", "户籍", "参保", "社保在", "退休", "领", "发放", "原单位",
                 "单位在", "缴", "养老金在")
_RETIRED_THERE = ("退休", "退的休", "退下来")
_FAMILY = ("爸", "妈", "父", "母", "老人", "公公", "婆婆", "岳父", "岳母", "爷爷", "奶奶",
           "外公", "外婆", "姥姥", "姥爷", "老伴", "丈夫", "老公", "妻子", "老婆", "舅", "姨",
           "叔", "伯", "姑")
_SAME_HOME = ("老人", "老伴", "丈夫", "老公", "妻子", "老婆")
# ... and words that say it is only where the person asking lives or works.
_ASKER_HERE = re.compile(r"(我|本人|俺|自己|孩子|儿子|女儿|子女)(现在|目前|人|一直)?"
                         r"(在|住|住在|定居|工作|上班|打工)")
# 来不了北京: the old person cannot come to where the asker is.
_ASKER_PLACE_AFTER = re.compile(r"(来|过来|到)不了$")
# What may stand beside a place name in a message that only names where (在郑州那边的老家).
_PLACE_FILLER = re.compile("|".join(sorted(
    ("我", "俺", "的", "是", "在", "就", "那边", "那里", "这边", "这里", "老家", "户口", "户籍",
     "社保", "参保", "养老金", "退休金", "领", "领取", "发", "呢", "啊", "吧", "哦", "了", "嗯",
     "他", "她", "们", "家", "都", "人", "住", *_FAMILY), key=len, reverse=True)))
_LIVES_THERE = re.compile(r"工作|上班|打工|生活|定居|居住|住")
_CLAUSE_BREAK = re.compile(r"[，,。.;；！!？?\s、]")
# A local app or mini program names its province as surely as a place name does (京通 → 北京).
_APP_KINDS = ("app", "mini_program", "wechat", "website")
_APP_SUFFIX = re.compile(r"(APP|App|app|小程序|微信公众号|公众号|认证|市民云)+$")
_APP_SPLIT = re.compile(r"[、/，,或]|（[^）]*）|\([^)]*\)|“|”|\s")
# Living here is like living abroad: no mainland pension is paid by these places.
LIVING_ABROAD = frozenset({"香港", "澳门", "台湾"})


@dataclass(frozen=True)
class PlaceReading:
    """The place to answer for, the other places named, and the choice when unsure."""

    region: Region | None = None
    asked_about: tuple[Region, ...] = ()  # two or more places the words do not decide between
    others: tuple[Region, ...] = ()  # other places named that are not where the pension is
    # The one place named is where the asker is, and the pension is a parent's: unknown where.
    asker: Region | None = None

    @property
    def province(self) -> str | None:
        return self.region.province_short if self.region else None

    @property
    def name(self) -> str:
        """The place as the reply names it: the city when one was named, else the province."""
        return self.region.short if self.region else ""


def place_key(region: Region) -> str:
    """A name that finds this place again and no other (for button data): the short name,
    or province and full name where the short one is shared (朝阳 in 北京 and in 辽宁)."""
    if lookup_region(region.short) == region:
        return region.short
    return region.name if region.is_province else f"{region.province}{region.name}"


def app_names(data: RegionData | None = None) -> dict[str, Region]:
    """Names of local apps and mini programs → their province (names shared by two provinces,
    such as 老来网, say nothing about the place and are left out)."""
    data = data or load_region_data()
    # Kept on the data object itself, so a reloaded data set never sees another's names.
    cached = data.__dict__.get("_app_names")
    if cached is not None:
        return cached
    owners: dict[str, set[str]] = {}
    for layer_name, layer in data.layers.items():
        region = data.by_name.get(layer_name)
        if region is None:
            continue
        province = data.province_of(region)
        for channel in layer.channels:
            if channel.kind not in _APP_KINDS:
                continue
            for part in _APP_SPLIT.split(channel.name):
                name = _APP_SUFFIX.sub("", part.strip())
                if len(name) >= 2 and not name.isascii():
                    owners.setdefault(name, set()).add(province.name)
    # A name inside another province's name is too general to tell (智慧人社, 老来).
    longest_first = sorted(owners.items(), key=lambda item: -len(item[0]))  # as _mentions reads
    names = {name: data.by_name[next(iter(p))] for name, p in longest_first
             if len(p) == 1 and not any(name in other and owners[other] != p for other in owners)}
    data.__dict__["_app_names"] = names
    return names


def _mentions(text: str) -> list[tuple[int, str, Region]]:
    """Places and local apps named in `text`, in order of position."""
    # App names first and longest first: 辽宁人社 is one name, not 辽宁 followed by 人社.
    found: list[tuple[int, str, Region]] = []
    taken: set[int] = set()
    for name, region in app_names().items():
        start = text.find(name)
        while start >= 0:
            span = set(range(start, start + len(name)))
            if not taken & span:
                found.append((start, name, region))
                taken |= span
            start = text.find(name, start + len(name))
    for start, word, region in find_regions_in_text(text):
        if region.province_short in LIVING_ABROAD:
            continue  # where the person lives, a topic of its own: the pension is the mainland's
        span = set(range(start, start + len(word)))
        if not taken & span:
            found.append((start, word, region))
            taken |= span
    return sorted(found, key=lambda m: m[0])


def strip_places(text: str) -> str:
    """The message without its place names, so that where never decides what is asked."""
    mentions = _mentions(text)
    if not mentions:
        return text
    out, pos = [], 0
    for start, word, _region in mentions:
        before, end = text[pos:start], start + len(word)
        living = _LIVES_THERE.match(text, end)
        if living and before.endswith("在"):
            # 我在深圳工作: where the asker lives, whole, says nothing about what is asked.
            before, end = before[:-1].removesuffix("住"), living.end()
        out.append(before)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def only_a_place(text: str) -> Region | None:
    """The place when a message names where and says nothing else (郑州, 在河南, 我爸在郑州那边,
    我在上海工作 老家是安徽的): a reply to "which city?", or a question to answer for that place."""
    if not _mentions(text):
        return None
    rest = _PLACE_FILLER.sub("", _CLAUSE_BREAK.sub("", strip_places(text)))
    if rest:
        return None
    # 河南郑州 is one place; of two, the one tied to the pension (老家), if the words say which.
    return read_place(text).region


def read_place(text: str, remembered: str | None = None) -> PlaceReading:
    """The place `text` is about; the remembered city when the message names none."""
    mentions = _mentions(text)
    # One place per province: 辽宁锦州 is one place, the most specific name wins.
    by_province: dict[str, tuple[int, str, Region]] = {}
    for mention in mentions:
        province = mention[2].province_short
        kept = by_province.get(province)
        if kept is None or (kept[2].is_province and not mention[2].is_province):
            by_province[province] = mention
    places = list(by_province.values())
    if not places:
        region = lookup_region(remembered) if remembered else None
        return PlaceReading(region)
    if len(places) == 1:
        start, word, region = places[0]
        if _tie_score(text, start, word) < 0 and _about_family(text, start, word):
            # 我人在上海 帮我爸认证: 上海 is the son's city; the father's pension may be paid
            # anywhere, so its channels would mislead.
            fallback = lookup_region(remembered) if remembered else None
            return PlaceReading(fallback, others=(region,) if fallback else (), asker=region)
        return PlaceReading(region)
    scored = sorted(((_tie_score(text, start, word), start, region)
                     for start, word, region in places), key=lambda s: (-s[0], s[1]))
    best, runner_up = scored[0], scored[1]
    if best[0] > runner_up[0] and best[0] > 0:
        return PlaceReading(best[2], others=tuple(region for _, _, region in scored[1:]))
    return PlaceReading(None, asked_about=tuple(region for _, _, region in scored))


def _tie_score(text: str, start: int, word: str) -> int:
    """How strongly the words around a place tie it to the pension (negative: the asker's)."""
    left = _CLAUSE_BREAK.split(text[:start])[-1]
    right = _CLAUSE_BREAK.split(text[start + len(word):])[0]
    clause = left + word + right
    score = 0
    if any(tie in clause for tie in _PENSION_TIES):
        score += 2
    if right.startswith(_RETIRED_THERE):
        score += 1  # 从武汉退休现在住海南: one clause ties both, the retiring names the place
    if any(member in left for member in _FAMILY):
        score += 1
    # 我在上海上班 is the asker's city; 我在北京领的退休金 is the asker's own pension's.
    paid_there = any(tie in right for tie in _PENSION_TIES)
    if (_ASKER_HERE.search(left + word) and not paid_there) or _ASKER_PLACE_AFTER.search(left):
        score -= 2
    return score


def _about_family(text: str, start: int, word: str) -> bool:
    """Whether the message asks for a parent or another relative who may live elsewhere
    (not 老人 in general, nor a spouse, who lives with the asker)."""
    rest = text[:start] + text[start + len(word):]
    return any(member in rest for member in _FAMILY if member not in _SAME_HOME)
