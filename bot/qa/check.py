"""Checking a knowledge directory: the question-answer files and the region data together.

Used by `python -m bot kb check` and by the admins' /reload, so both report the same problems.
"""

from __future__ import annotations

from pathlib import Path

from bot.deadline.region_data import validate_region_data
from bot.qa.engine import knowledge_tokenizer
from bot.qa.knowledge import KnowledgeBase, load_knowledge
from bot.qa.wordcut import WordCutter


def check_problems(directory: Path) -> tuple[list[str], str]:
    """Problems of the question-answer files and the region data, plus a summary line."""
    kb = load_knowledge(directory)
    problems = list(kb.problems) + _split_general_with(kb)
    regions_dir = directory / "regions"
    if regions_dir.is_dir():
        problems += validate_region_data(regions_dir)
    else:  # every place name and deadline rule comes from it: the bot cannot do without
        problems.append(f"regions: -: 找不到地区规则目录 {regions_dir}")
    summary = (f"{len(kb.entries)} 条问答，{len(kb.out_of_scope)} 个不回答的话题，"
               f"{len(kb.synonyms)} 个同义词")
    return problems, summary


def _split_general_with(kb: KnowledgeBase) -> list[str]:
    """A `general_with` word that jieba cuts in two never meets a message's words: say so, and
    how to mend it (the word goes into dictionary.txt)."""
    words = {(entry, word) for entry in kb.entries.values() for word in entry.general_with}
    if not words:
        return []
    cutter = WordCutter(knowledge_tokenizer(kb))
    problems = []
    for entry, word in sorted(words, key=lambda pair: (pair[0].id, pair[1])):
        parts = [part for part in cutter.cut(word) if part.strip()]
        if parts != [word]:
            problems.append(f"{entry.file}: {entry.id}: general_with 里的“{word}”会被分成"
                            f"“{'/'.join(parts)}”，这样用不上；请把“{word}”加进 dictionary.txt")
    return problems
