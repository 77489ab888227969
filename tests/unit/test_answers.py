"""Composing replies: courtesy, empty input, deadline routing, answers with sources."""

from __future__ import annotations

import pytest

from bot.deadline.schemes import HOW_TO_TELL
from bot.qa.answers import (
    EMPTY_TEXT,
    FIRST_SCREEN,
    GREETING_TEXT,
    LOCAL_RULES_NOTE,
    THANKS_TEXT,
    _reply_for_match,
    answer,
    sources_text,
    split_for_phone,
    topic_reply,
)
from bot.qa.decision import Candidate
from bot.qa.general import general_answer
from bot.qa.issuers import issuer_line
from bot.qa.matcher import MatchResult
from bot.qa.places import only_a_place, read_place
from bot.text.death import mentions_death
from bot.text.normalize import normalize
from bot.tg.handlers.chat import AUTOANSWER_MIN_SCORE


@pytest.mark.parametrize(
    ("message", "text"),
    [("你好", GREETING_TEXT), ("您好啊！", GREETING_TEXT), ("在吗", GREETING_TEXT),
     ("谢谢你", THANKS_TEXT), ("好的，谢谢", THANKS_TEXT), ("多谢您啦", THANKS_TEXT),
     ("谢谢你啊小同志", THANKS_TEXT), ("太谢谢了", THANKS_TEXT), ("好", THANKS_TEXT),
     ("老师好", GREETING_TEXT), ("师傅你好", GREETING_TEXT), ("谢谢侬", THANKS_TEXT),
     ("", EMPTY_TEXT), ("？？？", EMPTY_TEXT), ("👍👍", EMPTY_TEXT)],
)
def test_courtesy_and_empty(engine, today, message, text):
    reply = answer(engine, message, today)
    assert reply.text == text and reply.matched is False


def test_greeting_with_a_question_is_not_just_a_greeting(engine, today):
    reply = answer(engine, "你好，在国外怎么认证养老金", today)
    assert reply.id == "abroad-app"


def test_answer_names_issuers_in_plain_words_and_local_rules(engine, today):
    reply = answer(engine, "集中认证取消了那以后还用认证吗", today)
    entry = engine.kb.entries[reply.id]
    assert reply.kind == "answer"
    assert reply.text.startswith(entry.answer.splitlines()[0])
    assert LOCAL_RULES_NOTE in reply.text and issuer_line(entry) in reply.text
    assert "http" not in reply.text and ".com" not in reply.text


def test_sources_text_lists_official_pages_first_with_links(engine):
    entry = next(e for e in engine.kb.entries.values()
                 if any(s.official for s in e.sources) and not all(s.official for s in e.sources))
    lines = sources_text(entry).splitlines()
    assert lines[1].startswith("• ") and "gov.cn" in lines[1]
    assert all(s.url in sources_text(entry) for s in entry.sources if not s.url.startswith("seed:"))


def test_deadline_question_goes_to_the_calculator(engine, today):
    reply = answer(engine, "企业退休，2026年1月5日认证的，下次什么时候", today)
    assert reply.kind == "deadline" and reply.complete
    assert "2027年1月5日" in reply.text


def test_deadline_question_missing_scheme_asks_for_it(engine, today):
    reply = answer(engine, "上个月15号刷的脸", today)
    assert reply.kind == "deadline" and not reply.complete


@pytest.mark.parametrize("question", ["认证", "养老保险怎么认证", "养老金认证怎么办理",
                                      "退休人员资格认证流程", "80岁老人认证怎么弄",
                                      # a question's frame is no subject (具体该, 对于…来说, 要注意)
                                      "认证具体该怎么操作", "办认证要注意什么",
                                      "对于退休职工来说认证怎么弄",
                                      "俺在浦东 今年养老金认证咋弄啊", "那么怎么认证呢"])
def test_general_questions_get_the_overview_with_buttons_to_go_deeper(engine, today, question):
    reply = answer(engine, question, today)
    assert (reply.kind, reply.id) == ("answer", "how-to-certify")
    assert [label for label, _ in reply.buttons] == ["用自己手机", "帮家里老人", "不用手机",
                                                     "人在外地或国外"]


def test_unsure_offers_titles_of_entries(engine, today):
    tie = MatchResult("suggest", [Candidate("face-fail-reasons", 0.4),
                                  Candidate("face-fail-repeated", 0.38)])
    reply = _reply_for_match(engine, "刷脸", tie, read_place(""))
    assert reply.kind == "suggest" and not reply.matched
    assert reply.suggestion_ids == ["face-fail-reasons", "face-fail-repeated"]
    assert reply.suggestions == [engine.kb.entries[i].question for i in reply.suggestion_ids]
    assert all(title in reply.text for title in reply.suggestions)


def test_unsure_about_a_how_question_offers_the_general_guide_last(engine, today):
    tie = MatchResult("suggest", [Candidate("channels-overview", 0.5),
                                  Candidate("check-status", 0.2)], general="how-to-certify")
    reply = _reply_for_match(engine, "如何足不出户认证", tie, read_place(""))
    assert reply.suggestion_ids == ["channels-overview", "check-status", "how-to-certify"]
    assert "3. 养老金资格认证怎么做" in reply.text


def test_the_family_account_feature_is_certifying_for_someone_else(engine, today):
    """亲情号 / 亲情账号 is what several apps call 代他人认证."""
    assert answer(engine, "亲情账号怎么帮我妈认证", today).id == "proxy-certify"


@pytest.mark.parametrize("question", ["手机上无法人脸识别咋整", "老人无法进行刷脸 怎么弄"])
def test_cannot_certify_is_a_failure_not_a_how_to(engine, today, question):
    reply = answer(engine, question, today)
    first = reply.id or reply.suggestion_ids[0]
    assert first in {"face-fail-reasons", "face-fail-repeated"}


@pytest.mark.parametrize("question", ["企业退休的每年怎么认证", "厂里退休的认证咋弄"])
def test_a_groups_own_answer_when_the_group_is_named(engine, today, question):
    reply = answer(engine, question, today)
    assert (reply.kind, reply.id) == ("answer", "scheme-enterprise")


@pytest.mark.parametrize("question", ["退休每年都怎么认证", "退休的每年认证都是自己弄吗",
                                      "退休后认证如何办理"])
def test_a_groups_own_answer_is_no_reply_to_others(engine, today, question):
    """No group named (企业, 机关事业 …): at most a button, never the reply."""
    assert not (answer(engine, question, today).id or "").startswith("scheme-")


@pytest.mark.parametrize(("question", "entry"), [
    ("养老金认证怎么在手机上操作", "channels-overview"),  # general words and 手机: phone channels
    ("网上社保认证怎么操作", "channels-overview"),
    ("养老金认证上哪弄", "how-to-certify"),  # 上哪 asks where, not online
    ("养老金认证怎么弄", "how-to-certify"),
    ("刷脸认证在哪", "face-how-to"),  # general words and 刷脸: how face checks work
    ("是否要认证", "who-must-certify"),
    ("养老金认证忘了咋弄", "missed-makeup"),  # 忘了 is 错过
    ("退休每年怎么网上认证", "channels-overview"),  # 每年 frames a how-question
    ("养老金认证需要怎么办理", "how-to-certify"),
    ("领取养老金需要认证吗", "who-must-certify"),  # 需要 without how asks whether
    ("我爸的养老金怎么认证", "how-to-certify"),  # whose pension it is: still the overview
    ("养老金认证我不会弄", "elder-no-smartphone"),  # 不会弄 is 不会用: help for who cannot
])
def test_general_questions_get_an_overview(engine, today, question, entry):
    reply = answer(engine, question, today)
    assert (reply.kind, reply.id) == ("answer", entry)


@pytest.mark.parametrize("question", ["手机号换了认证登不上", "手机刷脸怎么认证"])
def test_a_question_with_more_than_one_kind_of_word_is_matched_as_usual(engine, question):
    """手机 and 刷脸 point at two entries: the matcher weighs them, no rule picks one."""
    matcher = engine.matcher
    compact, words, _terms = matcher.segmenter.analyse(
        matcher._prepare(matcher.segmenter.repair(normalize(question))), repaired=True)
    assert general_answer(compact, words, "how-to-certify", matcher._general_with) is None


def test_who_must_certify_is_no_general_question(engine, today):
    assert answer(engine, "哪些人员需要认证", today).id == "who-must-certify"


@pytest.mark.parametrize(("question", "general"), [
    ("如何足不出户认证", "how-to-certify"),  # asks how: the guide is offered
    ("认证了没到账", None),  # asks why: it is not
])
def test_the_matcher_names_the_general_guide_only_for_how_questions(engine, question, general):
    result = engine.matcher.match(question)
    assert result.decision == "suggest"
    assert result.general == general


@pytest.mark.parametrize(("question", "province"), [
    ("鞍山养老全认证", "辽宁"),
    ("龙江人社怎么认", "黑龙江"),
    ("湘潭退休老人认咋弄", "湖南"),
])
def test_a_message_about_certifying_is_never_declined(engine, today, question, province):
    """Matched to nothing well, it still asks about certifying: the general guide comes first,
    for the place it names."""
    reply = answer(engine, question, today)
    assert reply.kind == "suggest"
    assert reply.suggestion_ids[0] == "how-to-certify"
    assert reply.province == province


@pytest.mark.parametrize("question", ["养老金每个月几号发", "社保55岁退休什么时候开始"])
def test_a_pension_question_not_about_certifying_is_still_declined(engine, today, question):
    assert answer(engine, question, today).kind == "decline"


@pytest.mark.parametrize(("question", "place"), [
    ("北京养老金认证用什么app", "北京"),
    ("京通小程序怎么认证", "北京"),
    ("粤省是怎么认证", "广东"),
    ("我在深圳，我爸在河南农村，怎么帮他认证", "河南"),
])
def test_place_is_read_apart_and_its_line_added(engine, today, question, place):
    reply = answer(engine, question, today)
    assert reply.province == place
    # An answer names the place; suggestions carry it to the answer their buttons open.
    assert reply.kind == "suggest" or f"📍{place}" in reply.text


@pytest.mark.parametrize(("question", "shown", "not_shown"), [
    ("武汉退休认证怎么弄", "武汉按自然年", ""),
    ("仙桃退休认证怎么弄", "湖北12333", "武汉"),  # another city's rule would mislead
    ("大连的老人怎么认证", "辽宁人社", "葫芦岛"),
])
def test_a_citys_own_rule_is_shown_only_to_that_city(engine, today, question, shown, not_shown):
    line = next(line for line in answer(engine, question, today).text.splitlines()
                if line.startswith("📍"))
    assert shown in line
    assert not not_shown or not_shown not in line


def test_unsure_reply_names_a_district_with_its_province(engine, today):
    reply = answer(engine, "我是天津和平区的网格员 辖区老人认证咋弄", today)
    assert reply.kind == "suggest" and "我按和平（天津）的情况回答" in reply.text


def test_the_place_chosen_among_two_is_named_in_one_bracket(engine, today):
    """Where the pension is paid, said once and plainly for a small screen."""
    reply = answer(engine, "我爸在重庆万州 我在深圳上班 怎么帮他认证", today)
    assert "📍万州（重庆，按养老金领取地）：" in reply.text


@pytest.mark.parametrize("question", ["广东养老金上调多少", "北京退休年龄是多少",
                                      "湖北灵活就业社保补缴", "辽宁2025年养老金涨了多少"])
def test_a_place_never_turns_another_topic_into_a_certification_answer(engine, today, question):
    assert answer(engine, question, today).kind == "decline"


def test_remembered_city_is_used_when_the_message_names_none(engine, today):
    reply = answer(engine, "用哪个APP认证", today, place="锦州")
    assert reply.province == "辽宁" and "📍锦州（辽宁）" in reply.text


@pytest.mark.parametrize(("question", "province"), [
    ("我从武汉退休现在住海南 怎么认证", "湖北"),
    ("在沈阳退的休 现在跟儿子住在广州 认证咋弄", "辽宁"),
])
def test_the_place_one_retired_from_is_where_the_pension_is(engine, today, question, province):
    assert answer(engine, question, today).province == province


@pytest.mark.parametrize(("question", "asker"), [
    ("我人在上海 帮我爸认证怎么弄", "上海"),
    ("我在深圳工作，我爸的养老金怎么认证", "深圳"),
    ("我爸腿脚不好 来不了北京 认证怎么办", "北京"),
])
def test_the_askers_own_city_is_not_where_a_parents_pension_is(engine, today, question, asker):
    reply = answer(engine, question, today)
    assert not reply.province and f"📍{asker}" not in reply.text
    assert reply.kind == "suggest" or f"您在{asker}，但" in reply.text
    # A city the user saved with /city is where the pension is, and is said to be.
    saved = answer(engine, question, today, place="郑州")
    assert saved.province == "河南"
    assert saved.kind == "suggest" or "📍郑州（河南，按养老金领取地）" in saved.text


def test_where_the_asker_works_says_nothing_of_what_is_asked(engine, today):
    """我在深圳工作 is taken out whole: 工作 alone pointed at 住在国外 (在国外工作)."""
    reply = answer(engine, "我在深圳工作，我爸的养老金怎么认证", today)
    assert (reply.kind, reply.id) == ("answer", "how-to-certify")
    assert "您在深圳，但" in reply.text


def test_a_self_asker_keeps_the_city_named(engine, today):
    assert answer(engine, "我在深圳，怎么认证", today).province == "广东"


@pytest.mark.parametrize(("message", "place"), [
    ("郑州", "郑州"), ("在河南", "河南"), ("我爸在郑州那边", "郑州"), ("河南郑州", "郑州"),
    ("我在上海工作 老家是安徽的", "安徽"),  # of two places, the pension's
    ("我在深圳 我爸在老家", None),  # only the asker's city: still unknown where
    ("郑州怎么认证", None), ("北京和上海", None), ("在吗", None),
])
def test_only_a_place(message, place):
    region = only_a_place(message)
    assert (region.short if region else None) == place


@pytest.mark.parametrize(("follow_up", "topic"), [
    ("proxy-certify", "proxy-certify"),  # the topic just answered, for the place
    (None, "how-to-certify"),  # nothing before: the overview
    ("fee-free", "how-to-certify"),  # a topic with nothing local: the overview
])
def test_a_message_naming_only_a_place_answers_for_that_place(engine, today, follow_up, topic):
    reply = answer(engine, "郑州", today, follow_up=follow_up)
    assert (reply.kind, reply.id, reply.province) == ("answer", topic, "河南")
    assert "📍郑州（河南）" in reply.text
    # Too unsure for a group's auto-answer: there 我在郑州 is chat, not a question.
    assert reply.score < AUTOANSWER_MIN_SCORE


def test_two_places_without_a_tie_to_the_pension_ask_which(engine, today):
    reply = answer(engine, "北京和上海怎么帮老人认证", today)
    assert reply.place_choices == ["北京", "上海"] and not reply.province


def test_scheme_question_without_a_date_gets_the_entry_not_the_calculator(engine, today):
    reply = answer(engine, "遗属待遇要认证吗", today)
    assert (reply.kind, reply.id) == ("answer", "scheme-survivor")


def test_topic_reply_needs_no_matching(engine):
    reply = topic_reply(engine, "proxy-certify", "锦州")
    assert reply.id == "proxy-certify" and reply.province == "辽宁"
    assert topic_reply(engine, "no-such-topic") is None


def test_json_contract_keys(engine, today):
    assert set(answer(engine, "刷脸失败", today).as_json()) == {
        "question", "matched", "id", "score", "answer", "detail", "suggestions"}


MAINLAND = ["北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏",
            "浙江", "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南",
            "重庆", "四川", "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆"]


@pytest.mark.parametrize("province", MAINLAND)
def test_every_province_gets_its_own_useful_answer(engine, today, province):
    reply = answer(engine, f"{province}怎么认证", today)
    assert reply.kind == "answer" and reply.province == province
    line = next(line for line in reply.text.splitlines() if line.startswith("📍"))
    assert line.startswith(f"📍{province}：") and len(line) > 10
    others = [p for p in MAINLAND if p != province and f"📍{p}" in reply.text]
    assert not others


@pytest.mark.parametrize(("city", "province"), [
    ("深圳", "广东"), ("杭州", "浙江"), ("南京", "江苏"), ("济南", "山东"), ("青岛", "山东"),
    ("沈阳", "辽宁"), ("大连", "辽宁"), ("厦门", "福建"), ("合肥", "安徽"), ("长春", "吉林"),
    ("石家庄", "河北")])
def test_big_cities_get_their_province_with_the_city_named(engine, today, city, province):
    reply = answer(engine, f"{city}养老金认证怎么弄", today)
    assert reply.province == province and f"📍{city}（{province}）：" in reply.text


@pytest.mark.parametrize("place", ["香港", "澳门", "台湾"])
def test_living_in_hong_kong_macao_or_taiwan_is_a_topic_not_a_place(engine, today, place):
    reply = answer(engine, f"住在{place}怎么认证养老金", today)
    assert reply.id == "hk-macao-taiwan" or "hk-macao-taiwan" in reply.suggestion_ids


def test_first_screen_fits_a_small_phone_and_the_rest_is_detail(engine, today):
    reply = answer(engine, "刷脸老是不通过是什么原因", today)
    entry = engine.kb.entries[reply.id]
    body = reply.text.split("\n\n")[0]
    assert len(body) <= FIRST_SCREEN + 60  # whole lines: one may run past the limit
    assert reply.detail and reply.detail not in reply.text
    assert body + "\n" + reply.detail == entry.answer.strip()
    assert reply.as_json()["detail"] == reply.detail


@pytest.mark.parametrize(("body", "first", "detail"), [
    ("一行就完", "一行就完", None),
    ("开头：\n1. 甲" + "字" * 60 + "\n2. 乙" + "字" * 60 + "\n3. 丙" + "字" * 40,
     "开头：\n1. 甲" + "字" * 60, "2. 乙" + "字" * 60 + "\n3. 丙" + "字" * 40),
    ("开头：\n1. 甲" + "字" * 110 + "\n注意：别下载假APP\n2. 乙" + "字" * 40,
     "开头：\n1. 甲" + "字" * 110 + "\n注意：别下载假APP", "2. 乙" + "字" * 40),
    ("开头：\n1. 甲" + "字" * 118 + "\n2. 短", "开头：\n1. 甲" + "字" * 118 + "\n2. 短", None),
])
def test_split_for_phone(body, first, detail):
    assert split_for_phone(body) == (first, detail)


def test_full_topic_reply_has_no_detail(engine):
    short = topic_reply(engine, "face-fail-reasons")
    full = topic_reply(engine, "face-fail-reasons", full=True)
    assert short.detail and full.detail is None
    assert short.detail in full.text


@pytest.mark.parametrize("question", ["我爸去年2月过世了 抚恤金啥时候领", "父亲死亡后丧葬费怎么领",
                                      "老伴过世了 他的退休金卡怎么办"])
def test_a_message_about_a_death_puts_what_to_report_first(engine, today, question):
    reply = answer(engine, question, today)
    shown = [reply.id] if reply.kind == "answer" else reply.suggestion_ids
    assert shown[0] == "report-death"


def test_nobody_who_wrote_of_no_death_is_offered_the_death_topic(engine, today):
    """The matcher's closest topic for 认证了没到账 (认证 停发) is what to do after a death."""
    reply = answer(engine, "认证了没到账", today)
    assert reply.kind == "suggest"
    assert "report-death" not in reply.suggestion_ids


@pytest.mark.parametrize("question", [
    "老人是网上认证的吗", "都是网上弄的吗", "我是网格员 社区老人怎么认证",
    "认证的事忘得一干二净 会停发吗",
])
def test_a_sound_alike_never_turns_a_message_into_a_death(engine, today, question):
    """是网 and 事忘 sound like 死亡: repairing them answered 请节哀 to a living person."""
    assert "死亡" not in engine.matcher.segmenter.repair(normalize(question))
    reply = answer(engine, question, today)
    assert reply.id != "report-death" and "report-death" not in reply.suggestion_ids


@pytest.mark.parametrize("question", ["我爸走了，养老金那边要去办啥手续", "人没了以后养老金卡咋弄",
                                      "家里办完后事了 老人的养老金怎么停",
                                      "我爸去年十月走的 一直没去报", "老伴上个月走了"])
def test_the_usual_euphemisms_for_a_death_count_as_one(question):
    assert mentions_death(normalize(question))


@pytest.mark.parametrize("question", ["手续走了一遍还是不行", "老人走了好几个地方都办不了认证",
                                      "他不会弄手机 村里也没人帮 咋办啊急死了",
                                      "我爸的手续走的很慢"])
def test_walking_somewhere_is_not_a_death(question):
    assert not mentions_death(normalize(question))


def test_a_survivor_asking_about_their_own_certification_is_answered_as_asked(engine, today):
    reply = answer(engine, "我爸去世了 我妈领的遗属待遇每年要认证吗", today)
    assert reply.kind == "answer" and reply.id == "scheme-survivor"


@pytest.mark.parametrize("message", ["我不知道我爸是哪个险种", "不清楚我妈领的是什么养老金"])
def test_not_knowing_the_scheme_gets_how_to_tell(engine, today, message):
    reply = answer(engine, message, today)
    assert reply.kind == "answer" and reply.text == HOW_TO_TELL


@pytest.mark.parametrize("message", ["不知道怎么认证", "不知道用哪个APP认证"])
def test_not_knowing_something_else_is_matched(engine, today, message):
    assert HOW_TO_TELL not in answer(engine, message, today).text


@pytest.mark.parametrize("message", ["怎么帮我妈刷脸 她不在我身边", "我爸不在我身边 怎么帮他认证"])
def test_a_parent_far_away_is_not_a_message_saying_not_in_scope(engine, today, message):
    reply = answer(engine, message, today)
    first = reply.id if reply.kind == "answer" else reply.suggestion_ids[0]
    assert first == "proxy-certify"



@pytest.mark.parametrize("message", ["我爸去年十月走的 一直没去报 钱还在发 现在咋办",
                                     "我爸三月份走的 这个月还收到了养老金 要退回去吗",
                                     "我妈刚去世 昨天 现在脑子乱 养老金的事该做什么"])
def test_after_a_death_the_reply_is_what_to_report_not_a_list_of_dates(engine, today, message):
    reply = answer(engine, message, today)
    assert reply.kind == "answer" and reply.id == "report-death"
    assert reply.text.startswith("请节哀") and "退回" in reply.text
    assert reply.suggestion_ids == []  # no 下次什么时候认证 under it


def test_a_widow_asking_about_her_own_certification_gets_no_condolences(engine, today):
    reply = answer(engine, "老伴去世以后我一个人住 平时连微信都不会用 今年认证找谁帮忙", today)
    assert reply.id != "report-death"


@pytest.mark.parametrize(("message", "rule"), [("武汉的认证是按自然年吗", "武汉按自然年"),
                                              ("葫芦岛农保多久认证一次", "上下半年各一次")])
def test_a_city_with_its_own_cycle_leads_with_it(engine, today, message, rule):
    first = answer(engine, message, today).text.split("\n\n")[0]
    assert first.startswith("📍") and rule in first


def test_where_i_am_paid_is_the_pension_place_though_i_said_i(engine, today):
    where = read_place(normalize("我在北京领的退休金 现在住在海南 要回北京认证吗"))
    assert where.region is not None and where.region.short == "北京"
    son = read_place(normalize("我在上海上班 我爸在河南农村 他的养老金怎么认证"))
    assert son.region is not None and son.region.short == "河南"


@pytest.mark.parametrize(("question", "province"), [("北京朝阳区怎么认证养老金", "北京"),
                                                     ("天津河北区养老金怎么认证", "天津")])
def test_buttons_carry_a_place_no_other_place_shares(engine, today, question, province):
    from bot.tg.keyboards import answer_keyboard

    reply = answer(engine, question, today)
    data = [b.callback_data for row in answer_keyboard(reply, 1).inline_keyboard for b in row]
    more = next(d for d in data if d.startswith("more:"))
    place = more.split(":", 2)[2]
    again = topic_reply(engine, reply.id, place, full=True)
    assert f"（{province}）" in again.text  # 详细 keeps the place: not 辽宁's 朝阳, not 河北省
    assert all(len(d.encode()) <= 64 for d in data)
