"""Places (every province and prefecture of China) and the certification rules and channels
recorded for them in knowledge/regions/.

Rules are layered: national default → province → city, field by field, so a city may change
only its resume cutoff and keep the rest. An unknown place is never an error: it gets the
national rule and a note saying so.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot import KNOWLEDGE_DIR
from bot.deadline.rules import (
    FIRST_CERTIFICATION_MODES,
    RULE_TYPES,
    SUSPENSION_MODES,
    AppliedRule,
    Passive,
    RegionRef,
    Rule,
    parse_month_day,
)
from bot.deadline.schemes import SCHEMES
from bot.errors import KnowledgeError
from bot.sources import host_of, is_official_host

REGIONS_DIR = KNOWLEDGE_DIR / "regions"  # the project's own; see use_knowledge_dir
_current_dir: Path = REGIONS_DIR
CHANNEL_KINDS = ("app", "mini_program", "wechat", "website", "self_service", "offline", "phone",
                 "home_visit")
NATIONAL_LABEL = "全国通用规则"
# Fields of a rule override that change the computed rule; the others (note, important,
# sources, verified) only explain it.
_RULE_SETTINGS = ("type", "months", "windows", "suspension", "resume_cutoff_day",
                  "first_certification")
_RULE_FIELDS = {*_RULE_SETTINGS, "note", "important", "sources", "verified"}
_REGION_FIELDS = {"region", "note", "note_sources", "rules", "channels", "cities", "passive_for"}
_CITY_FIELDS = {"note", "note_sources", "rules", "channels", "passive_for"}
_CHANNEL_FIELDS = {"name", "kind", "how", "verified", "sources"}
_SOURCE_FIELDS = {"url", "official", "note", "ref", "issuer"}
_PASSIVE_FIELDS = {"who", "text", "sources"}

# Short city names that are also everyday words. In free text they count as a place only next
# to words that say "place" (我是安康的, 住在东方); "祝您安康" is not a city.
_AMBIGUOUS_WORDS = (
    "安康 东方 来宾 白银 新星 阿里 白杨 朝阳 大同 开封 大庆 长治 安顺 日照 和田 哈密 白沙 双河 "
    "三明 大理 红河 普洱 怒江 中山 定安 北海 保山 文山 兴安 海东 海北 山南 通化 吉安 金昌 "
    "万宁 文昌 乐东 琼中 五指山 天门 新余 随州 永州 铜仁 丽江 玉林 白山 黑河 宜春 长春 平凉 庆阳 "
    "泰安 宁德 南平 承德 保定 新乡 信阳 商丘 周口 南阳 安阳 濮阳 武威 张掖 鹤壁"
)
AMBIGUOUS_SHORT = frozenset(_AMBIGUOUS_WORDS.split())
_PLACE_BEFORE = ("在", "住", "是", "来自", "老家", "户口", "回", "去", "到", "我们", "咱们", "咱")
_PLACE_AFTER = ("市", "人", "的", "这边", "那边", "这里", "那里", "地区", "本地", "当地", "社保",
                "人社", "户口", "户籍", "退休", "养老", "认证", ",", "，", " ")
# A short name followed by these is a street or a district somewhere else (北京朝阳区, 中山路).
_NOT_CITY_AFTER = ("区", "县", "路", "街", "镇", "乡", "村", "大道", "小区", "公园", "广场", "医院",
                   "大学", "装", "门", "号")


class RegionDataError(KnowledgeError):
    pass


@dataclass(frozen=True)
class Source:
    url: str | None
    official: bool
    note: str | None = None
    ref: str | None = None
    issuer: str | None = None  # whose words a non-official page carries (人社部, 葫芦岛市人社局)


@dataclass(frozen=True)
class Channel:
    name: str
    kind: str
    how: str
    verified: bool
    region: str  # whose channel: 武汉市 / 湖北省 / 全国
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True)
class Region:
    adcode: str
    name: str  # 锦州市
    short: str  # 锦州
    level: str  # province / prefecture / county
    province: str  # 辽宁省
    province_short: str  # 辽宁

    @property
    def is_province(self) -> bool:
        return self.level == "province"

    @property
    def display(self) -> str:
        """锦州市（辽宁省）, or just 辽宁省 for a province-level division."""
        return self.name if self.is_province else f"{self.name}（{self.province}）"

    def ref(self) -> RegionRef:
        return RegionRef(city=None if self.is_province else self.short,
                         province=self.province_short)


@dataclass
class _Layer:
    """What one region's file says: rule overrides per scheme ('all' too), notes, channels."""

    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    passive: Passive | None = None


@dataclass
class RegionData:
    regions: list[Region]
    by_name: dict[str, Region]
    layers: dict[str, _Layer]  # by region full name
    national_rules: dict[str, dict[str, Any]]
    national_channels: list[Channel]
    max_name_len: int

    def province_of(self, region: Region) -> Region:
        return self.by_name[region.province]


# --- divisions -------------------------------------------------------------------------------


def _read_divisions(path: Path) -> list[Region]:
    with path.open(encoding="utf-8") as fh:
        return [
            Region(row["adcode"], row["name"], row["short"], row["level"], row["province"],
                   row["province_short"])
            for row in csv.DictReader(fh)
        ]


def _name_index(regions: list[Region]) -> dict[str, Region]:
    index: dict[str, Region] = {}
    # Provinces first so that 吉林 and 海南 mean the provinces, not 吉林市 or 海南藏族自治州.
    for region in sorted(regions, key=lambda r: (not r.is_province, r.adcode)):
        names = [region.name, region.short]
        if "自治州" in region.name:
            names.append(region.short + "州")  # 恩施州, 延边州
        if region.name == "内蒙古自治区":
            names.append("内蒙")
        for name in names:
            index.setdefault(name, region)
    return index


def _clean(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


# --- loading and validation ------------------------------------------------------------------


def _divisions_path(directory: Path) -> Path:
    own = directory / "divisions.csv"
    return own if own.exists() else REGIONS_DIR / "divisions.csv"


def _region_files(directory: Path) -> list[Path]:
    return sorted((directory / "provinces").glob("*.yaml"))


def _load_yaml(path: Path, problems: list[str]) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        problems.append(f"{path.name}: -: 读不了这个文件（{str(exc).splitlines()[0]}）")
        return None


def _check_sources(
    sources: Any, where: str, problems: list[str]
) -> tuple[Source, ...]:
    """Every source needs a URL, or a `ref:` saying where the fact is written down."""
    if not isinstance(sources, list) or not sources:
        problems.append(f"{where}: 缺少来源（sources），至少要有一条网址")
        return ()
    out = []
    for i, src in enumerate(sources):
        here = f"{where}/sources[{i}]"
        if not isinstance(src, dict):
            problems.append(f"{here}: 每条来源要写成 url: … official: …")
            continue
        for key in sorted(set(src) - _SOURCE_FIELDS):
            problems.append(f"{here}: 不认识的字段“{key}”")
        url, ref = src.get("url"), src.get("ref")
        well_formed = isinstance(url, str) and re.match(r"^(https?://\S+|seed: \S+)$", url)
        if url is not None and not well_formed:
            problems.append(f"{here}: 网址“{url}”格式不对（要以 http:// 或 https:// 开头）")
        if url is None and not ref:
            problems.append(f"{here}: 缺少来源网址（url）")
        official = src.get("official")
        if not isinstance(official, bool):
            problems.append(f"{here}: official 要写 true 或 false")
        elif official and well_formed and not is_official_host(url):
            host = host_of(url) or url
            problems.append(
                f"{here}: {host} 不是政府或公共机构的网站，不能写 official: true；"
                "请改成 official: false，转载官方通知的用 issuer 写明是谁发布的"
            )
        elif official and url is None:
            problems.append(f"{here}: 没有网址的来源不能写 official: true")
        issuer = src.get("issuer")
        if issuer is not None and not (isinstance(issuer, str) and issuer.strip()):
            problems.append(f"{here}: issuer 要写发布原文的机构名称，例如 人社部")
        out.append(Source(url, official is True, src.get("note"), ref,
                          issuer.strip() if isinstance(issuer, str) else None))
    return tuple(out)


def _check_rule(
    scheme: str, raw: Any, where: str, problems: list[str], *, complete: bool
) -> dict[str, Any] | None:
    if scheme != "all" and scheme not in SCHEMES:
        problems.append(f"{where}: 不认识的待遇类型“{scheme}”（可选：{'、'.join(SCHEMES)}、all）")
        return None
    if not isinstance(raw, dict):
        problems.append(f"{where}: 规则要写成 type: … 这样的若干行")
        return None
    before = len(problems)
    for key in sorted(set(raw) - _RULE_FIELDS):
        problems.append(f"{where}: 不认识的字段“{key}”")
    kind = raw.get("type")
    if kind is None and complete:
        problems.append(f"{where}: 缺少规则类型 type")
    if kind is not None and kind not in RULE_TYPES:
        problems.append(f"{where}: 规则类型“{kind}”不对（可选：{'、'.join(RULE_TYPES)}）")
    if kind == "rolling":
        months = raw.get("months")
        if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 60:
            problems.append(f"{where}: rolling 规则要写 months（1到60之间的整数）")
    elif "months" in raw:
        problems.append(f"{where}: 只有 rolling 规则才写 months")
    if kind == "windows":
        _check_windows(raw.get("windows"), where, problems)
    elif "windows" in raw:
        problems.append(f"{where}: 只有 windows 规则才写 windows")
    if "suspension" in raw and raw["suspension"] not in SUSPENSION_MODES:
        problems.append(
            f"{where}: suspension“{raw['suspension']}”不对（可选：{'、'.join(SUSPENSION_MODES)}）"
        )
    if "resume_cutoff_day" in raw:
        day = raw["resume_cutoff_day"]
        if not isinstance(day, int) or isinstance(day, bool) or not 1 <= day <= 31:
            problems.append(f"{where}: resume_cutoff_day 要写1到31之间的整数")
    if "verified" in raw and not isinstance(raw["verified"], bool):
        problems.append(f"{where}: verified 要写 true 或 false")
    if "first_certification" in raw and raw["first_certification"] not in FIRST_CERTIFICATION_MODES:
        modes = "、".join(FIRST_CERTIFICATION_MODES)
        problems.append(f"{where}: first_certification“{raw['first_certification']}”不对"
                        f"（可选：{modes}）")
    for key in ("note", "important"):
        if key in raw and not (isinstance(raw[key], str) and raw[key].strip()):
            problems.append(f"{where}: {key} 要写一句话")
    _check_sources(raw.get("sources"), where, problems)
    return dict(raw) if len(problems) == before else None


def _check_windows(windows: Any, where: str, problems: list[str]) -> None:
    if not isinstance(windows, list) or not windows:
        problems.append(f"{where}: windows 规则要列出至少一个时段")
        return
    previous_end: tuple[int, int] | None = None
    for i, pair in enumerate(windows):
        if not (isinstance(pair, list) and len(pair) == 2):
            problems.append(f"{where}/windows[{i}]: 每个时段写成 [\"01-21\", \"06-20\"]")
            continue
        try:
            start, end = parse_month_day(pair[0]), parse_month_day(pair[1])
        except ValueError:
            problems.append(
                f"{where}/windows[{i}]: 日期“{pair}”不是有效的 MM-DD（月-日，各两位数）"
            )
            continue
        if start > end:
            problems.append(f"{where}/windows[{i}]: 时段 {pair[0]}..{pair[1]} 结束早于开始")
        if previous_end is not None and start <= previous_end:
            problems.append(f"{where}/windows[{i}]: 时段要按时间顺序排列，且不能重叠")
        previous_end = end


def _check_channels(
    raw: Any, where: str, owner: str, problems: list[str]
) -> list[Channel]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(f"{where}: channels 要写成列表（每条以 - name: 开头）")
        return []
    out = []
    for i, item in enumerate(raw):
        here = f"{where}/channels[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{here}: 渠道要写 name、kind、how、verified、sources")
            continue
        before = len(problems)
        for key in sorted(set(item) - _CHANNEL_FIELDS):
            problems.append(f"{here}: 不认识的字段“{key}”")
        for key in ("name", "how"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                problems.append(f"{here}: 缺少 {key}")
        if item.get("kind") not in CHANNEL_KINDS:
            kinds = "、".join(CHANNEL_KINDS)
            problems.append(f"{here}: kind“{item.get('kind')}”不对（可选：{kinds}）")
        if not isinstance(item.get("verified"), bool):
            problems.append(f"{here}: verified 要写 true 或 false")
        sources = _check_sources(item.get("sources"), here, problems)
        if len(problems) == before:
            out.append(Channel(item["name"].strip(), item["kind"], item["how"].strip(),
                               item["verified"], owner, sources))
    return out


def _check_layer(
    raw: dict[str, Any], where: str, owner: str, problems: list[str], allowed: set[str]
) -> _Layer:
    layer = _Layer()
    for key in sorted(set(raw) - allowed):
        problems.append(f"{where}: 不认识的字段“{key}”")
    rules = raw.get("rules") or {}
    if not isinstance(rules, dict):
        problems.append(f"{where}/rules: 要按待遇类型分条写")
        rules = {}
    for scheme, rule in rules.items():
        checked = _check_rule(str(scheme), rule, f"{where}/rules/{scheme}", problems,
                              complete=False)
        if checked is not None:
            layer.rules[str(scheme)] = checked
    note = raw.get("note")
    if note is not None:
        if not isinstance(note, str):
            problems.append(f"{where}: note 要写一句话")
        else:
            _check_sources(raw.get("note_sources"), f"{where}/note", problems)
            layer.notes.append(note.strip())
    layer.channels = _check_channels(raw.get("channels"), where, owner, problems)
    if "passive_for" in raw:
        layer.passive = _check_passive(raw["passive_for"], f"{where}/passive_for", problems)
    return layer


def _check_passive(raw: Any, where: str, problems: list[str]) -> Passive | None:
    """passive_for: who there is certified by data matching and needs to do nothing."""
    if not isinstance(raw, dict):
        problems.append(f"{where}: 要写 who（哪些人不用自己办）、text（一句说明）和 sources")
        return None
    before = len(problems)
    for key in sorted(set(raw) - _PASSIVE_FIELDS):
        problems.append(f"{where}: 不认识的字段“{key}”")
    for key in ("who", "text"):
        if not (isinstance(raw.get(key), str) and raw[key].strip()):
            problems.append(f"{where}: 缺少 {key}")
    _check_sources(raw.get("sources"), where, problems)
    if len(problems) != before:
        return None
    return Passive(raw["who"].strip(), _sentence(raw["text"]))


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(("。", "！", "？")) else text + "。"


def _collect(directory: Path) -> tuple[RegionData | None, list[str]]:
    problems: list[str] = []
    divisions_path = _divisions_path(directory)
    try:
        regions = _read_divisions(divisions_path)
    except (OSError, KeyError, csv.Error) as exc:
        return None, [f"{divisions_path.name}: -: 读不了行政区划表（{exc}）"]
    by_name = _name_index(regions)
    by_full = {r.name: r for r in regions}

    national = _load_yaml(directory / "national.yaml", problems) or {}
    national_rules: dict[str, dict[str, Any]] = {}
    national_channels: list[Channel] = []
    if not isinstance(national, dict):
        problems.append("national.yaml: -: 文件内容要是若干个“字段: 值”")
        national = {}
    for scheme in SCHEMES:
        raw = (national.get("rules") or {}).get(scheme)
        if raw is None:
            problems.append(f"national.yaml: rules/{scheme}: 缺少这种待遇的全国规则")
            continue
        checked = _check_rule(scheme, raw, f"national.yaml: rules/{scheme}", problems,
                              complete=True)
        if checked is not None:
            national_rules[scheme] = checked
    for scheme in sorted(set(national.get("rules") or {}) - set(SCHEMES)):
        problems.append(f"national.yaml: rules/{scheme}: 不认识的待遇类型")
    national_channels = _check_channels(national.get("channels"), "national.yaml: -", "全国",
                                        problems)

    layers: dict[str, _Layer] = {}
    for path in _region_files(directory):
        raw = _load_yaml(path, problems)
        if raw is None:
            continue
        if not isinstance(raw, dict):
            problems.append(f"{path.name}: -: 文件内容要是若干个“字段: 值”")
            continue
        name = raw.get("region")
        province = by_name.get(_clean(str(name))) if name else None
        if province is None or not province.is_province:
            problems.append(f"{path.name}: region: “{name}”不是 divisions.csv 里的省级行政区")
            continue
        where = f"{path.name}: {province.name}"
        if province.name in layers:
            problems.append(f"{where}: 这个省在另一个文件里已经写过了")
            continue
        layers[province.name] = _check_layer(raw, where, province.name, problems, _REGION_FIELDS)
        cities = raw.get("cities") or {}
        if not isinstance(cities, dict):
            problems.append(f"{where}/cities: 要按城市名分条写")
            continue
        for city_name, city_raw in cities.items():
            city = by_full.get(_clean(str(city_name))) or by_name.get(_clean(str(city_name)))
            here = f"{path.name}: {province.name}/{city_name}"
            if city is None or city.is_province:
                problems.append(f"{here}: 城市“{city_name}”不在 divisions.csv 里")
                continue
            if city.province != province.name:
                problems.append(f"{here}: {city.name}属于{city.province}，不属于{province.name}")
                continue
            if city.name in layers:
                problems.append(f"{here}: 这个城市写了两遍")
                continue
            if not isinstance(city_raw, dict):
                problems.append(f"{here}: 城市下面要写 rules、channels 或 note")
                continue
            layers[city.name] = _check_layer(city_raw, here, city.name, problems, _CITY_FIELDS)

    data = RegionData(
        regions=regions,
        by_name=by_name,
        layers=layers,
        national_rules=national_rules,
        national_channels=national_channels,
        max_name_len=max(len(n) for n in by_name),
    )
    return data, problems


def use_knowledge_dir(knowledge_dir: Path | str) -> None:
    """Read region data from `knowledge_dir`/regions from now on (the settings' KNOWLEDGE_DIR),
    as the knowledge base is; files read before are read again, so /reload sees edits."""
    global _current_dir
    _current_dir = Path(knowledge_dir) / "regions"
    _load.cache_clear()


def regions_dir() -> Path:
    """The region directory in use."""
    return _current_dir


def validate_region_data(directory: Path | str | None = None) -> list[str]:
    """Problems in the region files as `file: entry: problem` lines; empty when all is well."""
    return _collect(Path(directory) if directory else _current_dir)[1]


def load_region_data(directory: str | Path | None = None) -> RegionData:
    """The region data of `directory`, by default the one in use (read once, then cached)."""
    return _load(str(directory or _current_dir))


@lru_cache(maxsize=4)
def _load(directory: str) -> RegionData:
    data, problems = _collect(Path(directory))
    if problems or data is None:
        raise RegionDataError(problems)
    return data


# --- look-ups --------------------------------------------------------------------------------


def lookup_region(name: str | None) -> Region | None:
    """A place name as typed in a form field → Region.

    锦州, 锦州市, 辽宁省锦州市, 内蒙古, 恩施州 all work; None when nothing matches."""
    cleaned = _clean(name or "").rstrip("省市")
    if not cleaned:
        return None
    data = load_region_data()
    for candidate in (_clean(name or ""), cleaned):
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
    starts = _name_starts(data)
    i = 0
    while i < len(text):
        if text[i] not in starts:  # most characters start no place name
            i += 1
            continue
        for length in range(min(data.max_name_len, len(text) - i), 1, -1):
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


_STARTS: dict[int, frozenset[str]] = {}


def _name_starts(data: RegionData) -> frozenset[str]:
    """First characters of all place names (cached per loaded data set)."""
    starts = _STARTS.get(id(data))
    if starts is None:
        starts = _STARTS[id(data)] = frozenset(name[0] for name in data.by_name if name)
    return starts


def _counts_as_place(text: str, start: int, word: str, region: Region, strict: bool) -> bool:
    if word == region.name or (region.is_province and word != region.short):
        return True  # full names are never ordinary words
    after = text[start + len(word) :]
    if not region.is_province and after.startswith(_NOT_CITY_AFTER):
        return False
    if strict and word in AMBIGUOUS_SHORT:
        before = text[:start]
        return before.endswith(_PLACE_BEFORE) or after.startswith(_PLACE_AFTER)
    return True


def _region_for(place: Region | str | None) -> tuple[Region | None, str | None]:
    """(region, the unknown name if a name was given but not found)."""
    if place is None or isinstance(place, Region):
        return place, None
    if not _clean(place):
        return None, None
    region = lookup_region(place)
    return region, (None if region else place.strip())


def rule_for(scheme: str, place: Region | str | None = None) -> AppliedRule:
    """The rule for `scheme` at `place`: city overrides, then province, then national.

    A rule of one city never reaches its province or its neighbours: only the place's own
    chain (city → its province → national) is read."""
    if scheme not in SCHEMES:
        raise KeyError(scheme)
    data = load_region_data()
    region, unknown = _region_for(place)
    chain: list[Region] = []
    if region is not None:
        if not region.is_province:
            chain.append(region)
        chain.append(data.province_of(region))

    national = data.national_rules[scheme]
    merged = dict(national)
    contributors: list[Region] = []
    rule_notes: list[str] = []
    important: list[str] = []
    own_cycle = False  # a regional rule sets the cycle itself (type)
    for layer_region in reversed(chain):  # province first, then the city on top
        layer = data.layers.get(layer_region.name)
        if layer is None:
            continue
        for key in ("all", scheme):
            override = layer.rules.get(key)
            if not override:
                continue
            settings = {k: v for k, v in override.items() if k in _RULE_SETTINGS}
            if "type" in settings:  # a new type brings its own parameters
                merged = {k: v for k, v in merged.items() if k not in ("months", "windows")}
                own_cycle = True
            merged.update(settings)
            if settings and layer_region not in contributors:
                contributors.append(layer_region)
            if override.get("note"):
                rule_notes.append(override["note"])
            if override.get("important"):
                important.append(_sentence(override["important"]))
            if override.get("verified") is False:
                rule_notes.append(f"{layer_region.name}的这条规定未经核实。")

    rule = Rule(
        type=merged["type"],
        months=merged.get("months"),
        windows=tuple(tuple(w) for w in merged.get("windows", ())),  # type: ignore[misc]
        suspension=merged.get("suspension", "due_month"),
        resume_cutoff_day=merged.get("resume_cutoff_day"),
        first_certification=merged.get("first_certification"),
    )
    notes: list[str] = []
    if not own_cycle:
        # The national cycle applies: its caveats (城乡居民、遗属 vary by place) come first.
        if national.get("note"):
            rule_notes.insert(0, national["note"])
        if national.get("important"):
            important.insert(0, _sentence(national["important"]))
    if contributors:
        level = "province" if all(r.is_province for r in contributors) else "city"
        label = "和".join(r.name for r in reversed(contributors))
    else:
        level, label = "national", NATIONAL_LABEL
        if unknown:
            notes.append(f"没有找到“{unknown}”这个地方，按全国通用规则计算。")
        elif region is None:
            notes.append("没有说明所在地区，按全国通用规则计算；告诉我城市可以按当地规定算。")
        else:
            notes.append(f"{region.display}没有收录到特别规定，按全国通用规则计算。")
    passive: Passive | None = None
    for layer_region in chain:  # the nearest passive_for counts
        layer = data.layers.get(layer_region.name)
        if layer is not None and layer.passive is not None:
            passive = layer.passive
            break
    if passive is not None:
        notes.append(passive.text)
    notes.extend(rule_notes)
    notes.extend(important)
    for layer_region in chain:  # city notes before province notes
        layer = data.layers.get(layer_region.name)
        if layer:
            notes.extend(layer.notes)
    return AppliedRule(
        scheme=scheme,
        rule=rule,
        label=label,
        level=level,
        region=region.ref() if region else None,
        place=region.display if region else None,
        unknown_place=unknown,
        notes=tuple(notes),
        important=tuple(important),
        passive=passive,
    )


def channels_for(place: Region | str | None = None) -> list[Channel]:
    """Where to certify: the city's own channels, then the province's, then national ones."""
    return [*local_help(place).channels, *load_region_data().national_channels]


@dataclass(frozen=True)
class LocalHelp:
    """What the region files hold for one place: its own channels (city, then province) and
    its notes (city, then province). A province with no verified local channel has a note
    pointing to the national ones instead, so one of the two is never empty."""

    region: Region | None
    channels: tuple[Channel, ...]
    notes: tuple[str, ...]


def local_help(place: Region | str | None) -> LocalHelp:
    data = load_region_data()
    region, _unknown = _region_for(place)
    channels: list[Channel] = []
    notes: list[str] = []
    if region is not None:
        chain = [region] if region.is_province else [region, data.province_of(region)]
        for layer_region in chain:
            layer = data.layers.get(layer_region.name)
            if layer:
                channels.extend(layer.channels)
                notes.extend(layer.notes)
    return LocalHelp(region, tuple(channels), tuple(notes))


def all_regions() -> list[Region]:
    return list(load_region_data().regions)
