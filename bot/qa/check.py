"""Checking a knowledge directory: the question-answer files and the region data together.

Used by `python -m bot kb check` and by the admins' /reload, so both report the same problems.
"""

from __future__ import annotations

from pathlib import Path

from bot.deadline.regions import validate_region_data
from bot.qa.knowledge import load_knowledge


def check_problems(directory: Path) -> tuple[list[str], str]:
    """Problems of the question-answer files and the region data, plus a summary line."""
    kb = load_knowledge(directory)
    problems = list(kb.problems)
    regions_dir = directory / "regions"
    if regions_dir.exists():
        problems += validate_region_data(regions_dir)
    summary = (f"{len(kb.entries)} 条问答，{len(kb.out_of_scope)} 个不回答的话题，"
               f"{len(kb.synonyms)} 个同义词")
    return problems, summary
