"""Finding the place a message names: 锦州, 辽宁省锦州市, 恩施州, and short names that are also
everyday words (安康, 东方) only where the words around them say "place"."""

from __future__ import annotations

import unicodedata

from bot.deadline.divisions import Region, clean_name
from bot.deadline.region_data import RegionData, load_region_data

# Short city names that are also everyday words. In free text they count as a place only next
# to words that say "place" (我是安康的, 住在东方); "祝您安康" is not a city.
_AMBIGUOUS_WORDS = (
    "安康 东方 来宾 白银 新星 阿里 白杨 朝阳 大同 开封 大庆 长治 安顺 日照 和田 哈密 白沙 双河 "
    "三明 大理 红河 普洱 怒江 中山 定安 北海 保山 文山 兴安 海东 海北 山南 通化 吉安 金昌 "
    "万宁 文昌 乐东 琼中 五指山 天门 新余 随州 永州 铜仁 丽江 玉林 白山 黑河 宜春 长春 平凉 庆阳 "
    "泰安 宁德 南平 承德 保定 新乡 信阳 商丘 周口 南阳 安阳 濮阳 武威 张掖 鹤壁 "
    # districts of the four municipalities
    "和平 长寿 南岸 河东 河西 金山 滨海 东城 西城 北辰 红桥 两江 大足 长宁 宝山 石柱 秀山 云阳 "
    "巫山 通州 密云 南开 普陀 黄浦 怀柔 东丽 静海 静安 荣昌 平谷 江北"
)
_AMBIGUOUS_SHORT = frozenset(_AMBIGUOUS_WORDS.split())
_PLACE_BEFORE = ("在", "住", "是", "来自", "老家", "户口", "回", "去", "到", "我们", "咱们", "咱")
_PLACE_AFTER = ("市", "人", "的", "这边", "那边", "这里", "那里", "地区", "本地", "当地", "社保",
                "人社", "户口", "户籍", "退休", "养老", "认证", ",", "，", " ")
# A short name followed by these is a street or a district somewhere else (北京朝阳区, 中山路).
_NOT_CITY_AFTER = ("区", "县", "路", "街", "镇", "乡", "村", "大道", "小区", "公园", "广场", "医院",
                   "大学", "装", "门", "号")


def lookup_region(name: str | None) -> Region | None:
    """A place name as typed in a form field → Region.

    锦州, 锦州市, 辽宁省锦州市, 内蒙古, 恩施州 all work; None when nothing matches."""
    cleaned = clean_name(name or "").rstrip("省市")
    if not cleaned:
        return None
    data = load_region_data()
    for candidate in (clean_name(name or ""), cleaned):
        if candidate in data.by_name:
            return data.by_name[candidate]
    return _best_in_text(cleaned, data, strict_words=False)


def find_region_in_text(text: str | None) -> Region | None:
    """The place a free-text message names, or None. A city beats its province (辽宁锦州 → 锦州);
    among equals the longest name wins."""
    if not text:
        return None
    return _best_in_text(unicodedata.normalize("NFKC", text), load_region_data(),
                         strict_words=True)


def find_regions_in_text(text: str | None) -> list[tuple[int, str, Region]]:
    """Every place a free-text message names, as (position, word as typed, region), in order."""
    if not text:
        return []
    return _mentions(unicodedata.normalize("NFKC", text), load_region_data(), strict_words=True)


def _mentions(text: str, data: RegionData, *, strict_words: bool
              ) -> list[tuple[int, str, Region]]:
    found: list[tuple[int, str, Region]] = []
    heads = data.name_heads
    i = 0
    while i < len(text):
        longest = heads.get(text[i : i + 2])
        if longest is None:  # most characters start no place name
            i += 1
            continue
        for length in range(min(longest, len(text) - i), 1, -1):
            word = text[i : i + length]
            region = data.by_name.get(word)
            if region is None or not _counts_as_place(text, i, word, region, strict_words):
                continue
            found.append((i, word, region))
            i += length - 1
            break
        i += 1
    return found


def _best_in_text(text: str, data: RegionData, *, strict_words: bool) -> Region | None:
    found = [(0 if region.is_province else 1, len(word), -i, region)
             for i, word, region in _mentions(text, data, strict_words=strict_words)]
    return max(found, key=lambda item: item[:3])[3] if found else None


def _counts_as_place(text: str, start: int, word: str, region: Region, strict: bool) -> bool:
    if word == region.name or (region.is_province and word != region.short):
        return True  # full names are never ordinary words
    after = text[start + len(word) :]
    if not region.is_province and after.startswith(_NOT_CITY_AFTER):
        return False
    if strict and word in _AMBIGUOUS_SHORT:
        before = text[:start]
        # 北京通州, 天津和平: the province named just before says "place" too.
        own = (region.province, region.province_short)
        return before.endswith(_PLACE_BEFORE) or after.startswith(_PLACE_AFTER) or \
            before.endswith(own)
    return True
