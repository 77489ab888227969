"""The deadline calculator against shared/spec/certification-rules.md."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.regions import rule_for
from bot.rules import (
    QUARTERLY,
    AppliedRule,
    Rule,
    add_months,
    compute_deadline,
    status_for,
    windows_of_year,
)
from bot.schemes import SCHEMES

D = date.fromisoformat


def deadline(scheme: str, last: str, today: str, place: str | None = None):
    return compute_deadline(rule_for(scheme, place), last=D(last), today=D(today))


# --- the spec's worked examples ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "last", "today", "due", "status", "days_left"),
    [
        ("enterprise", "2025-03-10", "2025-11-01", "2026-03-10", "ok", 129),
        ("enterprise", "2025-03-10", "2026-03-10", "2026-03-10", "due_soon", 0),
        ("enterprise", "2024-01-31", "2025-03-20", "2025-01-31", "overdue", -48),
        ("survivor", "2026-01-15", "2026-05-10", "2026-06-30", "ok", 51),
    ],
)
def test_worked_examples(scheme, last, today, due, status, days_left):
    result = deadline(scheme, last, today)
    assert (result.due, result.status, result.days_left) == (D(due), status, days_left)


def test_worked_example_on_time_note():
    result = deadline("enterprise", "2025-03-10", "2026-03-10")
    assert result.suspended_from is None and result.if_certified_today is None
    assert any("按时" for note in result.notes)
    assert "今天到期" in result.explanation


def test_worked_example_overdue_suspension_and_back_pay():
    result = deadline("enterprise", "2024-01-31", "2025-03-20")
    assert result.suspended_from == "2025-02"
    assert result.if_certified_today is not None
    assert result.if_certified_today.resume_month == "2025-05"
    assert result.if_certified_today.backpay_months == ("2025-02", "2025-03", "2025-04")


def test_worked_example_survivor_window():
    result = deadline("survivor", "2026-01-15", "2026-05-10")
    assert result.window == (D("2026-04-01"), D("2026-06-30"))


# --- region overrides from the spec's table ----------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "place", "expected"),
    [
        ("resident", "福建", {"type": "rolling", "months": 12}),
        ("resident", "陕西", {"type": "rolling", "months": 12}),
        ("resident", "辽宁",
         {"type": "windows", "windows": (("01-01", "06-30"), ("07-01", "12-31"))}),
        ("survivor", "辽宁", {"type": "rolling", "months": 6}),
        ("resident", "海口", {"type": "rolling", "months": 6}),
        *[(s, "武汉", {"type": "calendar_year"}) for s in SCHEMES],
        ("survivor", "呼和浩特",
         {"type": "windows", "resume_cutoff_day": 15,
          "windows": tuple((f"{m:02d}-01", f"{m:02d}-15") for m in range(1, 13))}),
        ("institution", "哈尔滨", {"type": "rolling", "months": 12, "resume_cutoff_day": 25}),
        ("resident", "淮南", {"type": "rolling", "months": 12, "resume_cutoff_day": 11}),
        *[(s, "广东", {"suspension": "due_month"}) for s in SCHEMES],
    ],
)
def test_spec_overrides_present(scheme, place, expected):
    applied = rule_for(scheme, place)
    assert applied.level != "national"
    for key, value in expected.items():
        assert getattr(applied.rule, key) == value, key


@pytest.mark.parametrize(
    ("scheme", "place", "label"),
    [
        ("resident", "锦州", "辽宁省"),  # a city without its own rule inherits its province's
        ("survivor", "葫芦岛市", "辽宁省"),
        ("enterprise", "广州", "广东省"),
        ("institution", "哈尔滨市", "哈尔滨市"),
        ("enterprise", "哈尔滨", "全国通用规则"),  # 哈尔滨's cutoff is for institution only
        ("resident", "合肥", "全国通用规则"),  # 淮南's rule is not 安徽's
        ("enterprise", None, "全国通用规则"),
    ],
)
def test_lookup_order_city_province_national(scheme, place, label):
    assert rule_for(scheme, place).label == label


def test_national_defaults_match_spec():
    assert rule_for("enterprise").rule == Rule("rolling", 12)
    assert rule_for("institution").rule == Rule("rolling", 12)
    assert rule_for("injury").rule == Rule("rolling", 12)
    assert rule_for("resident").rule.windows == (("01-21", "06-20"), ("07-21", "12-20"))
    assert rule_for("survivor").rule.windows == QUARTERLY


def test_guangdong_suspends_in_the_due_month():
    result = deadline("enterprise", "2025-03-10", "2026-04-20", "广州")
    assert result.suspended_from == "2026-03"
    assert result.if_certified_today.backpay_months == ("2026-03", "2026-04", "2026-05")
    national = deadline("enterprise", "2025-03-10", "2026-04-20")
    assert national.suspended_from == "2026-04"


@pytest.mark.parametrize(
    ("today", "resume"),
    [("2026-06-25", "2026-07"), ("2026-06-26", "2026-08")],
)
def test_harbin_institution_cutoff_25(today, resume):
    result = deadline("institution", "2025-03-10", today, "哈尔滨")
    assert result.if_certified_today.resume_month == resume


@pytest.mark.parametrize(
    ("today", "resume", "suspended"),
    [("2026-06-11", "2026-07", "2026-03"), ("2026-06-12", "2026-08", "2026-03")],
)
def test_huainan_resident_cutoff_11(today, resume, suspended):
    result = deadline("resident", "2025-03-10", today, "淮南")
    assert result.due == D("2026-03-10")
    assert result.suspended_from == suspended
    assert result.if_certified_today.resume_month == resume


@pytest.mark.parametrize(
    ("last", "today", "due", "status"),
    [
        ("2026-05-03", "2026-05-20", "2026-06-15", "due_soon"),  # May done, June next
        ("2026-05-15", "2026-05-15", "2026-06-15", "ok"),  # last day of the window counts
        ("2026-04-20", "2026-05-10", "2026-05-15", "due_soon"),  # make-up for April; May open
        ("2026-03-10", "2026-05-10", "2026-04-15", "overdue"),  # April missed
    ],
)
def test_hohhot_survivor_monthly(last, today, due, status):
    result = deadline("survivor", last, today, "呼和浩特")
    assert (result.due, result.status) == (D(due), status)


def test_hohhot_overdue_suspends_in_the_due_month():
    result = deadline("survivor", "2026-03-10", "2026-05-10", "呼和浩特")
    assert result.suspended_from == "2026-04"
    assert result.if_certified_today.resume_month == "2026-06"


@pytest.mark.parametrize(
    ("last", "today", "due", "status"),
    [
        ("2026-03-01", "2026-11-23", "2027-12-31", "ok"),  # certified this year
        ("2025-05-01", "2026-11-23", "2026-12-31", "ok"),  # last year: due end of this year
        ("2025-05-01", "2026-12-15", "2026-12-31", "due_soon"),
        ("2024-12-31", "2026-01-01", "2025-12-31", "overdue"),  # skipped a year
    ],
)
def test_wuhan_calendar_year(last, today, due, status):
    result = deadline("enterprise", last, today, "武汉")
    assert (result.due, result.status) == (D(due), status)
    assert result.window == (date(result.due.year, 1, 1), result.due)


@pytest.mark.parametrize(
    ("last", "today", "due"),
    [
        ("2026-02-01", "2026-05-01", "2026-12-31"),  # H1 done → H2 due
        ("2026-01-01", "2026-01-01", "2026-12-31"),  # first day of H1
        ("2026-06-30", "2026-07-01", "2026-12-31"),  # last day of H1
        ("2025-12-31", "2026-03-01", "2026-06-30"),  # H2 of last year done → H1 due
    ],
)
def test_liaoning_resident_half_years(last, today, due):
    assert deadline("resident", last, today, "辽宁").due == D(due)


def test_haikou_and_liaoning_survivor_six_months():
    assert deadline("resident", "2026-01-31", "2026-02-01", "海口").due == D("2026-07-31")
    assert deadline("survivor", "2025-08-31", "2025-09-01", "锦州").due == D("2026-02-28")


# --- month arithmetic -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2024-02-29", 12, "2025-02-28"),
        ("2024-02-29", 48, "2028-02-29"),
        ("2025-01-31", 1, "2025-02-28"),
        ("2024-01-31", 1, "2024-02-29"),
        ("2024-01-31", 12, "2025-01-31"),
        ("2023-03-31", 11, "2024-02-29"),
        ("2024-08-31", 6, "2025-02-28"),
        ("2025-10-31", 1, "2025-11-30"),
        ("2025-12-15", 1, "2026-01-15"),
        ("2023-02-28", 12, "2024-02-28"),
    ],
)
def test_add_months_clamps_to_month_end(start, months, expected):
    assert add_months(D(start), months) == D(expected)


def test_rolling_clamping_in_a_result():
    result = deadline("enterprise", "2024-02-29", "2024-03-01")
    assert result.due == D("2025-02-28")


def test_window_ending_feb_29_is_clamped_in_common_years():
    rule = Rule("windows", windows=(("01-01", "02-29"), ("03-01", "12-31")))
    assert windows_of_year(rule, 2025)[0] == (D("2025-01-01"), D("2025-02-28"))
    assert windows_of_year(rule, 2024)[0] == (D("2024-01-01"), D("2024-02-29"))


# --- window edges (national quarterly survivor rule, resident windows with gaps) -----------------


@pytest.mark.parametrize(
    ("last", "today", "due", "status", "days_left"),
    [
        ("2026-04-01", "2026-04-01", "2026-09-30", "ok", 182),  # first day of Q2
        ("2026-06-30", "2026-06-30", "2026-09-30", "ok", 92),  # last day of Q2
        ("2026-07-01", "2026-07-01", "2026-12-31", "ok", 183),  # day after Q2 closed: Q3
        ("2026-01-15", "2026-06-30", "2026-06-30", "due_soon", 0),  # Q2's last day, not done
        ("2026-01-15", "2026-07-01", "2026-06-30", "overdue", -1),  # Q2 closed unsatisfied
        ("2025-12-31", "2026-01-01", "2026-03-31", "ok", 89),  # across the year end
        ("2025-12-31", "2026-04-01", "2026-03-31", "overdue", -1),  # Q1 missed, Q2 just opened
    ],
)
def test_quarterly_window_edges(last, today, due, status, days_left):
    result = deadline("survivor", last, today)
    assert (result.due, result.status, result.days_left) == (D(due), status, days_left)


def test_quarterly_missed_previous_window_is_overdue_inside_the_next():
    # Q4 2025 done, Q1 2026 missed entirely, today inside Q2
    result = deadline("survivor", "2025-11-01", "2026-05-10")
    assert result.status == "overdue"
    assert result.due == D("2026-03-31")
    assert result.suspended_from == "2026-04"


@pytest.mark.parametrize(
    ("last", "today", "due", "status"),
    [
        ("2026-01-21", "2026-02-01", "2026-12-20", "ok"),  # first day of window 1
        ("2026-06-20", "2026-06-25", "2026-12-20", "ok"),  # last day of window 1
        ("2026-06-21", "2026-06-25", "2026-12-20", "ok"),  # day after: make-up for window 1
        ("2026-01-10", "2026-02-01", "2026-06-20", "ok"),  # before window 1: make-up for last
        ("2025-09-01", "2026-06-21", "2026-06-20", "overdue"),  # window 1 closed unsatisfied
        ("2025-09-01", "2026-07-10", "2026-06-20", "overdue"),  # between windows, still missed
    ],
)
def test_resident_windows_with_gaps(last, today, due, status):
    result = deadline("resident", last, today)
    assert (result.due, result.status) == (D(due), status)


# --- status, cutoff, back pay -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "status", "days_left"),
    [
        ("2026-02-07", "ok", 31),
        ("2026-02-08", "due_soon", 30),
        ("2026-03-09", "due_soon", 1),
        ("2026-03-10", "due_soon", 0),
        ("2026-03-11", "overdue", -1),
    ],
)
def test_status_boundaries(today, status, days_left):
    result = deadline("enterprise", "2025-03-10", today)
    assert (result.status, result.days_left) == (status, days_left)


@pytest.mark.parametrize(("days", "status"), [(31, "ok"), (30, "due_soon"), (0, "due_soon"),
                                              (-1, "overdue"), (-400, "overdue")])
def test_status_for(days, status):
    assert status_for(days) == status


def test_soon_days_is_a_setting():
    applied = rule_for("enterprise")
    result = compute_deadline(applied, last=D("2025-03-10"), today=D("2026-02-01"), soon_days=60)
    assert result.status == "due_soon"


@pytest.mark.parametrize(
    ("today", "resume", "backpay"),
    [
        ("2026-03-12", "2026-04", ()),  # before suspension began: nothing is missed
        ("2026-03-20", "2026-05", ("2026-04",)),
        ("2026-05-15", "2026-06", ("2026-04", "2026-05")),  # the 15th still counts
        ("2026-05-16", "2026-07", ("2026-04", "2026-05", "2026-06")),
    ],
)
def test_resume_cutoff_and_back_pay(today, resume, backpay):
    result = deadline("enterprise", "2025-03-10", today)
    assert result.suspended_from == "2026-04"
    assert result.if_certified_today.resume_month == resume
    assert result.if_certified_today.backpay_months == backpay


def test_empty_back_pay_is_explained():
    result = deadline("enterprise", "2025-03-10", "2026-03-12")
    assert "照常发放" in result.explanation


def test_start_date_stands_in_for_last():
    applied = rule_for("enterprise")
    result = compute_deadline(applied, start=D("2025-06-01"), today=D("2025-07-01"))
    assert result.due == D("2026-06-01")
    assert "开始领取待遇" in result.explanation


def test_exactly_one_base_date():
    applied = rule_for("enterprise")
    with pytest.raises(ValueError):
        compute_deadline(applied, today=D("2025-07-01"))
    with pytest.raises(ValueError):
        compute_deadline(applied, last=D("2025-01-01"), start=D("2025-01-01"),
                         today=D("2025-07-01"))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"type": "weekly"},
        {"type": "rolling"},
        {"type": "rolling", "months": 0},
        {"type": "windows"},
        {"type": "windows", "windows": (("06-30", "01-01"),)},
        {"type": "windows", "windows": (("13-01", "13-02"),)},
        {"type": "rolling", "months": 12, "suspension": "never"},
        {"type": "rolling", "months": 12, "resume_cutoff_day": 0},
    ],
)
def test_bad_rules_are_refused(kwargs):
    with pytest.raises(ValueError):
        Rule(**kwargs)


# --- the explanation ------------------------------------------------------------------------


def test_explanation_ok():
    text = deadline("enterprise", "2025-03-10", "2025-11-01").explanation
    for part in ("2026年3月10日", "还有129天", "全国通用规则", "以当地社保经办机构规定为准"):
        assert part in text


def test_explanation_overdue():
    text = deadline("enterprise", "2024-01-31", "2025-03-20").explanation
    for part in ("2025年1月31日", "已超期48天", "2025年2月起暂停", "暂停不是取消",
                 "2025年5月起恢复", "2025年2月至2025年4月", "不计利息",
                 "以当地社保经办机构规定为准"):
        assert part in text


def test_explanation_names_the_region_whose_rule_applied():
    text = deadline("resident", "2026-02-01", "2026-05-01", "锦州").explanation
    assert "锦州市" in text and "按辽宁省的规定" in text
    assert "以当地社保经办机构规定为准" in text
    text = deadline("enterprise", "2026-02-01", "2026-05-01", "锦州").explanation
    assert "没有收录到当地的特别规定" in text and "全国通用规则" in text


def test_explanation_unknown_place():
    text = deadline("enterprise", "2026-02-01", "2026-05-01", "火星").explanation
    assert "火星" in text and "全国通用规则" in text


def test_json_shape():
    data = deadline("enterprise", "2024-01-31", "2025-03-20", "锦州").to_json()
    assert list(data) == ["scheme", "region", "rule", "status", "due", "days_left", "window",
                          "suspended_from", "if_certified_today", "notes", "explanation"]
    assert data["region"] == {"city": "锦州", "province": "辽宁"}
    assert data["rule"]["type"] == "rolling"
    assert data["if_certified_today"] == {"resume_month": "2025-05",
                                          "backpay_months": ["2025-02", "2025-03", "2025-04"]}


# --- properties -------------------------------------------------------------------------------

PLACES = [None, "武汉", "呼和浩特", "辽宁", "广东", "淮南", "哈尔滨", "海口", "福建"]
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _month_index(key: str) -> int:
    year, month = key.split("-")
    return int(year) * 12 + int(month) - 1


@settings(max_examples=300, deadline=None)
@given(
    scheme=st.sampled_from(sorted(SCHEMES)),
    place=st.sampled_from(PLACES),
    last=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
    gap=st.integers(min_value=0, max_value=2000),
    use_start=st.booleans(),
)
def test_properties(scheme, place, last, gap, use_start):
    applied: AppliedRule = rule_for(scheme, place)
    today = last + timedelta(days=gap)
    base = {"start": last} if use_start else {"last": last}
    result = compute_deadline(applied, today=today, **base)

    assert result.due > last  # never before (or on) the certification it follows
    assert result.days_left == (result.due - today).days
    assert result.status == status_for(result.days_left)
    if result.status == "overdue":
        assert result.days_left < 0
        assert result.suspended_from and MONTH.match(result.suspended_from)
        after = result.if_certified_today
        assert after is not None
        resume = _month_index(after.resume_month)
        assert resume > today.year * 12 + today.month - 1  # never in the past
        months = [_month_index(m) for m in after.backpay_months]
        assert months == list(range(_month_index(result.suspended_from), resume))
        if months:
            assert months[-1] == resume - 1  # ends the month before resumption
    else:
        assert result.days_left >= 0
        assert result.suspended_from is None and result.if_certified_today is None
    assert "以当地社保经办机构规定为准" in result.explanation
