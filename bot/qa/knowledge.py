"""Loading and validating the curated knowledge base in `knowledge/`.

Knowledge is data edited by people who are not programmers, so every problem is reported as a
`file: entry: problem` line and a broken file is rejected on its own: the rest still loads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import KnowledgeError
from bot.sources import host_of, is_official_host

try:  # the C loader is several times faster; fall back where libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MIN_PHRASINGS = 5
MAX_ANSWER_CHARS = 800
MIN_OOS_EXAMPLES = 5
PLACE_TAG = "provinces"
MAX_LOCAL_CHARS = 80
MAX_ISSUER_NAMES = 3


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
    buttons: tuple[tuple[str, str], ...] = ()  # (label, entry id) shown under the answer

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


@dataclass
class KnowledgeBase:
    """Everything loaded from `knowledge/`, plus the problems of rejected files."""

    entries: dict[str, Entry] = field(default_factory=dict)
    out_of_scope: dict[str, OutOfScopeTopic] = field(default_factory=dict)
    synonyms: dict[str, str] = field(default_factory=dict)  # variant -> canonical
    dictionary: tuple[str, ...] = ()  # domain words for the segmenter
    problems: list[str] = field(default_factory=list)
    fingerprint: str = ""

    def entry(self, entry_id: str) -> Entry:
        return self.entries[entry_id]


def _read_yaml(path: Path, root: Path, problems: list[str]) -> Any:
    name = _display(path, root)
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except UnicodeDecodeError:
        problems.append(f"{name}: -: 不是 UTF-8 编码的文本文件")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第{mark.line + 1}行" if mark else "-"
        problems.append(f"{name}: {where}: YAML 格式错误 ({getattr(exc, 'problem', exc)})")
    return None


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _strings(value: Any) -> list[str] | None:
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
                example: str) -> tuple[str, str] | None:
    """(id, "file: id" for messages) of one list item, reporting a missing or bad id."""
    if not isinstance(raw, dict):
        problems.append(f"{name}: 第{index}条: 应是一组 字段: 值")
        return None
    item_id = raw.get("id")
    where = f"{name}: {item_id if isinstance(item_id, str) else f'第{index}条'}"
    if not isinstance(item_id, str) or not ID_PATTERN.match(item_id):
        problems.append(f"{where}: id 只能用小写字母、数字和连字符，例如 {example}")
    return item_id, where


def _parse_entry(raw: Any, name: str, index: int, problems: list[str]) -> Entry | None:
    before = len(problems)
    start = _item_start(raw, name, index, problems, "face-fail-reasons")
    if start is None:
        return None
    entry_id, where = start
    unknown = set(raw) - {"id", "question", "phrasings", "answer", "tags", "regions",
                          "sources", "reviewed", "local", "buttons"}
    if unknown:
        problems.append(f"{where}: 不认识的字段 {', '.join(sorted(map(str, unknown)))}")
    question = raw.get("question")
    if not isinstance(question, str) or not question.strip():
        problems.append(f"{where}: 缺少 question（标准问题）")
    phrasings = _strings(raw.get("phrasings"))
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
    tags = _strings(raw.get("tags", []))
    if tags is None:
        problems.append(f"{where}: tags 应是列表，例如 [face]")
    regions = _strings(raw.get("regions", []) or [])
    if regions is None:
        problems.append(f"{where}: regions 应是地名列表，例如 [辽宁, 锦州]")
    local = raw.get("local", "")
    if local is None:
        local = ""
    if not isinstance(local, str):
        problems.append(f"{where}: local 应是一句话")
        local = ""
    elif "\n" in local.strip():
        problems.append(f"{where}: local 只能写一行")
    elif len(local.strip()) > MAX_LOCAL_CHARS:
        problems.append(
            f"{where}: local 太长（{len(local.strip())}字，最多{MAX_LOCAL_CHARS}字）")
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
        local=local.strip(),
        buttons=buttons,
    )


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


def _parse_oos(raw: Any, name: str, index: int, problems: list[str]) -> OutOfScopeTopic | None:
    before = len(problems)
    start = _item_start(raw, name, index, problems, "oos-weather")
    if start is None:
        return None
    topic_id, where = start
    label = raw.get("label")
    if not isinstance(label, str) or not label.strip():
        problems.append(f"{where}: 缺少 label（话题名称）")
    reply = raw.get("reply", "")
    if not isinstance(reply, str):
        problems.append(f"{where}: reply 应是一段文字")
    examples = _strings(raw.get("examples"))
    if examples is None or len([e for e in examples if e]) < MIN_OOS_EXAMPLES:
        problems.append(f"{where}: examples 至少要有{MIN_OOS_EXAMPLES}个例句")
    if len(problems) > before:
        return None
    return OutOfScopeTopic(topic_id, label.strip(), (reply or "").strip(),
                           tuple(e for e in examples if e), name)


def _load_list(path: Path, root: Path, key: str, problems: list[str]) -> list[Any] | None:
    data = _read_yaml(path, root, problems)
    name = _display(path, root)
    if data is None:
        if not any(p.startswith(f"{name}:") for p in problems):
            problems.append(f"{name}: -: 文件是空的")
        return None
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        problems.append(f"{name}: -: 文件应以 `{key}:` 开头，下面是一个列表")
        return None
    return data[key]


def fingerprint(paths: Iterable[Path]) -> str:
    """A short hash of the files' names and contents."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def knowledge_files(root: Path) -> list[Path]:
    """The files that make up the question-answer knowledge (not the region data)."""
    files = sorted((root / "entries").glob("*.yaml"))
    files += [p for p in (root / "out_of_scope.yaml", root / "synonyms.yaml",
                          root / "dictionary.txt") if p.exists()]
    return files


def load_knowledge(root: Path) -> KnowledgeBase:
    """Load every knowledge file; a file with any problem is left out and reported."""
    kb = KnowledgeBase()
    seen: dict[str, str] = {}
    for path in sorted((root / "entries").glob("*.yaml")):
        file_problems: list[str] = []
        name = _display(path, root)
        items = _load_list(path, root, "entries", file_problems)
        parsed = []
        for index, raw in enumerate(items or [], 1):
            entry = _parse_entry(raw, name, index, file_problems)
            if entry is None:
                continue
            if entry.id in seen:
                file_problems.append(f"{name}: {entry.id}: id 重复，已在 {seen[entry.id]} 中使用")
                continue
            parsed.append(entry)
        if file_problems:
            kb.problems.extend(file_problems)
            continue
        for entry in parsed:
            seen[entry.id] = name
            kb.entries[entry.id] = entry
    for entry in kb.entries.values():
        for label, target in entry.buttons:
            if target not in kb.entries:
                kb.problems.append(
                    f"{entry.file}: {entry.id}: 按钮“{label}”指向不存在的条目 {target}")
    if not kb.entries and not kb.problems:
        kb.problems.append(f"{_display(root / 'entries', root)}: -: 没有找到任何知识条目")

    oos_path = root / "out_of_scope.yaml"
    if oos_path.exists():
        file_problems = []
        name = _display(oos_path, root)
        topics = [
            _parse_oos(raw, name, i, file_problems)
            for i, raw in enumerate(_load_list(oos_path, root, "topics", file_problems) or [], 1)
        ]
        if file_problems:
            kb.problems.extend(file_problems)
        else:
            kb.out_of_scope = {t.id: t for t in topics if t}

    kb.synonyms = _load_synonyms(root / "synonyms.yaml", root, kb.problems)
    kb.dictionary = _load_dictionary(root / "dictionary.txt", root, kb.problems)
    kb.fingerprint = fingerprint(knowledge_files(root))
    return kb


def _load_synonyms(path: Path, root: Path, problems: list[str]) -> dict[str, str]:
    if not path.exists():
        return {}
    file_problems: list[str] = []
    data = _read_yaml(path, root, file_problems)
    name = _display(path, root)
    mapping: dict[str, str] = {}
    if data is not None and not isinstance(data, dict):
        file_problems.append(f"{name}: -: 应写成 标准词: [同义词, 同义词]")
    for canonical, variants in (data or {}).items() if isinstance(data, dict) else ():
        words = _strings(variants)
        if not isinstance(canonical, str) or words is None:
            file_problems.append(f"{name}: {canonical}: 应写成 {canonical}: [同义词, 同义词]")
            continue
        for word in words:
            if word in mapping and mapping[word] != canonical:
                file_problems.append(f"{name}: {canonical}: “{word}”已是“{mapping[word]}”的同义词")
            mapping[word] = canonical
    problems.extend(file_problems)
    return {} if file_problems else mapping


def _load_dictionary(path: Path, root: Path, problems: list[str]) -> tuple[str, ...]:
    if not path.exists():
        return ()
    words = []
    name = _display(path, root)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) > 1 and not parts[1].isdigit():
            problems.append(f"{name}: 第{number}行: 词后面只能跟词频数字，例如“资格认证 2000”")
            continue
        words.append(parts[0])
    return tuple(words)


# Plain names of the official hosts the knowledge cites, for people who cannot judge a host name.
OFFICIAL_HOST_LABELS = {
    "rst.fujian.gov.cn": "福建省人社厅",
    "rst.fj.gov.cn": "福建省人社厅",
    "rsj.gz.gov.cn": "广州市人社局",
    "www.enping.gov.cn": "恩平市政府",
    "www.xixianxinqu.gov.cn": "西咸新区管委会",
    "zdxx.lezhi.gov.cn": "四川乐至县政务公开",
    "www.gzzy.gov.cn": "贵州紫云县政府",
    "pnzwfw.gov.cn": "广东地方政务服务网",
    "www.bjdch.gov.cn": "北京市东城区政府",
    "renshichu.xaut.edu.cn": "西安理工大学人事处",
    "osaka.china-consulate.gov.cn": "中国驻大阪总领馆",
    "chicago.china-consulate.gov.cn": "中国驻芝加哥总领馆",
    "papeete.china-consulate.org": "中国驻帕皮提领馆",
    "www.mohrss.gov.cn": "人社部",
    "si.12333.gov.cn": "国家社会保险公共服务平台",
}


def _official_label(url: str) -> str:
    host = host_of(url)
    if host in OFFICIAL_HOST_LABELS:
        return OFFICIAL_HOST_LABELS[host]
    if "china-consulate" in host or "china-embassy" in host:
        return "中国驻外使领馆"
    if host.endswith(".edu.cn"):
        return "高校官方网站"
    return "政府网站"


def issuer_line(entry: Entry) -> str:
    """Whose word an answer rests on, in plain words: "依据：人社部答问（2023）、福建省人社厅".

    Named issuers come first, then official hosts by a plain label; at most three names. A
    host that is not official is never shown by its name: users would take a look-alike host
    such as m12333.cn for the government's. With nothing but such pages, say so honestly.
    """
    names: list[str] = []
    for source in entry.sources:
        if source.issuer and source.issuer not in names:
            names.append(source.issuer)
    for source in entry.sources:
        if source.issuer or source.url.startswith("seed:") or not is_official_host(source.url):
            continue
        label = _official_label(source.url)
        if label not in names:
            names.append(label)
    if not names:
        return "依据：网上公开资料（未找到官方原文）"
    return "依据：" + "、".join(names[:MAX_ISSUER_NAMES])


def validate_knowledge(root: Path) -> list[str]:
    """All problems in the question-answer knowledge files, as `file: entry: problem` lines."""
    return load_knowledge(root).problems


def require_valid(root: Path) -> KnowledgeBase:
    """Load the knowledge base or raise `KnowledgeError` listing every problem."""
    kb = load_knowledge(root)
    if kb.problems:
        raise KnowledgeError(kb.problems)
    return kb
