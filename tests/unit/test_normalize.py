"""Text normalisation: width, script, numerals, punctuation, junk."""

from __future__ import annotations

import pytest

from bot.text.normalize import MAX_CHARS, chinese_number, compact, normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("養老金認證怎麼辦？", "养老金认证怎么办?"),
        ("ＡＢＣ１２３，我媽", "abc123,我妈"),
        ("２０２５．３．１０", "2025.3.10"),
        ("上回认证是二〇二五年十二月三十一日", "上回认证是2025年12月31日"),
        ("十二个月认证一次", "12个月认证1次"),
        ("一百零八天", "108天"),
        ("每月十五号前", "每月15号前"),
        ("统一年审", "统一年审"),  # 统一 is a word, not the number one
        ("认证了。下次呢", "认证了.下次呢"),
        ("  多个   空格\t\n换行 ", "多个 空格 换行"),
        ("\x00\x01控制\u200b字符\ufffd", "控制 字符"),
        ("", ""),
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("run", "value"),
    [("十", 10), ("十二", 12), ("二十五", 25), ("一百零八", 108), ("二〇二五", 2025),
     ("两", 2), ("三十一", 31), ("abc", None)],
)
def test_chinese_number(run, value):
    assert chinese_number(run) == value


def test_compact_removes_punctuation_and_emoji():
    assert compact("刷脸👍失败了！！怎么办？？") == "刷脸失败了怎么办"


def test_long_input_is_cut():
    assert len(normalize("认" * (MAX_CHARS * 10))) == MAX_CHARS
