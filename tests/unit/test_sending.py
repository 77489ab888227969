"""Splitting long replies under Telegram's limit."""

from __future__ import annotations

import pytest

from bot.tg.sending import MAX_MESSAGE_CHARS, split_text


@pytest.mark.parametrize("size", [10, MAX_MESSAGE_CHARS, MAX_MESSAGE_CHARS + 1, 3 * 4096 + 7])
def test_parts_fit_and_keep_all_text(size):
    text = ("第一段内容。" * 50 + "\n\n") * (size // 302 + 1)
    text = text[:size]
    parts = split_text(text)
    assert all(len(p) <= MAX_MESSAGE_CHARS for p in parts)
    assert "".join(parts).replace("\n", "") == text.strip().replace("\n", "")


def test_split_prefers_paragraphs():
    text = "甲" * 3000 + "\n\n" + "乙" * 3000
    assert split_text(text) == ["甲" * 3000, "乙" * 3000]


def test_no_newlines_hard_split():
    parts = split_text("丙" * 9000)
    assert [len(p) for p in parts] == [4000, 4000, 1000]


def test_empty_text_is_never_sent_empty():
    assert split_text("   ") == ["…"]
