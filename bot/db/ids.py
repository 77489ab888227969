"""Ids that come from outside (callback data, deep links, the command line), checked once.

Apart from the connection module so that the command line can check an id without importing
sqlite-utils.
"""

from __future__ import annotations

import re

# SQLite stores INTEGER as a signed 64-bit number: anything outside fails with OverflowError.
SQLITE_INT_MIN = -(2**63)
SQLITE_INT_MAX = 2**63 - 1
_INT_TEXT = re.compile(r"[+-]?[0-9]{1,25}")


def parse_id(value: object, *, positive: bool = True) -> int | None:
    """An id from outside (callback data, a deep link, the command line), or None if invalid.

    The one check for every id that reaches the database: decimal digits with an optional sign,
    within SQLite's INTEGER range, and at least 1 when `positive` (row ids; chat ids of groups
    are negative, so they use positive=False).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not _INT_TEXT.fullmatch(text):
            return None
        number = int(text)
    if not SQLITE_INT_MIN <= number <= SQLITE_INT_MAX:
        return None
    if positive and number < 1:
        return None
    return number
