"""The self-written evaluation set (tests/eval/questions.yaml), kept as a regression set.

It was written by us, not by users, so it says little about real questions (see
tests/eval/test_real_questions.py for the yardstick); it guards against answering getting worse.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rapidfuzz import fuzz, process

from bot.text.normalize import compact
from tests import realset

EVAL_FILE = Path(__file__).parent / "questions.yaml"
# Issue 10's bar for this set is 90% (the ranking measure it was held to before: the right
# topic first), and the set now holds it (92.0%, docs/benchmarks.md): the bar is the floor.
# The others are what it reached when they were last set.
TARGET_FIRST = 0.90
MIN_FIRST = TARGET_FIRST
MAX_CONFIDENT_WRONG = 0.03
MIN_DECLINED = 0.90
NEAR_COPY = 85


@pytest.fixture(scope="module")
def questions() -> dict:
    return yaml.safe_load(EVAL_FILE.read_text(encoding="utf-8"))


def _labels(item: dict) -> set[str]:
    return set(item["id"]) if isinstance(item["id"], list) else {item["id"]}


def test_eval_set_is_labelled_with_known_ids(questions, engine):
    assert len(questions["in_scope"]) >= 600
    assert len(questions["out_of_scope"]) >= 60
    unknown = {i for item in questions["in_scope"] for i in _labels(item)} - set(engine.kb.entries)
    assert not unknown, f"eval labels not in the knowledge base: {sorted(unknown)}"


def _near_copies(engine, texts_to_check: list[str]) -> list[str]:
    kb = engine.kb
    known = [compact(t) for e in kb.entries.values() for t in e.texts]
    known += [compact(t) for topic in kb.out_of_scope.values() for t in topic.examples]
    copied = []
    for text in texts_to_check:
        best = process.extractOne(compact(text), known, scorer=fuzz.ratio)
        if best and best[1] >= NEAR_COPY:
            copied.append(f"{text!r} ~ {best[0]!r}")
    return copied


def test_eval_questions_are_not_copied_from_knowledge(questions, engine):
    """Near copies count too: the set must measure generalisation, not recall."""
    items = questions["in_scope"] + questions["out_of_scope"]
    copied = _near_copies(engine, [item["q"] for item in items])
    assert not copied, "eval questions (nearly) copied from knowledge:\n" + "\n".join(copied)


def test_real_questions_are_not_copied_into_knowledge(engine):
    """Real questions are the yardstick only while no phrasing imitates them."""
    items = realset.load("in_scope") + realset.load("out_of_scope")
    copied = _near_copies(engine, [item["q"] for item in items])
    assert not copied, "real questions (nearly) copied into knowledge:\n" + "\n".join(copied)


def test_regression_set_does_not_fall(engine):
    in_scope, out_of_scope = realset.regression_items(EVAL_FILE)
    result = realset.score(engine, in_scope, out_of_scope)
    print(f"\nself-written regression set: {result.summary()} (target for the right topic "
          f"first: {TARGET_FIRST:.0%})")
    print(result.failures())
    assert result.first_rate >= MIN_FIRST
    assert result.wrong_rate <= MAX_CONFIDENT_WRONG
    assert result.oos_declined_rate >= MIN_DECLINED
