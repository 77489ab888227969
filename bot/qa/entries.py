"""Entries and out-of-scope topics of the knowledge base: their shape, and the checks of one
item as written in a YAML file (every problem a `file: entry: problem` line)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from bot.sources import host_of, is_official_host

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MIN_PHRASINGS = 5
MAX_ANSWER_CHARS = 800
MIN_OOS_EXAMPLES = 5
PLACE_TAG = "provinces"
# Tags that give one entry a role: the answer to general "how do I certify" questions, and the
# first topic offered when a message speaks of a death. Each may sit on one entry only.
OVERVIEW_TAG = "overview"
DEATH_TAG = "death"
ROLE_TAGS = (OVERVIEW_TAG, DEATH_TAG)
MAX_LOCAL_CHARS = 80


@dataclass(frozen=True)
class Source:
    """Where a fact comes from: a web page or one of the seed articles."""

    url: str
    official: bool
    issuer: str | None = None  # whose words a reprint carries, in plain words

    @property
    def label(self) -> str:
        """Short human name: the host of a URL, or the seed's name."""
        if self.url.startswith("seed:"):
            return "社保网文章"
        host = re.sub(r"^https?://", "", self.url).split("/", 1)[0]
        return host.split(":", 1)[0]


@dataclass(frozen=True)
class Entry:
    """One question the bot can answer."""

    id: str
    question: str
    phrasings: tuple[str, ...]
    answer: str
    tags: tuple[str, ...]
    regions: tuple[str, ...]
    sources: tuple[Source, ...]
    reviewed: dt.date
    file: str
    local: str = ""  # one line about what is specific to the place (province entries)
    # A line for one city only (武汉按自然年): shown to that city, not to the whole province.
    local_cities: tuple[tuple[str, str], ...] = ()
    buttons: tuple[tuple[str, str], ...] = ()  # (label, entry id) shown under the answer
    # An answer for one group only (企业退休, 城乡居民 …) is given straight away only to a message
    # that names the group with one of these words; otherwise it is offered as a button.
    needs_words: tuple[str, ...] = ()
    # A message of general words (养老金认证怎么弄) and one of these (手机, 刷脸 …) is answered
    # with this entry, as one of general words alone is answered with the overview.
    general_with: tuple[str, ...] = ()

    @property
    def is_place(self) -> bool:
        """A province's page (tag `provinces`): shown for where a question is about, never
        matched as a topic."""
        return PLACE_TAG in self.tags

    @property
    def texts(self) -> tuple[str, ...]:
        """Everything the matcher may compare a question with."""
        return (self.question, *self.phrasings)


@dataclass(frozen=True)
class OutOfScopeTopic:
    """Something people ask that the bot deliberately does not answer."""

    id: str
    label: str
    reply: str
    examples: tuple[str, ...]
    file: str


def string_list(value: Any) -> list[str] | None:
    """A list of strings, stripped; None when `value` is anything else."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return [v.strip() for v in value]


def _parse_sources(raw: Any, where: str, problems: list[str]) -> list[Source]:
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where}: sources 不能为空，至少写一个来源")
        return []
    sources = []
    for i, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            problems.append(f"{where}: sources 第{i}项应写成 url: … 和 official: true/false")
            continue
        official = item.get("official")
        if not isinstance(official, bool):
            problems.append(f"{where}: sources 第{i}项缺少 official: true 或 false")
            continue
        issuer = item.get("issuer")
        if issuer is not None and (not isinstance(issuer, str) or not issuer.strip()):
            problems.append(f"{where}: sources 第{i}项的 issuer 应是一句话，例如 福建省人社厅")
            continue
        issuer = issuer.strip() if issuer else None
        if isinstance(item.get("url"), str) and re.match(r"^https?://\S+$", item["url"]):
            url = item["url"]
            if official and not is_official_host(url):
                problems.append(
                    f"{where}: sources 第{i}项 {host_of(url) or url} 不是政府或公共机构网站，"
                    "official 只能写 false（转载官方通知的，用 issuer: 写明是谁的话）")
                continue
            sources.append(Source(url, official, issuer))
        elif isinstance(item.get("seed"), str) and item["seed"].strip():
            if official:
                problems.append(f"{where}: sources 第{i}项是种子文章，official 只能写 false")
                continue
            sources.append(Source(f"seed:{item['seed'].strip()}", official, issuer))
        else:
            problems.append(f"{where}: sources 第{i}项的 url 必须以 http:// 或 https:// 开头")
    return sources


def _item_start(raw: Any, name: str, index: int, problems: list[str],
                example: str) -> tuple[str, str, int] | None:
    """(id, "file: id" for messages, the count of problems before the item) of one list item,
    reporting a missing or bad id; the item is good if no problem is added after the count."""
    before = len(problems)
    if not isinstance(raw, dict):
        problems.append(f"{name}: 第{index}条: 应是一组 字段: 值")
        return None
    item_id = raw.get("id")
    where = f"{name}: {item_id if isinstance(item_id, str) else f'第{index}条'}"
    if not isinstance(item_id, str) or not ID_PATTERN.match(item_id):
        problems.append(f"{where}: id 只能用小写字母、数字和连字符，例如 {example}")
    return item_id, where, before


def parse_entry(raw: Any, name: str, index: int, problems: list[str]) -> Entry | None:
    """Item `index` of an entries file, or None when it has problems."""
    start = _item_start(raw, name, index, problems, "face-fail-reasons")
    if start is None:
        return None
    entry_id, where, before = start
    unknown = set(raw) - {"id", "question", "phrasings", "answer", "tags", "regions",
                          "sources", "reviewed", "local", "local_cities", "buttons",
                          "needs_words", "general_with"}
    if unknown:
        problems.append(f"{where}: 不认识的字段 {', '.join(sorted(map(str, unknown)))}")
    question = raw.get("question")
    if not isinstance(question, str) or not question.strip():
        problems.append(f"{where}: 缺少 question（标准问题）")
    phrasings = string_list(raw.get("phrasings"))
    if phrasings is None or len([p for p in phrasings if p]) < MIN_PHRASINGS:
        problems.append(f"{where}: phrasings 至少要有{MIN_PHRASINGS}种不同问法")
    elif len(set(phrasings)) != len(phrasings) or not all(phrasings):
        problems.append(f"{where}: phrasings 里有空行或重复的问法")
    answer = raw.get("answer")
    if not isinstance(answer, str) or not answer.strip():
        problems.append(f"{where}: 缺少 answer（回答）")
    elif len(answer.strip()) > MAX_ANSWER_CHARS:
        size = len(answer.strip())
        problems.append(f"{where}: answer 太长（{size}字，最多{MAX_ANSWER_CHARS}字）")
    tags = string_list(raw.get("tags", []))
    if tags is None:
        problems.append(f"{where}: tags 应是列表，例如 [face]")
    regions = string_list(raw.get("regions", []) or [])
    if regions is None:
        problems.append(f"{where}: regions 应是地名列表，例如 [辽宁, 锦州]")
    local = _one_line(raw.get("local", ""), f"{where}: local", problems)
    needs_words = string_list(raw.get("needs_words", []) or [])
    if needs_words is None or not all(needs_words):
        problems.append(f"{where}: needs_words 应是词的列表，例如 [企业, 厂里, 公司]")
    general_with = string_list(raw.get("general_with", []) or [])
    if general_with is None or not all(general_with):
        problems.append(f"{where}: general_with 应是词的列表，例如 [手机, 网上]")
    local_cities = _parse_local_cities(raw.get("local_cities"), regions or [], where, problems)
    sources = _parse_sources(raw.get("sources"), where, problems)
    buttons = _parse_buttons(raw.get("buttons", []), where, problems)
    reviewed = raw.get("reviewed")
    if isinstance(reviewed, str):
        try:
            reviewed = dt.date.fromisoformat(reviewed)
        except ValueError:
            reviewed = None
    if not isinstance(reviewed, dt.date):
        problems.append(f"{where}: reviewed 应是日期，格式 YYYY-MM-DD")
    if len(problems) > before:
        return None
    return Entry(
        id=entry_id,
        question=question.strip(),
        phrasings=tuple(phrasings or ()),
        answer=answer.strip(),
        tags=tuple(tags or ()),
        regions=tuple(regions or ()),
        sources=tuple(sources),
        reviewed=reviewed,
        file=name,
        local=local,
        local_cities=local_cities,
        buttons=buttons,
        needs_words=tuple(needs_words or ()),
        general_with=tuple(general_with or ()),
    )


def _one_line(raw: Any, what: str, problems: list[str]) -> str:
    """A `local` line: text, one line, at most MAX_LOCAL_CHARS characters."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        problems.append(f"{what} 应是一句话")
        return ""
    line = raw.strip()
    if "\n" in line:
        problems.append(f"{what} 只能写一行")
    elif len(line) > MAX_LOCAL_CHARS:
        problems.append(f"{what} 太长（{len(line)}字，最多{MAX_LOCAL_CHARS}字）")
    return line


def _parse_local_cities(raw: Any, regions: list[str], where: str,
                        problems: list[str]) -> tuple[tuple[str, str], ...]:
    """`local_cities:` lines written as `城市: 只对这个城市说的一句话`, each a city of the
    entry's province."""
    from bot.deadline.place_names import lookup_region

    if not raw:
        return ()
    if not isinstance(raw, dict):
        problems.append(
            f"{where}: local_cities 应写成“城市: 一句话”的列表，例如 武汉: 按自然年认证。")
        return ()
    home = lookup_region(regions[0]) if regions else None
    out = []
    for city, line in raw.items():
        region = lookup_region(str(city))
        if region is None or region.level == "province" or (
                home is not None and region.province != home.province):
            province = home.province_short if home else "本省"
            problems.append(f"{where}: local_cities 里的“{city}”不是{province}的城市")
            continue
        text = _one_line(line, f"{where}: local_cities 里{city}的那句", problems)
        if text:
            out.append((region.short, text))
    return tuple(out)


def _parse_buttons(raw: Any, where: str, problems: list[str]) -> tuple[tuple[str, str], ...]:
    """`buttons:` lines written as `按钮文字: 条目id`."""
    if not raw:
        return ()
    items = raw if isinstance(raw, list) else [None]
    out = []
    for item in items:
        if (not isinstance(item, dict) or len(item) != 1
                or not all(isinstance(v, str) and v for v in (*item, *item.values()))):
            problems.append(f"{where}: buttons 每一行要写成“按钮文字: 条目id”")
            return ()
        ((label, target),) = item.items()
        out.append((label.strip(), target.strip()))
    return tuple(out)


def parse_topic(raw: Any, name: str, index: int,
                problems: list[str]) -> OutOfScopeTopic | None:
    """Item `index` of out_of_scope.yaml, or None when it has problems."""
    start = _item_start(raw, name, index, problems, "oos-weather")
    if start is None:
        return None
    topic_id, where, before = start
    label = raw.get("label")
    if not isinstance(label, str) or not label.strip():
        problems.append(f"{where}: 缺少 label（话题名称）")
    reply = raw.get("reply", "")
    if not isinstance(reply, str):
        problems.append(f"{where}: reply 应是一段文字")
    examples = string_list(raw.get("examples"))
    if examples is None or len([e for e in examples if e]) < MIN_OOS_EXAMPLES:
        problems.append(f"{where}: examples 至少要有{MIN_OOS_EXAMPLES}个例句")
    if len(problems) > before:
        return None
    return OutOfScopeTopic(topic_id, label.strip(), (reply or "").strip(),
                           tuple(e for e in examples if e), name)
