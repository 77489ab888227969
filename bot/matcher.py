"""Finding the knowledge entry a question is about, with a calibrated confidence.

Retrieval is an inverted index over the terms of every phrasing (words and character bigrams,
weighted by rarity). The best candidates are re-ranked with rapidfuzz string similarity and a
few more signals (place named in the question, overlap in both directions) combined by a
logistic model. The model is fitted on the knowledge base itself, leaving each phrasing out in
turn, so its output reads as "probability that this is the right entry" and the thresholds
mean the same thing whatever the knowledge base holds. No weight is fitted on the evaluation
set; the answer threshold (ANSWER_AT) was raised after looking at how many wrong answers it
let through there, so the evaluation's "confident wrong" rate is slightly optimistic.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from bot.knowledge import KnowledgeBase
from bot.segment import BIGRAM_PREFIX, Segmenter

OOS_PREFIX = "oos:"
PLACE_PREFIX = "@"
BIGRAM_WEIGHT = 0.6
CANDIDATES = 5
GENERIC_SHARE = 0.2  # a word in more than this share of entries is generic
TOP_DOCS = 120  # documents looked at per question before grouping them by entry
# Decision thresholds on the calibrated probability; see `decide`.
ANSWER_AT = 0.7
SUGGEST_AT = 0.18
ANSWER_MARGIN = 0.15

FEATURES = ("bias", "cos", "top3", "qcov_entry", "dcov", "ratio", "partial", "gap",
            "region_match", "region_mismatch", "is_oos", "oos_but_certification",
            "entry_but_off_topic", "unknown_share",
            "ratio_gap", "partial_gap", "qcov_gap", "top3_gap")
# Features also given relative to the best other candidate: the model then sees the contest.
RELATIVE = ("ratio", "partial", "qcov_entry", "top3")
# Words that make a question about certification, whatever else it mentions.
CERTIFICATION_WORDS = ("认证", "刷脸", "代认证", "静默认证", "上门认证", "补认证")
# Words without which a question is unlikely to be about benefits at all (去海南旅游哪里好玩).
TOPIC_WORDS = (*CERTIFICATION_WORDS, "养老金", "社保", "待遇", "停发", "补发", "12333", "资格",
               "退休", "抚恤金", "津贴", "遗属", "人社", "领取", "app", "小程序", "公众号", "上门")

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


class Matcher:
    """Ranks knowledge entries for a question."""

    def __init__(self, kb: KnowledgeBase, segmenter: Segmenter, locate: Locate | None = None,
                 locate_name: Locate | None = None, weights: list[float] | None = None):
        self.segmenter = segmenter
        self._locate = locate or (lambda _text: None)
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
            analysed.append((key, compact, frozenset(terms + places)))
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
        postings: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        norm2 = []
        for doc_id, (key, _compact, terms) in enumerate(analysed):
            k = key_index[key]
            self._key_docs[k].append(doc_id)
            total_w2 = 0.0
            for term in terms:
                weight = self._weight(term)
                ids, values = postings[term]
                ids.append(doc_id)
                values.append(weight)
                total_w2 += weight * weight
                self._key_terms[k][term] += 1
            norm2.append(total_w2 or 1.0)
        self._norm2 = np.array(norm2)
        self._key_compacts = [[self._compacts[d] for d in docs] for docs in self._key_docs]
        self._key_long = [[c for c in compacts if len(c) >= 4] for compacts in self._key_compacts]
        self._postings = {t: (np.array(ids, dtype=np.int32), np.array(values))
                          for t, (ids, values) in postings.items()}
        self._key_terms = [dict(counts) for counts in self._key_terms]
        # Words most entries use (认证, 养老金, 怎么办) say nothing about which entry is meant.
        spread: dict[str, int] = defaultdict(int)
        for counts in self._key_terms:
            for term in counts:
                spread[term] += 1
        limit = GENERIC_SHARE * len(self._keys)
        self._generic = frozenset(t for t, n in spread.items() if n > limit)
        self.weights = weights if weights is not None else self._fit()

    def _weight(self, term: str) -> float:
        weight = self._idf.get(term)
        if weight is None:
            weight = self._unknown_idf
        return weight * (BIGRAM_WEIGHT if term[0] == BIGRAM_PREFIX else 1.0)

    # -- ranking -------------------------------------------------------------------------------

    def _features(self, text: str, exclude_doc: int = -1, place: str | None = None,
                  analysed: tuple[str, list[str], list[str]] | None = None,
                  ) -> list[tuple[str, dict[str, float]]]:
        compact, _words, terms = analysed or self.segmenter.analyse(text)
        terms = list(terms)
        if place is None:
            place = self._locate(text)
        if place:
            terms.append(PLACE_PREFIX + place)
        query = {t: self._weight(t) for t in set(terms)}
        q_norm2 = sum(w * w for w in query.values()) or 1.0
        held_out = self._doc_terms[exclude_doc] if exclude_doc >= 0 else frozenset()
        unknown = 0.0
        id_parts, value_parts = [], []
        for term, weight in query.items():
            posting = self._postings.get(term)
            if posting is None or (len(posting[0]) == 1 and term in held_out):
                unknown += weight * weight
                continue
            id_parts.append(posting[0])
            value_parts.append(posting[1] * weight)
        if not id_parts:
            return []
        # One C-level pass sums every term's contribution per document.
        dots = np.bincount(np.concatenate(id_parts), weights=np.concatenate(value_parts),
                           minlength=len(self._norm2))
        if exclude_doc >= 0:
            dots[exclude_doc] = 0.0
        hits = np.flatnonzero(dots)
        if not hits.size:
            return []
        cos = dots[hits] / np.sqrt(q_norm2 * self._norm2[hits])
        if hits.size > TOP_DOCS:
            keep = np.argpartition(-cos, TOP_DOCS)[:TOP_DOCS]
            hits, cos = hits[keep], cos[keep]
        # Group the documents by entry: best cosine, mean of the best three, and the best
        # document's coverage, all in numpy (a Python loop here was half the time per question).
        order = np.lexsort((-cos, self._doc_key[hits]))  # by entry, best document first
        keys = self._doc_key[hits][order]
        cos_sorted = cos[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        sizes = np.diff(np.r_[starts, len(keys)])
        group = np.repeat(np.arange(len(starts)), sizes)
        in_top3 = np.arange(len(keys)) - starts[group] < 3
        top3 = np.bincount(group[in_top3], weights=cos_sorted[in_top3],
                           minlength=len(starts)) / 3
        best = cos_sorted[starts]
        best_docs = hits[order][starts]
        ranking = 0.6 * best + 0.4 * top3
        chosen = np.argsort(-ranking)[:CANDIDATES]
        scored = [(int(keys[starts[g]]), float(best[g]), float(top3[g]),
                   float(dots[best_docs[g]] / self._norm2[best_docs[g]])) for g in chosen]
        about_cert = any(word in compact for word in CERTIFICATION_WORDS)
        off_topic = not any(word in compact for word in TOPIC_WORDS)
        held_key = int(self._doc_key[exclude_doc]) if exclude_doc >= 0 else -1
        first = scored[0][1]
        second = scored[1][1] if len(scored) > 1 else 0.0
        result = []
        for k, best_cos, top3_mean, dcov in scored:
            key = self._keys[k]
            counts = self._key_terms[k]
            shared = counts.keys() & query.keys()
            if k == held_key:  # terms only the held-out phrasing had do not count
                shared = {t for t in shared if counts[t] - (t in held_out) > 0}
            covered = sum(query[t] ** 2 for t in shared)
            docs = self._key_compacts[k] if k != held_key else [
                self._compacts[d] for d in self._key_docs[k] if d != exclude_doc]
            ratio = process.extractOne(compact, docs, scorer=fuzz.ratio) if docs else None
            long_docs = self._key_long[k] if k != held_key else [d for d in docs if len(d) >= 4]
            partial = (process.extractOne(compact, long_docs, scorer=fuzz.partial_ratio)
                       if long_docs and compact else None)
            provinces = self._provinces.get(key, set())
            is_oos = key.startswith(OOS_PREFIX)
            result.append((key, {
                "bias": 1.0, "cos": best_cos, "top3": top3_mean,
                "qcov_entry": covered / q_norm2, "dcov": dcov,
                "ratio": ratio[1] / 100 if ratio else 0.0,
                "partial": partial[1] / 100 if partial else 0.0,
                "gap": best_cos - (second if best_cos == first else first),
                "region_match": float(bool(place) and place in provinces),
                "region_mismatch": float(bool(place and provinces) and place not in provinces),
                "is_oos": float(is_oos),
                "oos_but_certification": float(is_oos and about_cert),
                "entry_but_off_topic": float(not is_oos and off_topic),
                "unknown_share": unknown / q_norm2,
            }))
        for name, short in zip(RELATIVE, ("ratio", "partial", "qcov", "top3"), strict=True):
            values = [f[name] for _, f in result]
            leader = max(range(len(values)), key=values.__getitem__)
            runner_up = max(values[:leader] + values[leader + 1:], default=0.0)
            for index, (_, features) in enumerate(result):
                best_other = runner_up if index == leader else values[leader]
                features[f"{short}_gap"] = features[name] - best_other
        return result

    def _probability(self, features: dict[str, float]) -> float:
        z = sum(w * features[name] for w, name in zip(self.weights, FEATURES, strict=True))
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))

    def match(self, text: str) -> MatchResult:
        """Rank entries for `text` (already normalised) and decide what to do."""
        place = self._locate(text) or ""
        analysed = self.segmenter.analyse(text)
        candidates = [Candidate(key, self._probability(features), features)
                      for key, features in self._features(text, place=place, analysed=analysed)]
        candidates.sort(key=lambda c: c.probability, reverse=True)
        decision = decide(candidates)
        specific = bool(place) or any(w not in self._generic for w in analysed[1])
        if decision == "answer" and not specific:
            decision = "suggest"  # only generic words: offer topics rather than guess one
        return MatchResult(decision, candidates)

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
                for key, features in self._features(query, exclude_doc=doc_id):
                    rows.append([features[name] for name in FEATURES])
                    labels.append(1.0 if key == gold else 0.0)
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
