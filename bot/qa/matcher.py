"""Finding the topic a question asks about, with a calibrated confidence.

Where a question is about is not this module's business: place names and local app names are
taken out of every text first (bot.qa.places reads them), so 广东 never makes a pay-rise question
look like 广东's certification page, and province pages are not topics here.

Retrieval is an inverted index over the terms of every phrasing (words and character bigrams,
weighted by rarity). The best candidates are re-ranked with rapidfuzz string similarity and a
few more signals (overlap in both directions, the lead over the runner-up) combined by a
logistic model. The model is fitted on the knowledge base itself, leaving each phrasing out in
turn, so its output reads as "probability that this is the right entry". A message made only of
general words (养老金认证怎么弄) gets the overview topic, and one with one more kind of word
that an entry lists as `general_with` (手机 → the phone channels) gets that entry. A classifier
over the same terms (bot.qa.classifier) gives a second opinion, and bot.qa.decision turns both
into answer, suggest or decline.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from bot.qa.classifier import TermClassifier
from bot.qa.decision import (
    AGREED_ANSWER_AT,
    CERTIFICATION_WORDS,
    OOS_PREFIX,
    SUGGEST_AT,
    TIE,
    Candidate,
    decide,
    on_topic,
)
from bot.qa.entries import DEATH_TAG, OVERVIEW_TAG
from bot.qa.general import HOW_WORDS, general_answer
from bot.qa.knowledge import KnowledgeBase
from bot.qa.segment import BIGRAM_PREFIX, Segmenter
from bot.text.death import mentions_death
from bot.text.normalize import normalize

BIGRAM_WEIGHT = 0.6
CANDIDATES = 5
CLASSIFIER_MAX_TOPICS = 1_000
RIDGE = 1e-2  # L2 penalty of the calibration model

FEATURES = ("bias", "cos", "top3", "qcov_entry", "dcov", "ratio", "gap",
            "is_oos", "oos_but_certification", "entry_but_off_topic", "unknown_share",
            "ratio_gap", "qcov_gap", "top3_gap")
# Features also given relative to the best other candidate: the model then sees the contest.
RELATIVE = ("ratio", "qcov_entry", "top3")
(_BIAS, _COS, _TOP3, _QCOV, _DCOV, _RATIO, _GAP, _IS_OOS, _OOS_CERT, _OFF_TOPIC,
 _UNKNOWN) = range(11)
_RELATIVE_FROM = [FEATURES.index(name) for name in RELATIVE]
_RELATIVE_TO = [FEATURES.index(f"{short}_gap") for short in ("ratio", "qcov", "top3")]
_RELATIVE_SPAN = np.arange(len(RELATIVE))
_NO_ROWS = np.zeros((0, len(FEATURES)))
# A tie (decision.TIE) the classifier breaks when this sure.
SURE = 0.4
# Below this, a topic is no "closest topic" worth a button beside the general guide.
CLOSE_AT = 0.05
# Words without which a question is unlikely to be about benefits at all (去海南旅游哪里好玩).
TOPIC_WORDS = (*CERTIFICATION_WORDS, "养老金", "社保", "待遇", "停发", "补发", "12333", "资格",
               "退休", "抚恤金", "津贴", "遗属", "人社", "领取", "app", "小程序", "公众号", "上门")

Prepare = Callable[[str], str]
_TOOLS = ("segmenter", "_prepare")  # given to each matcher, not part of its cached index


@dataclass
class MatchResult:
    """What the matcher thinks of a question: ranked candidates and a decision."""

    decision: str  # "answer" | "suggest" | "decline"
    candidates: list[Candidate]
    # The overview entry, offered after the closest topics when the bot is unsure what someone
    # asking how means: the general guide is then always one tap away.
    general: str | None = None

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def score(self) -> float:
        return round(self.best.probability, 3) if self.best else 0.0

    def entries(self, limit: int = 3) -> list[str]:
        """Closest knowledge entries (never out-of-scope topics), best first."""
        return [c.key for c in self.candidates if not c.is_out_of_scope][:limit]


class Matcher:
    """Ranks knowledge entries for a question."""

    def __init__(self, kb: KnowledgeBase, segmenter: Segmenter, prepare: Prepare | None = None,
                 weights: list[float] | None = None):
        self._use(segmenter, prepare)
        self._overview = getattr(kb.role(OVERVIEW_TAG), "id", None)
        self._death = getattr(kb.role(DEATH_TAG), "id", None)
        self._general_with = {word: e.id for e in kb.entries.values() for word in e.general_with}
        self._tags = {e.id: frozenset(e.tags) for e in kb.entries.values()}
        self._needs = {e.id: e.needs_words for e in kb.entries.values() if e.needs_words}
        texts: list[tuple[str, str]] = []
        for entry in kb.entries.values():
            if not entry.is_place:
                texts += [(entry.id, self._prepare(segmenter.repair(normalize(t))))
                          for t in entry.texts]
        for topic in kb.out_of_scope.values():
            texts += [(OOS_PREFIX + topic.id, self._prepare(segmenter.repair(normalize(t))))
                      for t in (topic.label, *topic.examples)]
        analysed = []
        for key, text in texts:
            compact, _words, terms = segmenter.analyse(text, repaired=True)
            analysed.append((key, compact, frozenset(terms)))
        df: dict[str, int] = defaultdict(int)
        for _key, _compact, terms in analysed:
            for term in terms:
                df[term] += 1
        total = len(analysed) or 1
        self._idf = {t: math.log(1 + total / n) for t, n in df.items()}
        self._unknown_idf = math.log(1 + total)

        self._keys: list[str] = list(dict.fromkeys(key for key, _, _ in analysed))
        key_index = {key: i for i, key in enumerate(self._keys)}
        self._doc_key = np.array([key_index[key] for key, _, _ in analysed], dtype=np.int32)
        self._compacts = [compact for _, compact, _ in analysed]
        self._doc_terms = [terms for _, _, terms in analysed]
        self._key_docs: list[list[int]] = [[] for _ in self._keys]
        # How many phrasings of each entry use a term: lets calibration leave one out.
        self._key_terms: list[dict[str, int]] = [defaultdict(int) for _ in self._keys]
        postings: dict[str, list[int]] = defaultdict(list)
        norm2 = []
        for doc_id, (key, _compact, terms) in enumerate(analysed):
            k = key_index[key]
            self._key_docs[k].append(doc_id)
            for term in terms:
                postings[term].append(doc_id)
                self._key_terms[k][term] += 1
            norm2.append(sum(self._weight(term) ** 2 for term in terms) or 1.0)
        self._norm2 = np.array(norm2)
        self._key_compacts = [[self._compacts[d] for d in docs] for docs in self._key_docs]
        # Per term, the documents and then the entries (offset past the documents and the
        # padding document) that have it, each with the term's weight²: one bincount over a
        # question's terms then gives every document's dot product and every entry's coverage.
        offset = len(self._norm2) + 1
        self._term_hits: dict[str, tuple[np.ndarray, np.ndarray, float, int]] = {}
        for term, ids in postings.items():
            docs = np.array(ids, dtype=np.int32)
            hits = np.concatenate([docs, np.unique(self._doc_key[docs]) + offset])
            square = self._weight(term) ** 2
            self._term_hits[term] = (hits, np.full(len(hits), square), square, len(docs))
        self._key_terms = [dict(counts) for counts in self._key_terms]
        # Entries × phrasings, padded with a document that matches nothing (index = count).
        width = max(len(docs) for docs in self._key_docs)
        self._padded = np.full((len(self._keys), width), len(self._compacts), dtype=np.int32)
        for k, docs in enumerate(self._key_docs):
            self._padded[k, :len(docs)] = docs
        self._padded_inv_norm = np.append(1 / np.sqrt(self._norm2), 0.0)[self._padded]
        self._key_is_oos = np.array([key.startswith(OOS_PREFIX) for key in self._keys])
        self.weights = weights if weights is not None else self._fit()
        # Its weight table grows as terms × topics: a base far larger than ours goes without.
        self._classifier = TermClassifier.fit(
            self._doc_terms, self._doc_key.tolist(), len(self._keys), self._weight,
        ) if len(self._keys) <= CLASSIFIER_MAX_TOPICS else None

    @classmethod
    def from_index(cls, index: dict[str, Any], segmenter: Segmenter,
                   prepare: Prepare | None = None) -> Matcher:
        """A matcher from an earlier one's `index()`, without rebuilding or recalibrating."""
        matcher = cls.__new__(cls)
        matcher.__dict__.update(index)
        matcher._use(segmenter, prepare)
        return matcher

    def index(self) -> dict[str, Any]:
        """The built index and calibration, picklable: all but the segmenter and `prepare`."""
        return {k: v for k, v in self.__dict__.items() if k not in _TOOLS}

    def _use(self, segmenter: Segmenter, prepare: Prepare | None) -> None:
        self.segmenter = segmenter
        # Place names are taken out of every text before matching: where a question is about
        # is read separately (bot.qa.places), so a place never decides what is asked.
        self._prepare = prepare or (lambda text: text)

    def _weight(self, term: str) -> float:
        weight = self._idf.get(term)
        if weight is None:
            weight = self._unknown_idf
        return weight * (BIGRAM_WEIGHT if term[0] == BIGRAM_PREFIX else 1.0)

    # -- ranking -------------------------------------------------------------------------------
    # This runs on every message, so it works on whole arrays (about twenty numpy calls) plus
    # one rapidfuzz call per candidate: no Python loop over documents.

    def _features(self, text: str, exclude_doc: int = -1,
                  analysed: tuple[str, list[str], list[str]] | None = None,
                  ) -> tuple[list[str], np.ndarray]:
        """The candidate keys for `text` and their feature rows (columns as in FEATURES)."""
        compact, _words, terms = analysed or self.segmenter.analyse(text)
        held_out = self._doc_terms[exclude_doc] if exclude_doc >= 0 else frozenset()
        # Document vectors are binary times the term weight, so a shared term adds weight².
        q_norm2 = unknown = 0.0
        hit_parts, weight_parts = [], []
        for term in set(terms):
            hit = self._term_hits.get(term)
            if hit is None:  # a term no phrasing has: weighs like the rarest
                square = self._weight(term) ** 2
                q_norm2 += square
                unknown += square
                continue
            hits, weights, square, docs = hit
            q_norm2 += square
            if docs == 1 and term in held_out:
                unknown += square
                continue
            hit_parts.append(hits)
            weight_parts.append(weights)
        q_norm2 = q_norm2 or 1.0
        if not hit_parts:
            return [], _NO_ROWS
        # One C-level pass sums every term's contribution per document and per entry (the
        # share of the question an entry's phrasings cover between them).
        offset = len(self._norm2) + 1  # + the padding document
        sums = np.bincount(np.concatenate(hit_parts), weights=np.concatenate(weight_parts),
                           minlength=offset + len(self._keys))
        dots, covered = sums[:offset], sums[offset:]
        if exclude_doc >= 0:
            dots[exclude_doc] = 0.0
        # Per entry, from a padded entries × phrasings table: the best cosine, the mean of the
        # best three (padding counts as 0) and the best phrasing's share of itself matched.
        cos = self._padded_inv_norm * dots[self._padded]
        best_column = cos.argmax(axis=1)
        cos.sort(axis=1)
        best = cos[:, -1]
        top3 = cos[:, -3:].sum(axis=1) / 3
        ranking = 0.6 * best + 0.4 * top3
        chosen = np.argsort(-ranking)[:CANDIDATES]
        chosen = chosen[ranking[chosen] > 0]
        if not chosen.size:
            return [], _NO_ROWS
        q_norm = math.sqrt(q_norm2)
        rows = np.zeros((chosen.size, len(FEATURES)))
        rows[:, _BIAS] = 1.0
        rows[:, _COS] = best[chosen] / q_norm
        rows[:, _TOP3] = top3[chosen] / q_norm
        best_docs = self._padded[chosen, best_column[chosen]]
        rows[:, _DCOV] = dots[best_docs] / self._norm2[best_docs]
        # The lead over the best other candidate by ranking (ties with the first count as it).
        first = rows[0, _COS]
        second = rows[1, _COS] if chosen.size > 1 else 0.0
        rows[:, _GAP] = rows[:, _COS] - np.where(rows[:, _COS] == first, second, first)
        rows[:, _UNKNOWN] = unknown / q_norm2
        rows[:, _QCOV] = covered[chosen] / q_norm2
        is_oos = self._key_is_oos[chosen]
        rows[:, _IS_OOS] = is_oos
        if any(word in compact for word in CERTIFICATION_WORDS):
            rows[:, _OOS_CERT] = is_oos
        if not any(word in compact for word in TOPIC_WORDS):
            rows[:, _OFF_TOPIC] = ~is_oos
        held_key = int(self._doc_key[exclude_doc]) if exclude_doc >= 0 else -1
        names = [self._keys[k] for k in chosen.tolist()]
        for row, k in enumerate(chosen.tolist()):
            if k == held_key:  # terms only the held-out phrasing had do not count
                counts = self._key_terms[k]
                alone = sum(self._term_hits[t][2] for t in set(terms)
                            if t in held_out and counts[t] == 1 and self._term_hits[t][3] > 1)
                rows[row, _QCOV] -= alone / q_norm2
                docs = [self._compacts[d] for d in self._key_docs[k] if d != exclude_doc]
            else:
                docs = self._key_compacts[k]
            if docs:
                rows[row, _RATIO] = process.extractOne(compact, docs, scorer=fuzz.ratio)[1] / 100
        # Each relative feature: the candidate's value minus the best other candidate's.
        values = rows[:, _RELATIVE_FROM]
        if len(names) == 1:
            rows[:, _RELATIVE_TO] = values
            return names, rows
        ordered = np.sort(values, axis=0)
        gaps = values - ordered[-1]
        gaps[values.argmax(axis=0), _RELATIVE_SPAN] = ordered[-1] - ordered[-2]
        rows[:, _RELATIVE_TO] = gaps
        return names, rows

    def match(self, text: str) -> MatchResult:
        """Rank entries for `text` (already normalised) and decide what to do."""
        # Typos are repaired before places are taken out: 粤省是 is 粤省事, which names 广东.
        analysed = self.segmenter.analyse(self._prepare(self.segmenter.repair(text)),
                                          repaired=True)
        keys, rows = self._features(text, analysed=analysed)
        z = np.clip(rows @ np.asarray(self.weights), -30.0, 30.0)
        probabilities = (1 / (1 + np.exp(-z))).tolist()
        candidates = sorted((Candidate(key, p) for key, p in zip(keys, probabilities, strict=True)),
                            key=lambda c: c.probability, reverse=True)
        compact, words = analysed[0], analysed[1]
        general = general_answer(compact, words, self._overview, self._general_with)
        if general:
            # Only general words (with, at most, one entry's general_with words): that answer.
            candidates = [Candidate(general, 1.0), *(c for c in candidates if c.key != general)]
            return MatchResult("answer", candidates)
        related = len(candidates) > 1 and bool(
            self._tags.get(candidates[0].key, frozenset())
            & self._tags.get(candidates[1].key, frozenset()))
        second = self.second_opinion(analysed[2])
        decision = decide(candidates, on_topic=on_topic(compact), related=related,
                          second=second)
        needs = self._needs.get(candidates[0].key) if candidates else None
        if decision == "answer" and needs and not any(w in text or w in compact for w in needs):
            # 退休每年怎么网上认证 names no 企业: the enterprise answer is a button, not the reply.
            decision = "suggest"
        if decision == "decline" and self._overview and (on_topic(text) or "认" in text) \
                and any(w in text for w in TOPIC_WORDS) \
                and not (candidates and candidates[0].is_out_of_scope):
            # About certifying (认 is often all that is typed of 认证), only not which part of
            # it (鞍山养老全认证, 龙江人社怎么认): the general guide first and the closest topics,
            # never 回答不了.
            decision = "suggest"
            candidates = _moved_to([c for c in candidates if c.probability >= CLOSE_AT],
                                   self._overview, 0)
        if second is not None and candidates and second.key != candidates[0].key \
                and not second.is_out_of_scope:
            # The two disagree: the classifier's pick is the second button, whatever its rank,
            # and the first when it is sure of it and the matcher all but ties it with its own.
            mine = next((c.probability for c in candidates if c.key == second.key), 0.0)
            tied = decision == "suggest" and second.probability >= SURE \
                and candidates[0].probability - mine <= TIE
            candidates = _moved_to(candidates, second.key, 0 if tied else 1)
        if decision == "suggest" and self._death:
            if mentions_death(text):
                # Whatever else a family asks after a death (抚恤金啥时候领, 钱还在发咋办), what
                # to report is the answer: "我不太确定" with a certification date or how-to
                # as buttons is the wrong reply to someone who has just lost a parent.
                # Answered outright when the ranking or the classifier already put it first
                # (老伴去世以后我一个人住… is about the widow's own certification).
                first = bool(candidates) and candidates[0].key == self._death \
                    and candidates[0].probability >= SUGGEST_AT
                if first or (second is not None and second.key == self._death
                             and second.probability >= AGREED_ANSWER_AT):
                    decision = "answer"
                candidates = _moved_to(candidates, self._death, 0)
            else:
                # Someone who wrote of no death (认证了没到账) is not offered 老人去世了要办什么.
                candidates = [c for c in candidates if c.key != self._death]
        general = self._overview if decision == "suggest" and HOW_WORDS.search(compact) else None
        return MatchResult(decision, candidates, general)

    def second_opinion(self, terms: list[str]) -> Candidate | None:
        """The classifier's pick for a question's terms, with its probability."""
        if self._classifier is None:
            return None
        probabilities = self._classifier.predict(terms)
        if probabilities is None:
            return None
        best = int(probabilities.argmax())
        return Candidate(self._keys[best], float(probabilities[best]))

    # -- calibration ---------------------------------------------------------------------------

    def _fit(self) -> list[float]:
        """Fit the logistic model on leave-one-phrasing-out queries over the knowledge base."""
        rows, labels = [], []
        rng = random.Random(20261123)
        for doc_id, compact in enumerate(self._compacts):
            gold = self._keys[int(self._doc_key[doc_id])]
            queries = [compact]
            if len(compact) >= 6:  # a typo-like variant: one character dropped
                cut = rng.randrange(len(compact))
                queries.append(compact[:cut] + compact[cut + 1:])
            for query in queries:
                keys, features = self._features(query, exclude_doc=doc_id)
                rows.append(features)
                labels += [1.0 if key == gold else 0.0 for key in keys]
        x = np.concatenate(rows)
        y = np.array(labels)
        w = np.zeros(len(FEATURES))
        ridge = RIDGE
        for _ in range(25):  # Newton's method; converges in a handful of steps
            p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
            gradient = x.T @ (p - y) + ridge * w
            hessian = (x * (p * (1 - p))[:, None]).T @ x + ridge * np.eye(len(w))
            step = np.linalg.solve(hessian, gradient)
            w -= step
            if np.abs(step).max() < 1e-6:
                break
        return [float(v) for v in w]


def _moved_to(candidates: list[Candidate], key: str, position: int) -> list[Candidate]:
    """`candidates` with `key` at `position` (added with probability 0 if it was not there)."""
    mine = next((c for c in candidates if c.key == key), Candidate(key, 0.0))
    rest = [c for c in candidates if c is not mine]
    return [*rest[:position], mine, *rest[position:]]
