"""A second opinion on what a question asks: a linear classifier over the matcher's terms.

The matcher compares a question with each phrasing and keeps the closest; this model instead
learns, from all of an entry's phrasings together, which words speak for that entry and which
speak against it. The two err on different questions, so when they name the same topic the
answer is much more often right than when they differ: measured on the tuning half of the real
questions and the self-written set (docs/benchmarks.md), the bot answers when they agree and
offers both topics as buttons when they do not.

It is multinomial logistic regression on binary term features weighted by the matcher's rarity
weights and scaled to unit length, fitted on the knowledge base's phrasings only (never on
evaluation questions) by full-batch gradient descent with Nesterov momentum. Each step is a few
numpy bincounts per class over the (document, term) entries, so fitting takes a few seconds and
is cached with the matcher.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

STEPS = 100
LEARNING_RATE = 30.0
MOMENTUM = 0.9
RIDGE = 1e-4  # L2 penalty per example: keeps rare words from deciding alone


class TermClassifier:
    """Probabilities over classes (entry keys) for a bag of terms."""

    def __init__(self, vocabulary: dict[str, int], weights: np.ndarray, term_weights: np.ndarray,
                 bias: np.ndarray):
        self._vocabulary = vocabulary
        self._weights = weights  # terms × classes
        self._term_weights = term_weights
        self._bias = bias

    @classmethod
    def fit(cls, documents: Sequence[Iterable[str]], labels: Sequence[int], classes: int,
            term_weight: Callable[[str], float]) -> TermClassifier:
        """Fit on `documents` (each a bag of terms) labelled with class numbers."""
        vocabulary: dict[str, int] = {}
        bags = [sorted({vocabulary.setdefault(t, len(vocabulary)) for t in terms})
                for terms in documents]
        term_weights = np.array([term_weight(t) for t in vocabulary], dtype=np.float32)
        n = len(bags)
        # The (document, term) entries, each with its share of the document's unit length.
        # Scores sum them per document, the gradient per term: one bincount per class each,
        # which numpy does five times faster than a segmented sum over a documents × classes
        # table.
        rows = np.repeat(np.arange(n), [len(bag) for bag in bags])
        terms = np.fromiter((t for bag in bags for t in bag), dtype=np.int64, count=len(rows))
        entry_values = np.concatenate(
            [term_weights[bag] / np.linalg.norm(term_weights[bag]) for bag in bags]
            or [np.zeros(0, dtype=np.float32)])
        size = len(vocabulary)
        targets = np.zeros((classes, n), dtype=np.float32)
        targets[np.asarray(labels), np.arange(n)] = 1.0

        weights = np.zeros((classes, size), dtype=np.float32)  # classes first: rows are sums
        bias = np.zeros((classes, 1), dtype=np.float32)
        velocity_w, velocity_b = np.zeros_like(weights), np.zeros_like(bias)
        scores = np.empty((classes, n), dtype=np.float32)
        for _ in range(STEPS):
            ahead_w = weights + MOMENTUM * velocity_w
            ahead_b = bias + MOMENTUM * velocity_b
            for k in range(classes):
                scores[k] = np.bincount(rows, weights=ahead_w[k, terms] * entry_values,
                                        minlength=n)
            error = (_softmax(scores + ahead_b, axis=0) - targets) / n
            gradient_w = RIDGE * ahead_w
            for k in range(classes):
                gradient_w[k] += np.bincount(terms, weights=error[k, rows] * entry_values,
                                             minlength=size)
            velocity_w = MOMENTUM * velocity_w - LEARNING_RATE * gradient_w
            velocity_b = MOMENTUM * velocity_b - LEARNING_RATE * error.sum(axis=1, keepdims=True)
            weights += velocity_w
            bias += velocity_b
        return cls(vocabulary, np.ascontiguousarray(weights.T), term_weights, bias[:, 0])

    def predict(self, terms: Iterable[str]) -> np.ndarray | None:
        """Class probabilities for a question's terms; None when it has no known term."""
        columns = sorted({self._vocabulary[t] for t in terms if t in self._vocabulary})
        if not columns:
            return None
        values = self._term_weights[columns]
        values = values / np.sqrt(values @ values)
        return _softmax(values @ self._weights[columns] + self._bias)


def _softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)
