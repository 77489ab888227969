"""The deadline calculator against shared/spec/certification-rules.md."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.deadline.calculator import compute_deadline, status_for
from bot.deadline.regions import rule_for
from bot.deadline.rules import QUARTERLY, AppliedRule, Rule, add_months, windows_of_year
from bot.deadline.schemes import SCHEMES

D = date.fromisoformat


def deadline(scheme: str, last: str, today: str, place: str | None = None):
    return compute_deadline(rule_for(scheme, place), last=D(last), today=D(today))


# --- the spec's worked examples (version 2) ---------------------------------------------------

WORKED = [
    # scheme, place, last, today, due, status, days_left
    ("enterprise", None, "2025-03-10", "2025-11-01", "2026-03-10", "ok", 129),
    ("enterprise", None, "2025-03-10", "2026-03-10", "2026-03-10", "due_soon", 0),
    ("enterprise", None, "2024-01-31", "2025-03-20", "2025-01-31", "overdue", -48),
    ("survivor", None, "2026-01-15", "2026-05-10", "2027-01-15", "ok", 250),
    ("survivor", "呼和浩特", "2026-03-05", "2026-03-20", "2026-04-15", "due_soon", 26),
    ("resident", "淮南", "2025-02-01", "2026-03-12", "2026-02-01", "overdue", -39),
]


@pytest.mark.parametrize(("scheme", "place", "last", "today", "due", "status", "days_left"),
                         WORKED)
def test_worked_examples(scheme, place, last, today, due, status, days_left):
    result = deadline(scheme, last, today, place)
    assert (result.due, result.status, result.days_left) == (D(due), status, days_left)
    assert "以当地社保经办机构规定为准" in result.explanation
    assert "当天办也算按时" not in result.explanation and "也算按时" not in result.explanation


def test_worked_example_1_asks_to_certify_before_the_due_date():
    result = deadline("enterprise", "2025-03-10", "2025-11-01")
    assert result.window is None
    assert result.suspended_from is None and result.if_certified_today is None
    assert "请在2026年3月10日之前办好" in result.explanation
    assert "还有129天" in result.explanation


def test_worked_example_2_on_the_due_day_says_certify_today():
    result = deadline("enterprise", "2025-03-10", "2026-03-10")
    assert result.window is None
    assert result.suspended_from is None and result.if_certified_today is None
    assert "今天就去认证" in result.explanation
    assert any("今天就去认证" in note for note in result.notes)
    assert not any("按时" in note for note in result.notes)


def test_worked_example_3_overdue_suspended_in_the_due_month_no_cutoff():
    result = deadline("enterprise", "2024-01-31", "2025-03-20")
    assert result.window is None
    assert result.suspended_from == "2025-01"
    assert result.if_certified_today is not None
    assert result.if_certified_today.resume_month == "2025-04"
    assert result.if_certified_today.backpay_months == ("2025-01", "2025-02", "2025-03")
    assert "日及以前认证" not in result.explanation  # there is no national cutoff day


def test_worked_example_4_survivor_national_is_12_months_with_a_caveat():
    result = deadline("survivor", "2026-01-15", "2026-05-10")
    assert result.window is None
    assert result.suspended_from is None and result.if_certified_today is None
    assert result.rule == Rule("rolling", 12)
    assert "遗属待遇" in result.explanation and "比12个月短" in result.explanation
    assert "问清楚" in result.explanation
    assert "请在2027年1月15日之前办好" in result.explanation


def test_worked_example_5_hohhot_survivor_window():
    result = deadline("survivor", "2026-03-05", "2026-03-20", "呼和浩特")
    assert result.window == (D("2026-04-01"), D("2026-04-15"))
    assert result.suspended_from is None and result.if_certified_today is None
    assert "呼和浩特市" in result.explanation
    assert "请在2026年4月15日之前办好" in result.explanation


def test_worked_example_6_huainan_cutoff_11():
    result = deadline("resident", "2025-02-01", "2026-03-12", "淮南")
    assert result.window is None
    assert result.suspended_from == "2026-02"
    assert result.if_certified_today.resume_month == "2026-05"
    assert result.if_certified_today.backpay_months == ("2026-02", "2026-03", "2026-04")
    assert "淮南市" in result.explanation and "11日" in result.explanation


# --- region overrides from the spec's table ----------------------------------------------------

HALF_YEARS = (("01-01", "06-30"), ("07-01", "12-31"))


@pytest.mark.parametrize(
    ("scheme", "place", "expected"),
    [
        ("resident", "福建", {"type": "rolling", "months": 12}),
        ("resident", "陕西", {"type": "rolling", "months": 12}),
        ("resident", "淮安", {"type": "rolling", "months": 12}),
        ("resident", "葫芦岛", {"type": "windows", "windows": HALF_YEARS}),
        ("survivor", "葫芦岛", {"type": "rolling", "months": 6}),
        ("resident", "海口", {"type": "rolling", "months": 6}),
        *[(s, "武汉", {"type": "calendar_year"}) for s in SCHEMES],
        ("survivor", "呼和浩特",
         {"type": "windows", "resume_cutoff_day": 15, "suspension": "due_month",
          "windows": tuple((f"{m:02d}-01", f"{m:02d}-15") for m in range(1, 13))}),
        ("institution", "哈尔滨", {"type": "rolling", "months": 12, "resume_cutoff_day": 25}),
        ("resident", "淮南", {"type": "rolling", "months": 12, "resume_cutoff_day": 11,
                             "suspension": "due_month"}),
        *[(s, "广东", {"suspension": "due_month"}) for s in SCHEMES],
    ],
)
def test_spec_overrides_present(scheme, place, expected):
    applied = rule_for(scheme, place)
    assert applied.level != "national"
    for key, value in expected.items():
        assert getattr(applied.rule, key) == value, key


@pytest.mark.parametrize(("place", "scheme"), [(p, s) for p in ("上海", "广州") for s in SCHEMES])
def test_passive_regions_present(place, scheme):
    applied = rule_for(scheme, place)
    assert applied.passive is not None and applied.passive.who == "本市户籍"


@pytest.mark.parametrize("place", ["广东", "深圳", "北京", "锦州", None])
def test_passive_only_where_recorded(place):
    assert rule_for("enterprise", place).passive is None


@pytest.mark.parametrize(
    ("scheme", "place", "label"),
    [
        ("resident", "葫芦岛市", "葫芦岛市"),
        ("survivor", "葫芦岛", "葫芦岛市"),
        ("resident", "锦州", "全国通用规则"),  # 葫芦岛's rule is not 辽宁's
        ("survivor", "锦州市", "全国通用规则"),
        ("resident", "辽宁", "全国通用规则"),
        ("survivor", "大连", "全国通用规则"),
        ("enterprise", "广州", "广东省"),
        ("institution", "哈尔滨市", "哈尔滨市"),
        ("enterprise", "哈尔滨", "全国通用规则"),  # 哈尔滨's cutoff is for institution only
        ("resident", "合肥", "全国通用规则"),  # 淮南's rule is not 安徽's
        ("resident", "南京", "全国通用规则"),  # 淮安's rule is not 江苏's
        ("enterprise", None, "全国通用规则"),
    ],
)
def test_lookup_order_city_province_national(scheme, place, label):
    assert rule_for(scheme, place).label == label


def test_national_defaults_match_spec():
    for scheme in SCHEMES:
        rule = rule_for(scheme).rule
        assert rule == Rule("rolling", 12), scheme
        assert rule.suspension == "due_month" and rule.resume_cutoff_day is None


@pytest.mark.parametrize("scheme", ["resident", "survivor"])
def test_varies_by_place_sentence_only_without_a_regional_cycle(scheme):
    text = deadline(scheme, "2026-01-15", "2026-05-10").explanation
    assert "问清楚您那里多久认证一次" in text
    local = deadline(scheme, "2026-01-15", "2026-05-10", "葫芦岛").explanation
    assert "问清楚您那里多久认证一次" not in local
    # a region without its own cycle (广东 only changes the suspension) keeps the sentence
    assert "问清楚您那里多久认证一次" in deadline(scheme, "2026-01-15", "2026-05-10",
                                                 "深圳").explanation


@pytest.mark.parametrize("scheme", ["enterprise", "institution", "injury"])
def test_no_varies_sentence_for_the_other_schemes(scheme):
    text = deadline(scheme, "2026-01-15", "2026-05-10").explanation
    assert "问清楚您那里多久认证一次" not in text


def test_huludao_is_not_liaoning():
    huludao = deadline("resident", "2026-02-01", "2026-05-01", "葫芦岛")
    assert huludao.rule.type == "windows" and huludao.due == D("2026-12-31")
    assert "葫芦岛市" in huludao.explanation
    for place in ("辽宁", "沈阳", "大连"):
        other = deadline("resident", "2026-02-01", "2026-05-01", place)
        assert other.rule == Rule("rolling", 12), place
        assert other.due == D("2027-02-01")
        assert "葫芦岛" not in other.explanation
    assert rule_for("survivor", "辽宁").rule == Rule("rolling", 12)


def test_jinzhou_falls_back_with_a_note_about_huludao():
    result = deadline("resident", "2026-02-01", "2026-05-01", "锦州")
    assert result.rule == Rule("rolling", 12) and result.due == D("2027-02-01")
    assert result.rule_label == "全国通用规则"
    assert result.region.to_json() == {"city": "锦州", "province": "辽宁"}
    assert "葫芦岛" in result.explanation and "上半年、下半年各认证一次" in result.explanation
    assert any("葫芦岛" in note for note in result.notes)
    survivor = deadline("survivor", "2026-02-01", "2026-05-01", "锦州")
    assert survivor.rule == Rule("rolling", 12) and "葫芦岛" in survivor.explanation
    # the note is about 城乡居民 and 遗属; an enterprise retiree is not bothered with it
    assert "葫芦岛" not in deadline("enterprise", "2026-02-01", "2026-05-01", "锦州").explanation


@pytest.mark.parametrize("place", ["上海", "广州"])
def test_passive_region_explanation(place):
    ok = deadline("enterprise", "2025-03-10", "2025-11-01", place)
    assert ok.due == D("2026-03-10") and ok.status == "ok"  # figures for those who must act
    text = ok.explanation
    assert "本市户籍" in text and "不用" in text
    assert text.index("本市户籍") < text.index("2026年3月10日")  # who does nothing comes first
    assert "如果您不是" in text and "（例如非本市户籍）" in text
    late = deadline("enterprise", "2024-01-31", "2025-03-20", place)
    assert late.status == "overdue" and late.suspended_from == "2025-01"
    assert "已暂停" not in late.explanation
    assert late.explanation.index("如果您不是") < late.explanation.index("暂停")
    assert "可能会从2025年1月起暂停" in late.explanation


def test_guangdong_suspends_in_the_due_month():
    result = deadline("enterprise", "2025-03-10", "2026-04-20", "深圳")
    assert result.suspended_from == "2026-03"
    assert result.if_certified_today.backpay_months == ("2026-03", "2026-04")
    assert result.if_certified_today.resume_month == "2026-05"


def test_next_month_suspension_is_still_possible():
    applied = AppliedRule("enterprise", Rule("rolling", 12, suspension="next_month"), "某地")
    result = compute_deadline(applied, last=D("2025-03-10"), today=D("2026-04-20"))
    assert result.suspended_from == "2026-04"
    assert result.if_certified_today.backpay_months == ("2026-04",)


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


@pytest.mark.parametrize(
    ("today", "resume", "backpay"),
    [
        ("2026-05-10", "2026-06", ("2026-04", "2026-05")),
        ("2026-05-15", "2026-06", ("2026-04", "2026-05")),  # the 15th still counts
        ("2026-05-16", "2026-07", ("2026-04", "2026-05", "2026-06")),
    ],
)
def test_hohhot_overdue_cutoff_15(today, resume, backpay):
    result = deadline("survivor", "2026-03-10", today, "呼和浩特")
    assert result.suspended_from == "2026-04"
    assert result.if_certified_today.resume_month == resume
    assert result.if_certified_today.backpay_months == backpay


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


# --- 呼和浩特: notes that change what the user must do reach the reply ---------------------------


def test_hohhot_new_retiree_must_certify_in_the_benefit_month():
    applied = rule_for("enterprise", "呼和浩特")
    assert applied.rule.first_certification == "benefit_month"
    result = compute_deadline(applied, start=D("2026-03-05"), today=D("2026-03-20"))
    assert result.due == D("2026-03-31") and result.status == "due_soon"
    text = result.explanation
    assert "当月就要先认证一次" in text and "请在2026年3月31日之前办好" in text
    assert "时间还够" not in text and "不用着急" not in text
    # elsewhere the benefit start stands in for a certification: 12 months later
    national = compute_deadline(rule_for("enterprise", "包头"), start=D("2026-03-05"),
                                today=D("2026-03-20"))
    assert national.due == D("2027-03-05")


def test_hohhot_new_survivor_certifies_in_the_first_window():
    applied = rule_for("survivor", "呼和浩特")
    early = compute_deadline(applied, start=D("2026-03-05"), today=D("2026-03-06"))
    assert early.window == (D("2026-03-01"), D("2026-03-15")) and early.due == D("2026-03-15")
    late = compute_deadline(applied, start=D("2026-03-20"), today=D("2026-03-21"))
    assert late.due == D("2026-04-15")


def test_hohhot_new_retiree_long_ago_is_overdue():
    applied = rule_for("resident", "呼和浩特")
    result = compute_deadline(applied, start=D("2025-06-10"), today=D("2025-09-02"))
    assert result.due == D("2025-06-30") and result.status == "overdue"
    assert result.suspended_from == "2025-06"


def test_hohhot_injury_reply_mentions_monthly_survivor_pensions():
    text = deadline("injury", "2026-01-15", "2026-05-10", "呼和浩特").explanation
    assert "工亡职工供养亲属抚恤金" in text and "每个月1日到15日" in text


def test_hohhot_with_a_last_certification_keeps_the_cycle():
    result = deadline("enterprise", "2026-01-15", "2026-05-10", "呼和浩特")
    assert result.due == D("2027-01-15")


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


# --- window edges (a quarterly rule, windows with gaps) ---------------------------------------

QUARTERLY_RULE = AppliedRule("survivor", Rule("windows", windows=QUARTERLY), "某地", level="city")
GAPS = (("01-21", "06-20"), ("07-21", "12-20"))
GAPS_RULE = AppliedRule("resident", Rule("windows", windows=GAPS), "某地", level="city")


def windowed(applied: AppliedRule, last: str, today: str):
    return compute_deadline(applied, last=D(last), today=D(today))


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
    result = windowed(QUARTERLY_RULE, last, today)
    assert (result.due, result.status, result.days_left) == (D(due), status, days_left)


def test_quarterly_missed_previous_window_is_overdue_inside_the_next():
    # Q4 2025 done, Q1 2026 missed entirely, today inside Q2
    result = windowed(QUARTERLY_RULE, "2025-11-01", "2026-05-10")
    assert result.status == "overdue"
    assert result.due == D("2026-03-31")
    assert result.suspended_from == "2026-03"


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
def test_windows_with_gaps(last, today, due, status):
    result = windowed(GAPS_RULE, last, today)
    assert (result.due, result.status) == (D(due), status)


@pytest.mark.parametrize(
    ("last", "today", "due"),
    [
        ("2026-02-01", "2026-05-01", "2026-12-31"),  # H1 done → H2 due
        ("2026-01-01", "2026-01-01", "2026-12-31"),  # first day of H1
        ("2026-06-30", "2026-07-01", "2026-12-31"),  # last day of H1
        ("2025-12-31", "2026-03-01", "2026-06-30"),  # H2 of last year done → H1 due
    ],
)
def test_huludao_resident_half_years(last, today, due):
    assert deadline("resident", last, today, "葫芦岛").due == D(due)


def test_haikou_and_huludao_six_months():
    assert deadline("resident", "2026-01-31", "2026-02-01", "海口").due == D("2026-07-31")
    assert deadline("survivor", "2025-08-31", "2025-09-01", "葫芦岛").due == D("2026-02-28")


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
        ("2026-03-12", "2026-04", ("2026-03",)),  # suspended in the due month already
        ("2026-03-31", "2026-04", ("2026-03",)),
        ("2026-05-15", "2026-06", ("2026-03", "2026-04", "2026-05")),
        ("2026-05-16", "2026-06", ("2026-03", "2026-04", "2026-05")),  # no national cutoff day
        ("2026-05-31", "2026-06", ("2026-03", "2026-04", "2026-05")),
    ],
)
def test_national_resumption_and_back_pay(today, resume, backpay):
    result = deadline("enterprise", "2025-03-10", today)
    assert result.suspended_from == "2026-03"
    assert result.if_certified_today.resume_month == resume
    assert result.if_certified_today.backpay_months == backpay


def test_empty_back_pay_is_explained():
    applied = AppliedRule("enterprise", Rule("rolling", 12, suspension="next_month"), "某地")
    result = compute_deadline(applied, last=D("2025-03-10"), today=D("2026-03-12"))
    assert result.if_certified_today.backpay_months == ()
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
        {"type": "rolling", "months": 12, "suspension": "month_after_due"},
        {"type": "rolling", "months": 12, "first_certification": "someday"},
    ],
)
def test_bad_rules_are_refused(kwargs):
    with pytest.raises(ValueError):
        Rule(**kwargs)


# --- the explanation ------------------------------------------------------------------------


def test_explanation_ok():
    text = deadline("enterprise", "2025-03-10", "2025-11-01").explanation
    for part in ("2026年3月10日", "请在2026年3月10日之前办好", "还有129天", "全国通用规则",
                 "以当地社保经办机构规定为准"):
        assert part in text


def test_explanation_due_soon_asks_before_the_due_date():
    text = deadline("enterprise", "2025-03-10", "2026-03-03").explanation
    assert "还有7天" in text and "请在2026年3月10日之前办好" in text


def test_explanation_overdue():
    text = deadline("enterprise", "2024-01-31", "2025-03-20").explanation
    for part in ("2025年1月31日", "已超期48天", "2025年1月起暂停", "暂停不是取消",
                 "2025年4月起恢复", "2025年1月至2025年3月", "不计利息",
                 "以当地社保经办机构规定为准"):
        assert part in text


def test_explanation_names_the_region_whose_rule_applied():
    text = deadline("resident", "2026-02-01", "2026-05-01", "葫芦岛").explanation
    assert "葫芦岛市" in text and "按葫芦岛市的规定" in text
    assert "以当地社保经办机构规定为准" in text
    text = deadline("enterprise", "2026-02-01", "2026-05-01", "锦州").explanation
    assert "锦州市" in text
    assert "没有收录到当地的特别规定" in text and "全国通用规则" in text


@settings(max_examples=200, deadline=None)
@given(
    scheme=st.sampled_from(sorted(SCHEMES)),
    place=st.sampled_from([None, "武汉", "呼和浩特", "葫芦岛", "淮南", "上海", "广州", "锦州"]),
    last=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    gap=st.integers(min_value=0, max_value=900),
)
def test_never_says_the_due_day_itself_is_fine(scheme, place, last, gap):
    result = deadline(scheme, last.isoformat(), (last + timedelta(days=gap)).isoformat(), place)
    text = result.explanation
    assert "按时" not in text and "当天办" not in text
    if result.status != "overdue":
        if result.days_left == 0:
            assert "今天就去认证" in text
        else:
            assert f"请在{result.due.year}年{result.due.month}月{result.due.day}日之前办好" in text


def test_explanation_unknown_place():
    text = deadline("enterprise", "2026-02-01", "2026-05-01", "火星").explanation
    assert "火星" in text and "全国通用规则" in text


def test_json_shape():
    data = deadline("enterprise", "2024-01-31", "2025-03-20", "锦州").to_json()
    assert list(data) == ["scheme", "region", "rule", "status", "due", "days_left", "window",
                          "suspended_from", "if_certified_today", "notes", "explanation"]
    assert data["region"] == {"city": "锦州", "province": "辽宁"}
    assert data["rule"]["type"] == "rolling"
    assert data["if_certified_today"] == {"resume_month": "2025-04",
                                          "backpay_months": ["2025-01", "2025-02", "2025-03"]}
    assert data["rule"]["resume_cutoff_day"] is None


# --- properties -------------------------------------------------------------------------------

PLACES = [None, "武汉", "呼和浩特", "辽宁", "葫芦岛", "锦州", "广东", "广州", "上海", "淮南",
          "哈尔滨", "海口", "福建", "淮安"]
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

    if use_start and applied.rule.first_certification == "benefit_month":
        assert result.due >= last  # 呼和浩特: within the month benefits begin
    else:
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
