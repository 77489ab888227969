"""Finding the knowledge entry a question is about, with a calibrated confidence.

Retrieval is an inverted index over the terms of every phrasing (words and character bigrams,
weighted by rarity). The best candidates are re-ranked with rapidfuzz string similarity and a
few more signals (place named in the question, overlap in both directions) combined by a
logistic model. The model is fitted on the knowledge base itself, leaving each phrasing out in
turn, so its output reads as "probability that this is the right entry" and the thresholds
mean the same thing whatever the knowledge base holds. Nothing is fitted on the evaluation set.
"""

from __future__ import annotations

import math
import random
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from bot.knowledge import KnowledgeBase
from bot.segment import BIGRAM_PREFIX, Segmenter

OOS_PREFIX = "oos:"
PLACE_PREFIX = "@"
BIGRAM_WEIGHT = 0.6
CANDIDATES = 10
# Decision thresholds on the calibrated probability; see `decide`.
ANSWER_AT = 0.55
SUGGEST_AT = 0.18
ANSWER_MARGIN = 0.15

FEATURES = ("bias", "cos", "top3", "qcov_entry", "dcov", "ratio", "partial", "gap",
            "region_match", "region_mismatch", "is_oos", "oos_but_certification",
            "unknown_share")
# Words that make a question about certification, whatever else it mentions.
CERTIFICATION_WORDS = ("认证", "刷脸", "代认证", "静默认证", "上门认证", "补认证")

Locate = Callable[[str], "str | None"]


@dataclass
class Candidate:
    """One entry (or out-of-scope topic) considered for a question."""

    key: str  # entry id, or "oos:<topic id>"
    probability: float
    features: dict[str, float] = field(default_factory=dict)

    @property
    def is_out_of_scope(self) -> bool:
        return self.key.startswith(OOS_PREFIX)


@dataclass
class MatchResult:
    """What the matcher thinks of a question: ranked candidates and a decision."""

    decision: str  # "answer" | "suggest" | "decline"
    candidates: list[Candidate]

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def score(self) -> float:
        return round(self.best.probability, 3) if self.best else 0.0

    def entries(self, limit: int = 3) -> list[str]:
        """Closest knowledge entries (never out-of-scope topics), best first."""
        return [c.key for c in self.candidates if not c.is_out_of_scope][:limit]


@dataclass
class _Doc:
    key: str
    compact: str
    weights: dict[str, float]
    norm2: float


class Matcher:
    """Ranks knowledge entries for a question."""

    def __init__(self, kb: KnowledgeBase, segmenter: Segmenter, locate: Locate | None = None,
                 locate_name: Locate | None = None, weights: list[float] | None = None):
        self.segmenter = segmenter
        self._locate = locate or (lambda _text: None)
        self._docs: list[_Doc] = []
        self._postings: dict[str, list[int]] = defaultdict(list)
        self._vocab: dict[str, set[str]] = defaultdict(set)
        self._provinces: dict[str, set[str]] = {}
        texts: list[tuple[str, str]] = []
        for entry in kb.entries.values():
            texts += [(entry.id, t) for t in entry.texts]
            places = {(locate_name or self._locate)(r) or r for r in entry.regions}
            self._provinces[entry.id] = {p for p in places if p}
        for topic in kb.out_of_scope.values():
            texts += [(OOS_PREFIX + topic.id, t) for t in (topic.label, *topic.examples)]
        analysed = []
        for key, text in texts:
            compact, terms = segmenter.terms(text)
            # The province an entry is about is a term of its own, so that a question naming
            # any city of that province finds it (大连 → @辽宁) even when no other word matches.
            places = [PLACE_PREFIX + p for p in sorted(self._provinces.get(key, ()))]
            analysed.append((key, compact, terms + places))
        df: dict[str, int] = defaultdict(int)
        for _key, _compact, terms in analysed:
            for term in set(terms):
                df[term] += 1
        total = len(analysed) or 1
        self._idf = {t: math.log(1 + total / n) for t, n in df.items()}
        self._unknown_idf = math.log(1 + total)
        for key, compact, terms in analysed:
            term_weights = {t: self._weight(t) for t in set(terms)}
            doc_id = len(self._docs)
            self._docs.append(
                _Doc(key, compact, term_weights, sum(w * w for w in term_weights.values()))
            )
            for term in term_weights:
                self._postings[term].append(doc_id)
                self._vocab[key].add(term)
        self.weights = weights if weights is not None else self._fit()

    def _weight(self, term: str) -> float:
        idf = self._idf.get(term, self._unknown_idf)
        return idf * (BIGRAM_WEIGHT if term.startswith(BIGRAM_PREFIX) else 1.0)

    # -- ranking -------------------------------------------------------------------------------

    def _features(self, text: str, exclude_doc: int = -1) -> list[tuple[str, dict[str, float]]]:
        compact, terms = self.segmenter.terms(text)
        place = self._locate(text)
        if place:
            terms.append(PLACE_PREFIX + place)
        query = {t: self._weight(t) for t in set(terms)}
        q_norm2 = sum(w * w for w in query.values()) or 1.0
        dots: dict[int, float] = defaultdict(float)
        # Which entries use each query term; the held-out phrasing must not count (calibration).
        covered: dict[str, float] = defaultdict(float)
        unknown = 0.0
        for term, weight in query.items():
            keys = set()
            for doc_id in self._postings.get(term, ()):
                if doc_id != exclude_doc:
                    doc = self._docs[doc_id]
                    dots[doc_id] += weight * doc.weights[term]
                    keys.add(doc.key)
            if not keys:
                unknown += weight * weight
            for key in keys:
                covered[key] += weight * weight
        per_key: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for doc_id, dot in dots.items():
            doc = self._docs[doc_id]
            per_key[doc.key].append((dot / math.sqrt(q_norm2 * doc.norm2), dot / doc.norm2))
        summary = {}
        for key, scores in per_key.items():
            scores.sort(reverse=True)
            top = [c for c, _ in scores[:3]]
            summary[key] = (scores[0][0], sum(top) / 3, scores[0][1])
        ranked = sorted(summary.items(), key=lambda kv: 0.6 * kv[1][0] + 0.4 * kv[1][1],
                        reverse=True)[:CANDIDATES]
        about_cert = any(word in compact for word in CERTIFICATION_WORDS)
        result = []
        for index, (key, (cos, top3, dcov)) in enumerate(ranked):
            ratio = partial = 0.0
            for doc_id, doc in self._key_docs(key):
                if doc_id == exclude_doc:
                    continue
                ratio = max(ratio, fuzz.ratio(compact, doc.compact))
                if len(doc.compact) >= 4:
                    partial = max(partial, fuzz.partial_ratio(doc.compact, compact))
            other = ranked[1][1][0] if index == 0 and len(ranked) > 1 else ranked[0][1][0]
            provinces = self._provinces.get(key, set())
            result.append((key, {
                "bias": 1.0, "cos": cos, "top3": top3, "qcov_entry": covered[key] / q_norm2,
                "dcov": dcov, "ratio": ratio / 100, "partial": partial / 100,
                "gap": cos - other,
                "region_match": float(bool(place) and place in provinces),
                "region_mismatch": float(bool(place and provinces) and place not in provinces),
                "is_oos": float(key.startswith(OOS_PREFIX)),
                "oos_but_certification": float(key.startswith(OOS_PREFIX) and about_cert),
                "unknown_share": unknown / q_norm2,
            }))
        return result

    def _key_docs(self, key: str) -> list[tuple[int, _Doc]]:
        cache = self.__dict__.setdefault("_by_key", {})
        if not cache:
            for doc_id, doc in enumerate(self._docs):
                cache.setdefault(doc.key, []).append((doc_id, doc))
        return cache.get(key, [])

    def _probability(self, features: dict[str, float]) -> float:
        z = sum(w * features[name] for w, name in zip(self.weights, FEATURES, strict=True))
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))

    def match(self, text: str) -> MatchResult:
        """Rank entries for `text` (already normalised) and decide what to do.

        A long message is also matched on its question part, and each entry keeps the better
        of the two: life stories bury the question among words that point elsewhere.
        """
        best: dict[str, Candidate] = {}
        for part in {text, question_part(text)}:
            for key, features in self._features(part):
                candidate = Candidate(key, self._probability(features), features)
                if key not in best or candidate.probability > best[key].probability:
                    best[key] = candidate
        candidates = sorted(best.values(), key=lambda c: c.probability, reverse=True)
        return MatchResult(decide(candidates), candidates[:CANDIDATES])

    # -- calibration ---------------------------------------------------------------------------

    def _fit(self) -> list[float]:
        """Fit the logistic model on leave-one-phrasing-out queries over the knowledge base."""
        import numpy as np  # only needed when the knowledge base changes

        rows, labels = [], []
        rng = random.Random(20261123)
        for doc_id, doc in enumerate(self._docs):
            queries = [(doc_id, doc.compact)]
            if len(doc.compact) >= 6:  # a typo-like variant: one character dropped
                cut = rng.randrange(len(doc.compact))
                queries.append((doc_id, doc.compact[:cut] + doc.compact[cut + 1:]))
            for exclude, query in queries:
                for key, features in self._features(query, exclude_doc=exclude):
                    rows.append([features[name] for name in FEATURES])
                    labels.append(1.0 if key == doc.key else 0.0)
        x = np.array(rows)
        y = np.array(labels)
        w = np.zeros(len(FEATURES))
        ridge = 1e-2
        for _ in range(25):  # Newton's method; converges in a handful of steps
            p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
            gradient = x.T @ (p - y) + ridge * w
            hessian = (x * (p * (1 - p))[:, None]).T @ x + ridge * np.eye(len(w))
            step = np.linalg.solve(hessian, gradient)
            w -= step
            if np.abs(step).max() < 1e-6:
                break
        return [float(v) for v in w]


_CLAUSE_SPLIT = re.compile(r"[,.!?;:，。！？；：\s]+")
_ASKING = re.compile(
    r"吗|么|呢|怎|什么|啥|咋|哪|能不能|是不是|会不会|要不要|可不可以|行不行|多久|几|如何|\?"
)
LONG_MESSAGE = 40


def question_part(text: str) -> str:
    """The clauses of a long message that ask something (else its last two clauses)."""
    if len(text) <= LONG_MESSAGE:
        return text
    clauses = [c for c in _CLAUSE_SPLIT.split(text) if c]
    asking = [c for c in clauses if _ASKING.search(c)]
    focus = asking[-3:] if asking else clauses[-2:]
    return " ".join(focus) or text


def decide(candidates: list[Candidate]) -> str:
    """answer / suggest / decline from the ranked candidates.

    A confident wrong answer is the worst outcome, so answering needs both a high probability
    and a clear lead over the runner-up; an out-of-scope topic on top means decline.
    """
    if not candidates:
        return "decline"
    best = candidates[0]
    if best.is_out_of_scope:
        return "decline"
    runner_up = next((c.probability for c in candidates[1:] if not c.is_out_of_scope), 0.0)
    if best.probability >= ANSWER_AT and best.probability - runner_up >= ANSWER_MARGIN:
        return "answer"
    if best.probability >= SUGGEST_AT:
        return "suggest"
    return "decline"
