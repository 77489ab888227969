"""jieba's segmentation without its HMM, in one pass: the same words, about twice as fast.

`jieba.Tokenizer.lcut(text, HMM=False)` builds a dict of lists per block and a generator per
position; on an 80–100-character forum post that was a fifth of the time it takes to answer.
This runs the same dynamic programme over the tokenizer's own dictionary in two plain loops.
tests/unit/test_wordcut.py checks that the words are jieba's, text for text.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jieba

# jieba's own block and whitespace patterns (jieba/__init__.py: re_han_default, re_skip_default).
_BLOCK = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)")
_SPACE = re.compile("(\r\n|\\s)")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


class WordCutter:
    """Cuts text into words exactly as `tokenizer.lcut(text, HMM=False)` does."""

    def __init__(self, tokenizer: jieba.Tokenizer):
        tokenizer.check_initialized()
        self._counts = tokenizer.FREQ  # words with their counts, prefixes of words with 0
        self._log_total = math.log(tokenizer.total)

    def cut(self, text: str) -> list[str]:
        """The words of `text`, punctuation and spaces included, in order."""
        words: list[str] = []
        for block in _BLOCK.split(text):
            if not block:
                continue
            if _BLOCK.match(block):
                self._cut_block(block, words)
                continue
            for piece in _SPACE.split(block):
                if _SPACE.match(piece):
                    words.append(piece)
                else:
                    words.extend(piece)
        return words

    def log_probability(self, text: str) -> float:
        """Log-probability of the likeliest segmentation of `text` as one block (jieba's
        unigram model: route[0][0] of `Tokenizer.calc`)."""
        return self._routes(text)[0][0] if text else 0.0

    def _cut_block(self, block: str, words: list[str]) -> None:
        _score, end = self._routes(block)
        n = len(block)
        i, run = 0, ""
        while i < n:
            j = end[i] + 1
            word = block[i:j]
            if j - i == 1 and word in _ALNUM:  # single letters and digits are joined up
                run += word
            else:
                if run:
                    words.append(run)
                    run = ""
                words.append(word)
            i = j
        if run:
            words.append(run)

    def _routes(self, block: str) -> tuple[list[float], list[int]]:
        counts, log, log_total = self._counts, math.log, self._log_total
        # As jieba computes it, log(count) - log(total), so that routes compare identically.
        unknown = log(1) - log_total
        n = len(block)
        # route[i]: (best log-probability of block[i:], end of its first word); on a tie
        # jieba's max() over (score, end) keeps the longer word, and so does this.
        score = [0.0] * (n + 1)
        end = [0] * (n + 1)
        for start in range(n - 1, -1, -1):
            best, best_end = -math.inf, -1
            stop = start + 1
            fragment = block[start]
            while stop <= n and (count := counts.get(fragment)) is not None:
                if count:
                    s = log(count) - log_total + score[stop]
                    if s > best or (s == best and stop - 1 > best_end):
                        best, best_end = s, stop - 1
                stop += 1
                fragment = block[start:stop]
            if best_end < 0:  # no word starts here: the character alone, as an unknown word
                best, best_end = unknown + score[start + 1], start
            score[start], end[start] = best, best_end
        return score, end
