"""The labelled evaluation set in tests/eval/: the matcher's accuracy bar."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml
from rapidfuzz import fuzz, process

from bot.answers import answer
from bot.normalize import compact, normalize

EVAL_FILE = Path(__file__).parent / "eval" / "questions.yaml"
MIN_TOP1 = 0.90
MIN_DECLINED = 0.90
MAX_CONFIDENT_WRONG = 0.03
NEAR_COPY = 85


@pytest.fixture(scope="module")
def questions() -> dict:
    return yaml.safe_load(EVAL_FILE.read_text(encoding="utf-8"))


def _labels(item: dict) -> set[str]:
    return set(item["id"]) if isinstance(item["id"], list) else {item["id"]}


def test_eval_set_is_large_and_labelled_with_known_ids(questions, engine):
    in_scope, out_of_scope = questions["in_scope"], questions["out_of_scope"]
    assert len(in_scope) + len(out_of_scope) >= 300
    assert len(out_of_scope) >= 60
    unknown = {i for item in in_scope for i in _labels(item)} - set(engine.kb.entries)
    assert not unknown, f"eval labels not in the knowledge base: {sorted(unknown)}"
    covered = Counter(i for item in in_scope for i in _labels(item))
    missing = [e for e in engine.kb.entries if covered[e] == 0]
    assert not missing, f"knowledge entries with no eval question: {missing}"


def test_eval_questions_are_not_copied_from_knowledge(questions, engine):
    """Near copies count too: the set must measure generalisation, not recall."""
    kb = engine.kb
    texts = [compact(t) for e in kb.entries.values() for t in e.texts]
    texts += [compact(t) for topic in kb.out_of_scope.values() for t in topic.examples]
    copied = []
    for item in questions["in_scope"] + questions["out_of_scope"]:
        best = process.extractOne(compact(item["q"]), texts, scorer=fuzz.ratio)
        if best and best[1] >= NEAR_COPY:
            copied.append(f"{item['q']!r} ~ {best[0]!r}")
    assert not copied, "eval questions (nearly) copied from knowledge:\n" + "\n".join(copied)


def test_in_scope_top1_accuracy(questions, engine, today):
    failures, confident_wrong, correct = [], [], 0
    for item in questions["in_scope"]:
        labels = _labels(item)
        result = engine.matcher.match(normalize(item["q"]))
        top = result.best.key if result.best else None
        if top in labels:
            correct += 1
        else:
            failures.append(f"  [{item.get('kind')}] {item['q']!r}: want {sorted(labels)}, "
                            f"got {top} ({result.score:.2f}, {result.decision})")
        reply = answer(engine, item["q"], today)
        if reply.kind == "answer" and reply.id not in labels:
            confident_wrong.append(f"  {item['q']!r}: answered {reply.id}, want {sorted(labels)}")
    total = len(questions["in_scope"])
    accuracy = correct / total
    print(f"\nin-scope top-1: {correct}/{total} = {accuracy:.1%}")
    print("failures:\n" + "\n".join(failures))
    print(f"confident wrong answers: {len(confident_wrong)}\n" + "\n".join(confident_wrong))
    assert accuracy >= MIN_TOP1
    assert len(confident_wrong) / total <= MAX_CONFIDENT_WRONG


def test_out_of_scope_declined(questions, engine, today):
    answered = []
    for item in questions["out_of_scope"]:
        reply = answer(engine, item["q"], today)
        if reply.matched:
            answered.append(f"  {item['q']!r}: answered {reply.id} ({reply.score:.2f})")
    total = len(questions["out_of_scope"])
    declined = (total - len(answered)) / total
    print(f"\nout-of-scope declined: {total - len(answered)}/{total} = {declined:.1%}")
    print("answered anyway:\n" + "\n".join(answered))
    assert declined >= MIN_DECLINED
