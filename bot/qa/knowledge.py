"""Loading the curated knowledge base in `knowledge/`.

Knowledge is data edited by people who are not programmers, so every problem is reported as a
`file: entry: problem` line and a broken file is rejected on its own: the rest still loads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from bot.qa.entries import (
    ROLE_TAGS,
    Entry,
    OutOfScopeTopic,
    parse_entry,
    parse_topic,
    string_list,
)
from bot.yaml_files import parse_yaml


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

    def role(self, tag: str) -> Entry | None:
        """The entry that holds a role tag (overview, death), if one does."""
        return next((e for e in self.entries.values() if tag in e.tags), None)


def _read_yaml(path: Path, root: Path, problems: list[str]) -> Any:
    name = _display(path, root)
    try:
        return parse_yaml(path.read_text(encoding="utf-8"))
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
            entry = parse_entry(raw, name, index, file_problems)
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
    for tag in ROLE_TAGS:
        holders = [e.id for e in kb.entries.values() if tag in e.tags]
        if len(holders) > 1:
            kb.problems.append(f"{kb.entries[holders[1]].file}: {holders[1]}: 标签 {tag} 只能给一个"
                               f"条目用，现在有 {'、'.join(holders)}")
    if not kb.entries and not kb.problems:
        kb.problems.append(f"{_display(root / 'entries', root)}: -: 没有找到任何知识条目")

    oos_path = root / "out_of_scope.yaml"
    if oos_path.exists():
        file_problems = []
        name = _display(oos_path, root)
        topics = [
            parse_topic(raw, name, i, file_problems)
            for i, raw in enumerate(_load_list(oos_path, root, "topics", file_problems) or [], 1)
        ]
        if file_problems:
            kb.problems.extend(file_problems)
        else:
            kb.out_of_scope = {t.id: t for t in topics if t}

    kb.synonyms = _load_synonyms(root / "synonyms.yaml", root, kb.problems)
    _check_general_with(kb)
    kb.dictionary = _load_dictionary(root / "dictionary.txt", root, kb.problems)
    kb.fingerprint = fingerprint(knowledge_files(root))
    return kb


def _check_general_with(kb: KnowledgeBase) -> None:
    """Each `general_with` word names one entry, in its standard form (synonyms.yaml); a word
    that does not is reported and left unused."""
    owner: dict[str, str] = {}
    for entry in list(kb.entries.values()):
        kept = []
        where = f"{entry.file}: {entry.id}"
        for word in entry.general_with:
            canonical = kb.synonyms.get(word)
            if canonical and canonical != word:
                kb.problems.append(f"{where}: general_with 里的“{word}”请写成标准词“{canonical}”"
                                   "（见 synonyms.yaml）")
            elif word in owner:
                kb.problems.append(f"{where}: general_with 里的“{word}”已经给了 {owner[word]}，"
                                   "一个词只能指向一个条目")
            else:
                owner[word] = entry.id
                kept.append(word)
        if len(kept) < len(entry.general_with):
            kb.entries[entry.id] = replace(entry, general_with=tuple(kept))


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
        words = string_list(variants)
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
