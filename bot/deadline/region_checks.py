"""Checking the entries of one region file (rules, windows, channels, sources, passive_for) and
turning them into values; every problem is a `file: entry: problem` line for the editor."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.deadline.rules import (
    FIRST_CERTIFICATION_MODES,
    RULE_TYPES,
    SUSPENSION_MODES,
    Passive,
    parse_month_day,
)
from bot.deadline.schemes import SCHEMES
from bot.sources import host_of, is_official_host

CHANNEL_KINDS = ("app", "mini_program", "wechat", "website", "self_service", "offline", "phone",
                 "home_visit")
# Fields of a rule override that change the computed rule; the others (note, important,
# sources, verified) only explain it.
RULE_SETTINGS = ("type", "months", "windows", "suspension", "resume_cutoff_day",
                 "first_certification")
_RULE_FIELDS = {*RULE_SETTINGS, "note", "important", "sources", "verified"}
REGION_FIELDS = {"region", "note", "note_sources", "rules", "channels", "cities", "passive_for"}
CITY_FIELDS = {"note", "note_sources", "rules", "channels", "passive_for"}
_CHANNEL_FIELDS = {"name", "kind", "how", "verified", "sources"}
_SOURCE_FIELDS = {"url", "official", "note", "ref", "issuer"}
_PASSIVE_FIELDS = {"who", "text", "sources"}


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


@dataclass
class Layer:
    """What one region's file says: rule overrides per scheme ('all' too), notes, channels."""

    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    passive: Passive | None = None


def _check_sources(
    sources: Any, where: str, problems: list[str]
) -> tuple[Source, ...]:
    """Every source needs a URL, or a `ref:` saying where the fact is written down."""
    if not isinstance(sources, list) or not sources:
        problems.append(f"{where}: 缺少来源（sources），至少要有一条网址")
        return ()
    out = []
    for here, src in _mappings(sources, f"{where}/sources", "每条来源要写成 url: … official: …",
                               problems):
        _unknown_fields(src, _SOURCE_FIELDS, here, problems)
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


def check_rule(
    scheme: str, raw: Any, where: str, problems: list[str], *, complete: bool
) -> dict[str, Any] | None:
    """One scheme's rule (`complete`: the national one, which must name its type); None when
    it has problems."""
    if scheme != "all" and scheme not in SCHEMES:
        problems.append(f"{where}: 不认识的待遇类型“{scheme}”（可选：{'、'.join(SCHEMES)}、all）")
        return None
    if not isinstance(raw, dict):
        problems.append(f"{where}: 规则要写成 type: … 这样的若干行")
        return None
    before = len(problems)
    _unknown_fields(raw, _RULE_FIELDS, where, problems)
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


def check_channels(
    raw: Any, where: str, owner: str, problems: list[str]
) -> list[Channel]:
    """The `channels:` list of `owner` (武汉市 / 湖北省 / 全国), without those with problems."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(f"{where}: channels 要写成列表（每条以 - name: 开头）")
        return []
    out = []
    shape = "渠道要写 name、kind、how、verified、sources"
    for here, item in _mappings(raw, f"{where}/channels", shape, problems):
        before = len(problems)
        _unknown_fields(item, _CHANNEL_FIELDS, here, problems)
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


def check_layer(
    raw: dict[str, Any], where: str, owner: str, problems: list[str], allowed: set[str]
) -> Layer:
    """What one province or city entry says; `allowed` are the fields it may have."""
    layer = Layer()
    _unknown_fields(raw, allowed, where, problems)
    rules = raw.get("rules") or {}
    if not isinstance(rules, dict):
        problems.append(f"{where}/rules: 要按待遇类型分条写")
        rules = {}
    for scheme, rule in rules.items():
        checked = check_rule(str(scheme), rule, f"{where}/rules/{scheme}", problems,
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
    layer.channels = check_channels(raw.get("channels"), where, owner, problems)
    if "passive_for" in raw:
        layer.passive = _check_passive(raw["passive_for"], f"{where}/passive_for", problems)
    return layer


def _check_passive(raw: Any, where: str, problems: list[str]) -> Passive | None:
    """passive_for: who there is certified by data matching and needs to do nothing."""
    if not isinstance(raw, dict):
        problems.append(f"{where}: 要写 who（哪些人不用自己办）、text（一句说明）和 sources")
        return None
    before = len(problems)
    _unknown_fields(raw, _PASSIVE_FIELDS, where, problems)
    for key in ("who", "text"):
        if not (isinstance(raw.get(key), str) and raw[key].strip()):
            problems.append(f"{where}: 缺少 {key}")
    _check_sources(raw.get("sources"), where, problems)
    if len(problems) != before:
        return None
    return Passive(raw["who"].strip(), sentence(raw["text"]))


def sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(("。", "！", "？")) else text + "。"


def _unknown_fields(raw: dict[Any, Any], allowed: set[str], where: str,
                    problems: list[str]) -> None:
    for key in sorted(set(raw) - allowed):
        problems.append(f"{where}: 不认识的字段“{key}”")


def _mappings(items: list[Any], where: str, shape: str,
              problems: list[str]) -> Iterator[tuple[str, dict[Any, Any]]]:
    """(`where`[i], item) for each item that is a mapping; any other is reported with `shape`,
    how an item is written."""
    for i, item in enumerate(items):
        here = f"{where}[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{here}: {shape}")
            continue
        yield here, item
