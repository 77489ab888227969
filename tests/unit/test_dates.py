"""Chinese date parsing: absolute, relative, Chinese numerals; lunar and impossible refused."""

from __future__ import annotations

import datetime as dt
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import DateParseError
from bot.text.dates import (
    cn_number,
    find_date,
    parse_date,
    parse_date_match,
    scan_date,
)
from bot.text.times import parse_send_time

TODAY = date(2026, 11, 23)
D = date.fromisoformat


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025年3月10日", "2025-03-10"),
        ("2025年3月10号", "2025-03-10"),
        ("2025.3.10", "2025-03-10"),
        ("2025-3-10", "2025-03-10"),
        ("2025/3/10", "2025-03-10"),
        ("2025-03-10", "2025-03-10"),
        ("25年3月10号", "2025-03-10"),
        ("25.3.10", "2025-03-10"),
        ("20250310", "2025-03-10"),
        ("二〇二五年十二月三十一日", "2025-12-31"),
        ("二零二五年三月十日", "2025-03-10"),
        ("二五年三月十号", "2025-03-10"),
        ("3月10号", "2026-03-10"),  # this year: already past
        ("12月31号", "2025-12-31"),  # this year's is still ahead → last year
        ("11月23日", "2026-11-23"),  # today itself
        ("11月24日", "2025-11-24"),  # tomorrow's month-day → last year
        ("三月十号", "2026-03-10"),
        ("十二月三十一日", "2025-12-31"),
        ("1月31日", "2026-01-31"),
        ("去年3月10号", "2025-03-10"),
        ("去年三月十号", "2025-03-10"),
        ("去年的3月10号", "2025-03-10"),
        ("今年5月2号", "2026-05-02"),
        ("前年8月1日", "2024-08-01"),
        ("大前年1月5号", "2023-01-05"),
        ("上个月15号", "2026-10-15"),
        ("上月15号", "2026-10-15"),
        ("这个月3号", "2026-11-03"),
        ("本月3日", "2026-11-03"),
        ("上上个月1号", "2026-09-01"),
        ("昨天", "2026-11-22"),
        ("昨日", "2026-11-22"),
        ("前天", "2026-11-21"),
        ("大前天", "2026-11-20"),
        ("今天", "2026-11-23"),
        ("15号", "2026-11-15"),
        ("十五号", "2026-11-15"),
        ("25号", "2026-10-25"),  # the 25th of this month is still ahead → last month's
        ("廿五号", "2026-10-25"),
        ("3.10", "2026-03-10"),
        ("3/10", "2026-03-10"),
        ("元月5号", "2026-01-05"),
        ("2024年2月29日", "2024-02-29"),
        ("２０２５年３月１０日", "2025-03-10"),  # full-width digits
        ("2025 年 3 月 10 日", "2025-03-10"),
        ("2025年3月10日。", "2025-03-10"),
        ("明年3月10号", "2027-03-10"),  # explicit future dates are returned; callers decide
        ("2030-1-1", "2030-01-01"),
        ("明天", "2026-11-24"),
    ],
)
def test_full_dates(text, expected):
    found = parse_date_match(text, TODAY)
    assert found.date == D(expected)
    assert not found.day_assumed
    assert parse_date(text, TODAY) == D(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25年3月", "2025-03-01"),
        ("2025年3月", "2025-03-01"),
        ("去年三月", "2025-03-01"),
        ("今年3月份", "2026-03-01"),
        ("3月份", "2026-03-01"),
        ("12月", "2025-12-01"),
        ("十一月", "2026-11-01"),
        ("上个月", "2026-10-01"),
        ("去年年底", "2025-12-01"),
        ("今年年初", "2026-01-01"),
    ],
)
def test_month_only_takes_the_first_and_says_so(text, expected):
    found = parse_date_match(text, TODAY)
    assert found.date == D(expected)
    assert found.day_assumed


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("2月30日", "2月没有30日"),
        ("4月31日", "4月没有31日"),
        ("2025年2月29日", "不是闰年"),
        ("2025.2.29", "不是闰年"),
        ("2025年13月1日", "没有13月"),
        ("2025-13-01", "没有13月"),
        ("2025-02-30", "2月没有30日"),
        ("0月5日", "没有0月"),
        ("32号", "没有32号"),
        ("三月初十", "农历"),
        ("正月十五", "农历"),
        ("腊月二十三", "农历"),
        ("农历3月10", "农历"),
        ("阴历八月十五", "农历"),
        ("2025年", "只看到年份"),
        ("去年", "只看到年份"),
        ("1800年3月1日", "年份1800"),
        ("abc", "没看懂"),
        ("", "请告诉我一个日期"),
        ("下次什么时候", "没看懂"),
        ("3月10号左右", "没看懂"),
        ("2025年3月10日和4月1日", "没看懂"),
    ],
)
def test_rejected(text, hint):
    with pytest.raises(DateParseError) as info:
        parse_date(text, TODAY)
    assert hint in str(info.value)
    assert "Traceback" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("企业退休，去年3月10号认证的，下次什么时候？", "2025-03-10"),
        ("居民养老金 2025.9.1 认证的", "2025-09-01"),
        ("上回认证是二〇二五年十二月三十一日", "2025-12-31"),
        ("上个月15号刷的脸", "2026-10-15"),
        ("我是锦州的遗属，今年5月2号认证的", "2026-05-02"),
        ("我妈3月份认证的", "2026-03-01"),
        ("上次认证是2025.9.1。", "2025-09-01"),
        ("昨天刚刷的脸", "2026-11-22"),
        ("今年70岁了，3月10号认证过", "2026-03-10"),
        ("上个月认证的", "2026-10-01"),
        ("３月１０号认证", "2026-03-10"),
    ],
)
def test_find_date_in_free_text(text, expected):
    assert find_date(text, TODAY) == D(expected)


@pytest.mark.parametrize(
    "text",
    [
        "每年1月至6月认证",
        "住3号楼",
        "15日内出结果",
        "我养老金2.5千",
        "每月15号前要认证吗",
        "认证要多久",
        "12个月认证一次",
        "一年一次",
        "版本1.2.3",
        "",
    ],
)
def test_find_date_ignores_non_dates(text):
    assert find_date(text, TODAY) is None


@pytest.mark.parametrize(
    ("text", "hint"),
    [("上次认证是2月30号", "2月没有30日"), ("农历三月初十认证的", "农历")],
)
def test_scan_reports_bad_dates_instead_of_raising(text, hint):
    found = scan_date(text, TODAY)
    assert found is not None and found.date is None and hint in (found.error or "")
    assert find_date(text, TODAY) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("12", 12), ("十", 10), ("十二", 12), ("二十", 20), ("三十一", 31), ("廿五", 25),
     ("卅", 30), ("二〇二五", 2025), ("两", 2), ("十十", None), ("abc", None), ("", None)],
)
def test_cn_number(text, value):
    assert cn_number(text) == value


def test_two_digit_years_in_the_past_century():
    assert parse_date("99年3月1日", TODAY) == D("1999-03-01")


_FUZZ_CHARS = list("0123456789年月日号.-/上下这个去今前昨天明大初农历正腊"
                   "十廿卅一二三四五六七八九〇两元份底认证 ，")


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.sampled_from(_FUZZ_CHARS), max_size=16),
       today=st.dates(min_value=date(2001, 1, 1), max_value=date(2090, 12, 31)))
def test_never_crashes(text, today):
    found = scan_date(text, today)
    assert found is None or (found.date is None) != (found.error is None)
    try:
        parse_date(text, today)
    except DateParseError as exc:
        assert str(exc)


@pytest.mark.parametrize(("text", "expected"), [
    ("去年三月份吧", date(2024, 3, 1)),
    ("是去年三月份吧。", date(2024, 3, 1)),
    ("今年三月份认证的", date(2025, 3, 1)),
])
def test_words_around_a_month_are_allowed_and_the_day_is_assumed(text, expected):
    found = parse_date_match(text, date(2025, 11, 1))
    assert found.date == expected and found.day_assumed


@pytest.mark.parametrize(("text", "now", "expected"), [
    ("2-29", dt.datetime(2028, 3, 1, 10), dt.datetime(2032, 2, 29, 9)),  # no 2月29日 in between
    ("2-28", dt.datetime(2028, 3, 1, 10), dt.datetime(2029, 2, 28, 9)),
    ("2-29 8:00", dt.datetime(2028, 2, 1, 10), dt.datetime(2028, 2, 29, 8)),
])
def test_send_time_without_a_year_is_the_next_one_to_come(text, now, expected) -> None:
    assert parse_send_time(text, now) == expected


def test_a_pasted_page_is_not_repeated_whole() -> None:
    with pytest.raises(DateParseError) as caught:
        parse_date_match("认证" * 3000, date(2026, 1, 1))
    assert len(str(caught.value)) < 120 and "…" in str(caught.value)
