"""An index for longest-match scans over text: which lengths are worth looking up at a position."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

Key = TypeVar("Key", bound=Sequence)


def longest_by_head(keys: Iterable[Key]) -> dict[Key, int]:
    """The first two items of every key of two or more, with the longest such key's length.

    A scan skips a position whose next two items start no key, and elsewhere tries only the
    lengths some key starting there has (place names by characters, repairable words by sounds).
    """
    heads: dict[Key, int] = {}
    for key in keys:
        if len(key) >= 2:
            head = key[:2]
            heads[head] = max(heads.get(head, 0), len(key))
    return heads
