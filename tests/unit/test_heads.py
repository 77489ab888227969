"""The longest-match index shared by place reading and typo repair."""

from __future__ import annotations

import pytest

from bot.text.heads import longest_by_head


@pytest.mark.parametrize(("keys", "heads"), [
    (["北京", "北京市", "北海", "京"], {"北京": 3, "北海": 2}),  # one-item keys start no match
    ([("ren", "zheng"), ("ren", "zheng", "zi"), ("shua", "lian")],
     {("ren", "zheng"): 3, ("shua", "lian"): 2}),
    ([], {}),
])
def test_longest_by_head(keys, heads):
    assert longest_by_head(keys) == heads
