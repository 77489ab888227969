"""argparse types shared by the sub-commands: ids and counts, each a one-line error when wrong."""

from __future__ import annotations

import argparse

from bot.db.ids import parse_id

MAX_LIMIT = 100_000


def database_id(value: str) -> int:
    """argparse type: a row id (1 … SQLite's INTEGER maximum), else a one-line error."""
    number = parse_id(value)
    if number is None:
        raise argparse.ArgumentTypeError(f"编号应是正整数（最大 2^63-1）：{value!r}")
    return number


def limit_count(value: str) -> int:
    """argparse type: how many rows to show, 1 … MAX_LIMIT."""
    number = parse_id(value)
    if number is None or number > MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"应是 1 到 {MAX_LIMIT} 之间的整数：{value!r}")
    return number
