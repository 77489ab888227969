"""Deadline questions in conversation: detect them, answer them, or ask for what is missing."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.deadline.calculator import compute_deadline
from bot.deadline.chat import deadline_card, reply_to_deadline_question
from bot.deadline.regions import rule_for
from bot.deadline.schemes import HOW_TO_TELL, SCHEMES, unsure_of_scheme

TODAY = date(2026, 11, 23)
SCHEME_CHOICES = ("企业职工养老保险", "机关事业单位养老保险", "城乡居民养老保险", "遗属待遇",
                  "工伤长期待遇")


def ask(text: str, today: date = TODAY):
    return reply_to_deadline_question(text, today)


@pytest.mark.parametrize(
    ("text", "scheme", "due"),
    [
        ("企业退休，去年3月10号认证的，下次什么时候？", "enterprise", date(2026, 3, 10)),
        ("居民养老金 2025.9.1 认证的", "resident", date(2026, 9, 1)),
        ("我是锦州的遗属，今年5月2号认证的", "survivor", date(2027, 5, 2)),
        ("我是葫芦岛的遗属，今年5月2号认证的", "survivor", date(2026, 11, 2)),
        ("企業退休，去年３月１０號認證的，下次什麼時候？", "enterprise", date(2026, 3, 10)),
        ("我妈是农保，2026年9月1号认证的", "resident", date(2027, 9, 1)),
        ("葫芦岛农保，2026年9月1号认证的", "resident", date(2027, 6, 30)),
        ("事业单位退休 哈尔滨 上个月15号刷的脸", "institution", date(2027, 10, 15)),
        ("武汉企退，2025年5月20日认证的", "enterprise", date(2026, 12, 31)),
    ],
)
def test_complete_questions(text, scheme, due):
    reply = ask(text)
    assert reply is not None and reply.complete
    assert reply.result is not None
    assert reply.result.scheme == scheme and reply.result.due == due
    assert f"{due.year}年{due.month}月{due.day}日" in reply.text
    assert "以当地社保经办机构规定为准" in reply.text


def test_first_example_says_when_payment_resumes():
    reply = ask("企业退休，去年3月10号认证的，下次什么时候？")
    assert reply.result.status == "overdue"
    assert "已超期258天" in reply.text
    assert "2026年3月起暂停" in reply.text and "暂停不是取消" in reply.text
    assert "2026年12月起恢复" in reply.text and "不计利息" in reply.text


def test_city_rules_are_used_and_named():
    reply = ask("我是葫芦岛的遗属，今年5月2号认证的")
    assert reply.result.region.city == "葫芦岛"
    assert reply.result.rule.months == 6
    assert "葫芦岛市" in reply.text
    assert "辽宁人社" in reply.text  # the province's channel comes first


def test_jinzhou_gets_the_national_rule_and_a_note_about_huludao():
    reply = ask("我是锦州的遗属，今年5月2号认证的")
    assert reply.result.region.city == "锦州"
    assert reply.result.rule.months == 12
    assert "锦州市" in reply.text and "葫芦岛" in reply.text
    assert "辽宁人社" in reply.text


@pytest.mark.parametrize("city", ["上海", "广州"])
def test_passive_city_reply(city):
    reply = ask(f"我在{city}，企业退休，去年3月10号认证的，下次什么时候？")
    assert reply.complete and reply.result.status == "overdue"
    assert reply.text.startswith(f"{city}本市户籍")
    assert "如果您不是" in reply.text and "已暂停" not in reply.text


def test_hohhot_new_retiree_is_not_told_to_relax():
    reply = ask("我是呼和浩特的，这个月5号退休的，企业职工，什么时候要认证",
                today=date(2026, 11, 10))
    assert reply.complete
    assert reply.result.due == date(2026, 11, 30)
    assert "当月就要先认证一次" in reply.text and "请在2026年11月30日之前办好" in reply.text
    assert "不用着急" not in reply.text and "时间还够" not in reply.text


def test_replies_never_say_the_due_day_is_fine():
    for today in (date(2026, 3, 3), date(2026, 3, 10)):
        reply = ask("企业退休，2025年3月10号认证的", today=today)
        assert "按时" not in reply.text
    assert "请在2026年3月10日之前办好" in ask("企业退休，2025年3月10号认证的",
                                          today=date(2026, 3, 3)).text
    assert "今天就去认证" in ask("企业退休，2025年3月10号认证的", today=date(2026, 3, 10)).text


@pytest.mark.parametrize(
    "text",
    ["上回认证是二〇二五年十二月三十一日", "上个月15号刷的脸", "我爸去年3月10号认证的"],
)
def test_missing_scheme_is_asked_for(text):
    reply = ask(text)
    assert reply is not None and not reply.complete
    assert reply.missing == ("scheme",)
    for choice in SCHEME_CHOICES:
        assert choice in reply.text


def test_missing_scheme_repeats_the_date_understood():
    reply = ask("上回认证是二〇二五年十二月三十一日")
    assert "2025年12月31日" in reply.text


@pytest.mark.parametrize(
    "text",
    ["企业退休什么时候到期", "企业退休人员下次认证什么时候", "我是农保，啥时候该认证",
     "遗属补助还有多久要认证"],
)
def test_missing_date_is_asked_for(text):
    reply = ask(text)
    assert reply is not None and not reply.complete
    assert reply.missing == ("date",)
    assert "上次认证是哪一天" in reply.text


def test_missing_date_mentions_the_local_rule():
    reply = ask("武汉的企业退休，下次认证什么时候")
    assert "武汉市" in reply.text and "自然年度" in reply.text


def test_missing_date_keeps_what_the_user_must_know():
    reply = ask("锦州的农保，下次认证什么时候")
    assert reply.missing == ("date",)
    assert "问清楚您那里多久认证一次" in reply.text and "葫芦岛" in reply.text
    reply = ask("呼和浩特的企业退休，下次认证什么时候")
    assert "领取的当月就要先认证一次" in reply.text


def test_future_date_is_politely_corrected():
    reply = ask("企业退休，上次认证是明年3月10号")
    assert reply is not None and not reply.complete and reply.missing == ("date",)
    assert "2027年3月10日" in reply.text and "记错" in reply.text


@pytest.mark.parametrize(
    ("text", "hint"),
    [("企业退休，上次认证是2月30号", "2月没有30日"), ("企业退休，农历三月初十认证的", "农历")],
)
def test_bad_dates_get_a_polite_reply(text, hint):
    reply = ask(text)
    assert reply is not None and not reply.complete
    assert hint in reply.text


@pytest.mark.parametrize("text", ["我妈是农保，去年三月认证的，过期没",
                                  "我妈去年3月认证的 今年啥时候再认证"])  # the scheme is asked for
def test_month_only_date_says_the_day_was_assumed(text):
    reply = ask(text)
    assert "2025年3月（没说具体哪天，先按3月1日算" in reply.text


def test_retirement_date_is_used_as_start():
    reply = ask("我去年3月10号退休的，企业职工，什么时候要认证")
    assert reply.complete
    assert "开始领取待遇" in reply.text
    assert reply.result.due == date(2026, 3, 10)


@pytest.mark.parametrize(
    "text",
    [
        "养老金什么时候发",
        "我3月10号去医院了",
        "怎么用手机认证",
        "祝您安康",
        "企业退休养老金多少钱",
        "每月15号前要认证吗",
        "听说12月份就得去认证了，截止是哪天",
        "3月份需要去认证吗",
        # 重庆12333's real notice: the date is the next deadline, not the last certification
        "【重庆12333】认证期自动递延12个月，您可于2027年10月6日前办理下次认证。",
        "我爸是企业退休的，去年2月份过世了，抚恤金什么时候能领",
        "",
        "   ",
    ],
)
def test_not_a_deadline_question(text):
    assert ask(text) is None


def test_today_is_an_input():
    early = ask("企业退休，2025年3月10号认证的", today=date(2025, 11, 1))
    assert early.result.status == "ok" and early.result.days_left == 129
    assert "还有129天" in early.text


@settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from(list("企业退休遗属农保锦州武汉认证刷脸下次什么时候去年上个月3月10号15.2025-"
                                    "，。？ ")), max_size=24))
def test_any_text_gets_a_reply_or_none(text):
    reply = ask(text)
    if reply is not None:
        assert reply.text and (reply.complete == (reply.result is not None))


@pytest.mark.parametrize("text", [
    "企业退休，去年3月10号认证的，下次什么时候？",
    "我在上海，企业退休，去年3月10号认证的，下次什么时候？",
    "居民养老金 2025.9.1 认证的",
    "企业退休，今年3月份认证的",
])
def test_card_is_short_and_one_fact_per_line(text):
    from bot.deadline.chat import CARD_LIMIT, deadline_card

    reply = ask(text)
    card = deadline_card(reply.result)
    first, footer = card.split("\n\n")
    assert len(first) <= CARD_LIMIT + 5 and "规定为准" in footer
    assert f"下次截止日：{reply.result.due.year}年" in first and "要做什么" in first
    if reply.result.status == "overdue":
        assert first.index("查上次认证时间") < first.index("要做什么")
    else:
        assert f"还剩{reply.result.days_left}天" in first
    if "月份" in text:
        assert "只知道月份" in first


@pytest.mark.parametrize(("scheme", "place", "says"), [
    ("resident", "河南", "各地差别最大"),
    ("survivor", None, "遗属"),
    ("enterprise", "呼和浩特", None),
])
def test_deadline_card_keeps_what_the_user_must_know(scheme, place, says):
    """The short card drops detail, never the sentences the spec requires (spec v2)."""
    applied = rule_for(scheme, place)
    result = compute_deadline(applied, today=date(2025, 11, 1), last=date(2025, 5, 1))
    card = deadline_card(result)
    for sentence in applied.important:
        assert sentence in card
    if says:
        assert says in card


@pytest.mark.parametrize(("text", "asked", "unsure"), [
    # Asked for the kind, not knowing is the answer.
    ("不知道", True, True),
    ("我也不知道", True, True),
    ("不清楚是哪种", True, True),
    ("搞不清楚", True, True),
    ("记不清了", True, True),
    ("不知道我爸是哪种", True, True),
    ("我妈领的是啥不清楚", True, True),
    # About the kind, whether asked or not.
    ("我不知道我爸是哪个险种", False, True),
    ("不知道我妈领的是什么养老金", False, True),
    ("不清楚老人是哪种待遇", False, True),
    # Not knowing something else is a question to answer.
    ("不知道", False, False),
    ("不知道怎么认证", True, False),
    ("不知道什么时候认证", True, False),
    ("不知道用哪个APP认证", False, False),
    ("不知道在哪个社保局认证", False, False),
    ("企业退休", True, False),
])
def test_unsure_of_scheme(text, asked, unsure):
    assert unsure_of_scheme(text, asked=asked) is unsure


def test_how_to_tell_names_every_scheme_and_states_no_amount():
    for scheme in SCHEMES.values():
        assert any(word in HOW_TO_TELL for word in (scheme.short[:4], scheme.name[:4]))
    assert "12333" in HOW_TO_TELL and "以当地为准" in HOW_TO_TELL
    assert not re.search(r"\d+元|\d+块", HOW_TO_TELL)



@pytest.mark.parametrize(("scheme", "city", "last", "today", "start"), [
    ("survivor", "呼和浩特", date(2026, 3, 5), date(2026, 3, 20), "2026年4月1日"),
    ("resident", "葫芦岛", date(2026, 2, 1), date(2026, 3, 1), "2026年7月1日"),
])
def test_a_window_not_yet_open_is_named_and_not_now(scheme, city, last, today, start):
    result = compute_deadline(rule_for(scheme, city), today=today, last=last)
    assert f"{start}起再去办" in result.explanation and "这几天就去办" not in result.explanation
    assert f"要做什么：{start}起" in deadline_card(result)


def test_inside_the_window_the_reply_is_as_before():
    result = compute_deadline(rule_for("survivor", "呼和浩特"), today=date(2026, 4, 3),
                              last=date(2026, 3, 5))
    assert "最好这几天就去办" in result.explanation and "起再去办" not in result.explanation



def test_an_overdue_card_in_a_passive_city_is_not_flat():
    result = compute_deadline(rule_for("enterprise", "上海"), today=date(2026, 3, 20),
                              last=date(2025, 3, 1))
    card = deadline_card(result)
    assert card.startswith("本市户籍的一般由社保自动核对，不用办；不是的看下面")
    assert "起可能暂停发放" in card
