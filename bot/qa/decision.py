"""Whether to answer, offer topics as buttons, or decline: the policy users feel.

The matcher ranks candidates with calibrated probabilities and the classifier gives a second
opinion; this module turns both into one of three replies. The thresholds were chosen on the
tuning half of the real questions (tests/realset.py); the held-out half is the report
(docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass

OOS_PREFIX = "oos:"
# Decision thresholds on the calibrated probability; see `decide`.
ANSWER_AT = 0.6
ANSWER_MARGIN = 0.45
RELATED_MARGIN = 0.3
SUGGEST_AT = 0.12
OFF_TOPIC_SUGGEST_AT = 0.25
OFF_TOPIC_ANSWER_AT = 0.99
OFF_TOPIC_MARGIN = 0.6
# When the classifier picks the matcher's first candidate with at least this probability, and
# the matcher gives it at least AGREED_MATCHER_AT, the lead need not be ANSWER_MARGIN.
AGREED_ANSWER_AT = 0.3
AGREED_MATCHER_AT = 0.35
# Matcher probabilities this close are a tie: agreement does not make one of them the answer.
TIE = 0.05
# Words that make a question about certification, whatever else it mentions.
CERTIFICATION_WORDS = ("认证", "刷脸", "代认证", "静默认证", "上门认证", "补认证", "人脸", "生存",
                       "资格", "停发", "暂停发放", "恢复发放", "12333",
                       "去世", "死亡", "过世", "离世")


@dataclass
class Candidate:
    """One entry (or out-of-scope topic) considered for a question."""

    key: str  # entry id, or "oos:<topic id>"
    probability: float

    @property
    def is_out_of_scope(self) -> bool:
        return self.key.startswith(OOS_PREFIX)


def on_topic(compact: str) -> bool:
    """Whether a (canonical, compact) message mentions certification at all."""
    return any(word in compact for word in CERTIFICATION_WORDS)


def decide(candidates: list[Candidate], *, on_topic: bool = True, related: bool = False,
           second: Candidate | None = None) -> str:
    """answer / suggest / decline from the ranked candidates.

    Answer the first candidate whenever it is clearly ahead: an elder who gets "我不太确定" for
    a question the bot knows is failed too. Suggestions alone are for a real tie; declining is
    for out-of-scope topics and messages about nothing the bot knows. A message with no word
    about certification or benefits needs a stronger lead, since a confident wrong answer is
    the worst outcome.

    `second` is the classifier's pick. Where it names another topic the bot only offers
    buttons; where it names the same one with some confidence, the lead need not be as large.
    """
    decision = _decide_alone(candidates, on_topic=on_topic, related=related)
    if second is None or not candidates or candidates[0].is_out_of_scope:
        return decision
    if second.key != candidates[0].key:
        return "suggest" if decision == "answer" else decision
    runner_up = candidates[1].probability if len(candidates) > 1 else 0.0
    if decision == "suggest" and on_topic and second.probability >= AGREED_ANSWER_AT \
            and candidates[0].probability >= AGREED_MATCHER_AT \
            and candidates[0].probability - runner_up > TIE:
        return "answer"
    return decision


def _decide_alone(candidates: list[Candidate], *, on_topic: bool, related: bool) -> str:
    if not candidates:
        return "decline"
    best = candidates[0]
    if best.is_out_of_scope:
        # "刷脸 领取" is more like 领取地 than anything else, yet it says 刷脸: offer topics.
        in_scope = next((c for c in candidates if not c.is_out_of_scope), None)
        on_topic_runner = on_topic and in_scope is not None and in_scope.probability >= SUGGEST_AT
        return "suggest" if on_topic_runner else "decline"
    runner_up = candidates[1].probability if len(candidates) > 1 else 0.0
    if not on_topic:  # a word-level likeness is rarely enough without a word about certification
        if best.probability >= OFF_TOPIC_ANSWER_AT and \
                best.probability - runner_up >= OFF_TOPIC_MARGIN:
            return "answer"
        return "suggest" if best.probability >= OFF_TOPIC_SUGGEST_AT else "decline"
    # Two topics of one family (刷脸为什么失败 / 失败了怎么办) are no real tie: the answer comes
    # with the other as "您可能还想问".
    margin = RELATED_MARGIN if related else ANSWER_MARGIN
    if best.probability >= ANSWER_AT and best.probability - runner_up >= margin:
        return "answer"
    if best.probability >= SUGGEST_AT:
        return "suggest"
    return "decline"
