"""The classifier's second opinion, and how it changes the decision to answer."""

from __future__ import annotations

import pytest

from bot.qa import matcher as matcher_module
from bot.qa.classifier import TermClassifier
from bot.qa.decision import AGREED_ANSWER_AT, AGREED_MATCHER_AT, Candidate, decide
from bot.qa.matcher import Matcher

DOCUMENTS = [
    ["刷脸", "失败"], ["刷脸", "不通过"], ["人脸", "识别", "失败"],
    ["多久", "认证"], ["一年", "几次"], ["多长时间", "认证", "一次"],
    ["错过", "认证"], ["忘了", "认证"], ["没", "认证", "停发"],
]
LABELS = [0, 0, 0, 1, 1, 1, 2, 2, 2]


@pytest.fixture(scope="module")
def classifier() -> TermClassifier:
    return TermClassifier.fit(DOCUMENTS, LABELS, 3, lambda term: 1.0)


@pytest.mark.parametrize(("terms", "label"), [
    (["刷脸", "老是", "失败"], 0),
    (["认证", "一年", "几次"], 1),
    (["忘了", "认证", "怎么办"], 2),
])
def test_classifier_learns_which_words_speak_for_a_class(classifier, terms, label):
    probabilities = classifier.predict(terms)
    assert probabilities is not None
    assert int(probabilities.argmax()) == label
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)


def test_classifier_has_no_opinion_on_unknown_words(classifier):
    assert classifier.predict(["天气", "旅游"]) is None
    assert classifier.predict([]) is None


def _candidates(first: float, runner_up: float, key: str = "a") -> list[Candidate]:
    return [Candidate(key, first), Candidate("b", runner_up)]


@pytest.mark.parametrize(("candidates", "second", "expected"), [
    # A clear lead, and the classifier agrees: answer.
    (_candidates(0.9, 0.1), Candidate("a", 0.8), "answer"),
    # A clear lead, but the classifier names another topic: offer both, never guess.
    (_candidates(0.9, 0.1), Candidate("b", 0.8), "suggest"),
    # No clear lead, but both pick the same topic with some confidence: answer.
    (_candidates(0.5, 0.3), Candidate("a", AGREED_ANSWER_AT), "answer"),
    # Agreeing on a weak first candidate is not enough.
    (_candidates(AGREED_MATCHER_AT - 0.01, 0.2), Candidate("a", 0.9), "suggest"),
    (_candidates(0.5, 0.3), Candidate("a", AGREED_ANSWER_AT - 0.01), "suggest"),
    # Agreeing on one of two tied candidates does not untie them (认证期间会暂停发放吗).
    (_candidates(0.62, 0.59), Candidate("a", 0.9), "suggest"),
    (_candidates(0.62, 0.5), Candidate("a", 0.9), "answer"),
    # Without an opinion (no known word), the matcher decides alone.
    (_candidates(0.9, 0.1), None, "answer"),
    (_candidates(0.5, 0.3), None, "suggest"),
    # Out of scope first: declined whatever the classifier thinks.
    ([Candidate("oos:pay-rise", 0.9)], Candidate("a", 0.9), "decline"),
])
def test_second_opinion_in_the_decision(candidates, second, expected):
    assert decide(candidates, second=second) == expected


def test_agreement_never_answers_a_message_without_a_word_about_certification():
    assert decide(_candidates(0.5, 0.3), on_topic=False, second=Candidate("a", 0.9)) == "suggest"


def test_when_the_two_disagree_the_classifiers_pick_is_the_second_button(engine, monkeypatch):
    matcher: Matcher = engine.matcher
    plain = matcher.match("刷脸一直失败怎么办")
    first = plain.candidates[0].key
    other = next(key for key in engine.kb.entries
                 if key not in plain.entries(5) and not engine.kb.entries[key].is_place)
    monkeypatch.setattr(matcher, "second_opinion", lambda terms: Candidate(other, 0.9))
    result = matcher.match("刷脸一直失败怎么办")
    assert result.decision != "answer"
    assert result.entries(2) == [first, other]


def test_the_classifier_is_part_of_the_cached_index(engine):
    rebuilt = Matcher.from_index(engine.matcher.index(), engine.matcher.segmenter,
                                 engine.matcher._prepare)
    question = "在国外怎么认证养老金"
    assert rebuilt.second_opinion(rebuilt.segmenter.analyse(question)[2]) == \
        engine.matcher.second_opinion(engine.matcher.segmenter.analyse(question)[2])


def test_a_very_large_knowledge_base_goes_without_a_second_opinion(engine, monkeypatch):
    monkeypatch.setattr(matcher_module, "CLASSIFIER_MAX_TOPICS", 10)
    matcher = Matcher(engine.kb, engine.matcher.segmenter, weights=engine.matcher.weights)
    assert matcher.second_opinion(["刷脸", "失败"]) is None
    assert matcher.match("刷脸一直失败怎么办").best is not None
