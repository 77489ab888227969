"""Content corrections of issue 11: each test fails on the text the entry had before.

Elderly users act on these answers, so the rules here are about what the answers say: the
national 12-month default, the due month, no national cutoff day, one city's rule never
presented as its province's, dated rules said with their year, hedged menu paths, plain words.
"""

from __future__ import annotations

import re

import pytest

from bot import KNOWLEDGE_DIR
from bot.qa.knowledge import load_knowledge


@pytest.fixture(scope="module")
def kb():
    return load_knowledge(KNOWLEDGE_DIR)


def answer(kb, entry_id: str) -> str:
    return kb.entries[entry_id].answer


def lines_with(text: str, word: str) -> list[str]:
    return [line for line in text.splitlines() if word in line]


# --- 1. texts repeating the old rules -------------------------------------------------------------

def test_how_often_gives_the_12_month_default_and_names_cities_not_liaoning(kb):
    text = answer(kb, "how-often")
    assert text.splitlines()[0].startswith("一般每12个月认证一次")
    assert "辽宁" not in text
    for line in lines_with(text, "上下半年") + lines_with(text, "遗属半年"):
        assert "葫芦岛" in line
    assert "之前" in text  # certify before the due date


def test_scheme_resident_defaults_to_12_months_and_asks_to_confirm_locally(kb):
    text = answer(kb, "scheme-resident")
    assert "12个月" in text.splitlines()[0]
    assert "问清本地周期" in text
    assert "辽宁" not in text


def test_scheme_survivor_defaults_to_12_months_and_names_only_cities(kb):
    text = answer(kb, "scheme-survivor")
    assert "12个月一次" in text
    assert "有的县" not in text and "辽宁" not in text
    assert "问清本地周期" in text


def test_missed_consequence_stops_in_the_due_month_like_the_calculator(kb):
    text = answer(kb, "missed-consequence")
    assert "到期的那个月起暂停" in text
    assert "过期后的下个月起停" not in text
    assert "2026年3月起就会停发" in text


def test_resume_timing_has_no_national_cutoff_and_names_each_cutoff_place(kb):
    text = answer(kb, "resume-timing")
    assert text.splitlines()[0].startswith("多数地方是补认证通过后的下个月恢复发放")
    assert "全国没有统一" in text
    for day, place in (("11日", "淮南"), ("25日", "哈尔滨"), ("1—15日", "呼和浩特")):
        assert all(place in line for line in lines_with(text, day)), day
    assert "月中以后才认证" not in text


def test_prov_liaoning_keeps_huludao_rules_to_huludao(kb):
    text = answer(kb, "prov-liaoning")
    for word in ("上下半年", "6个月一次"):
        assert all("葫芦岛" in line for line in lines_with(text, word)), word
    assert "不是全省的" in text
    entry = kb.entries["prov-liaoning"]
    assert "辽宁人社" in entry.local and "葫芦岛" not in entry.local
    assert "上下半年" in dict(entry.local_cities)["葫芦岛"]


def test_no_answer_says_certifying_on_the_due_day_is_on_time(kb):
    for entry in kb.entries.values():
        assert "当天办也算按时" not in entry.answer, entry.id
        assert not re.search(r"(到期|截止)(日|那天)当天.*也(算|行)", entry.answer), entry.id


def test_no_answer_presents_a_quarterly_or_half_year_cycle_as_national(kb):
    for entry in kb.entries.values():
        for line in entry.answer.splitlines():
            if "每季度" in line:
                assert "没有" in line or "没找到" in line, (entry.id, line)
            if re.search(r"半年(认证)?一次", line) and not entry.id.startswith("prov-"):
                assert re.search(r"葫芦岛|海口|唐山|有的地方|旧", line), (entry.id, line)


@pytest.mark.parametrize("entry_id", ["how-often", "fixed-date", "next-due-how",
                                      "scheme-enterprise", "scheme-institution",
                                      "missed-consequence", "rumor-deadline"])
def test_deadline_answers_ask_to_certify_before_the_due_date(kb, entry_id):
    assert re.search(r"(到期日?|这一天)之?前|之前(再做|办好)", answer(kb, entry_id)), entry_id


# --- 2. corrections ------------------------------------------------------------------------------

def test_scheme_enterprise_never_advises_waiting_for_a_notice(kb):
    text = answer(kb, "scheme-enterprise")
    assert "收到通知" not in text
    assert "别等通知" in text
    assert "三分之一" in text


@pytest.mark.parametrize("entry_id", ["channels-overview", "channel-national-platform"])
def test_no_national_platform_app_is_recommended_and_impostors_are_named(kb, entry_id):
    text = answer(kb, entry_id)
    assert "也有APP" not in text and "或用它的APP" not in text
    assert "si.12333.gov.cn" in text
    assert "假APP" in text and "别下载" in text
    assert "掌上12333" in text


def test_face_fail_repeated_names_xixian_not_shaanxi(kb):
    text = answer(kb, "face-fail-repeated")
    assert "陕西" not in text
    assert "西咸新区" in text


@pytest.mark.parametrize("entry_id", ["who-must-certify", "not-in-scope-message",
                                      "prov-guangdong"])
def test_guangzhou_rule_is_dated_2019(kb, entry_id):
    text = answer(kb, entry_id)
    assert all("2019" in line for line in lines_with(text, "广州") if "比对" in line), entry_id


def test_menu_paths_from_content_farms_are_hedged(kb):
    alipay = answer(kb, "channel-ess-alipay")
    assert "菜单可能不同" in alipay
    assert all("菜单可能不同" in line for line in lines_with(alipay, "城市服务"))
    wechat = answer(kb, "channel-wechat-official-account")
    assert "微服务" not in wechat
    assert "菜单可能不同" in wechat


def test_fixed_date_first_birthday_switch_stays_within_12_months(kb):
    text = answer(kb, "fixed-date")
    assert "生日" in text
    assert "上次认证后12个月之内的那个生日月" in text


# --- 3. readability ------------------------------------------------------------------------------

def test_first_line_answers_instead_of_naming_a_place(kb):
    for entry in kb.entries.values():
        first = entry.answer.splitlines()[0]
        assert not first.startswith("以"), (entry.id, first)
        assert not re.match(r"^[^，。：]{1,10}（[^）]*）[：:]", first), (entry.id, first)
        assert not re.match(r"^[^，。]{1,6}[：:]$", first), (entry.id, first)


def test_jargon_comes_with_plain_words(kb):
    for entry in kb.entries.values():
        text = entry.answer
        assert "滚动" not in text and "STM" not in text, entry.id
        assert text.count("经办机构") == text.count("社保局（社保经办机构）"), entry.id
        if "静默认证" in text:
            assert "大数据" in text or "自动认证" in text, entry.id


def test_one_county_examples_stay_out_of_general_answers(kb):
    for entry in kb.entries.values():
        if entry.id.startswith("prov-"):
            continue
        for county in ("紫云", "三亚"):
            assert county not in entry.answer, (entry.id, county)


def test_answers_are_short_enough_for_a_small_phone(kb):
    long = {e.id: len(e.answer) for e in kb.entries.values() if len(e.answer) > 260}
    assert long == {}


# --- 5. coverage and 6. new topics ---------------------------------------------------------------

NEW_PROVINCES = ("tianjin", "hebei", "neimenggu", "jilin", "henan", "guangxi", "yunnan",
                 "xizang", "ningxia", "xinjiang")


@pytest.mark.parametrize("pinyin", NEW_PROVINCES)
def test_new_province_entries_invent_no_local_channel(kb, pinyin):
    entry = kb.entries[f"prov-{pinyin}"]
    assert "这里还没有核实过的本地渠道" in entry.answer
    assert entry.local.startswith("这里还没有核实过的本地渠道")
    for channel in ("国家社会保险公共服务平台网站", "掌上12333", "电子社保卡", "12333"):
        assert channel in entry.answer
    assert not re.search(r"\d{3,4}-\d{5,8}", entry.answer)  # no invented phone numbers


@pytest.mark.parametrize("entry_id", ["not-paid-yet", "hk-macao-taiwan", "scam-screen-share",
                                      "proxy-id-number"])
def test_new_topics_exist_with_enough_phrasings(kb, entry_id):
    entry = kb.entries[entry_id]
    assert len(entry.phrasings) >= 8
    assert entry.reviewed.isoformat() >= "2026-12-01"


def test_hk_macao_taiwan_names_the_verified_paper_routes(kb):
    text = answer(kb, "hk-macao-taiwan")
    for word in ("中国领事", "民政事务总署", "工会联合会", "社会保障基金", "公证机关", "户籍誊本",
                 "寄回"):
        assert word in text


def test_scam_screen_share_says_hang_up_and_call_12333_yourself(kb):
    text = answer(kb, "scam-screen-share")
    for word in ("挂断", "共享", "刷脸", "不收钱", "自己拨12333"):
        assert word in text


def test_proxy_id_number_separates_official_pages_from_strangers(kb):
    text = answer(kb, "proxy-id-number")
    assert "代他人认证" in text and "协助他人办理" in text
    assert "陌生人" in text and "骗子" in text
    for word in ("银行卡", "密码", "验证码"):
        assert word in text


def test_not_paid_yet_invents_no_number_of_days(kb):
    text = answer(kb, "not-paid-yet")
    assert "下个月" in text and "12333" in text
    assert not re.search(r"\d+\s*(天|个工作日)", text)



def test_taiwan_is_not_told_to_use_an_app_nobody_confirmed_there(kb):
    text = answer(kb, "hk-macao-taiwan")
    (taiwan,) = [line for line in text.splitlines() if line.startswith("2. 台湾")]
    assert "没有查到" in taiwan
    (hk,) = [line for line in text.splitlines() if line.startswith("1. 香港、澳门")]
    assert "中国领事" in hk
    from bot.qa.answers import split_for_phone
    first, _rest = split_for_phone(text)
    assert "1. 香港" in first and "2. 台湾" in first  # both on a small phone's first screen


def test_no_claim_that_most_places_never_notify(kb):
    assert "多数地方也不会通知" not in answer(kb, "scheme-enterprise")
    assert "不是各地都有" in answer(kb, "scheme-enterprise")


def test_sources_back_what_the_basis_line_names(kb):
    silent = [s.url for s in kb.entries["silent-certification"].sources]
    assert "https://xywbxg.com/20LPZTDen/index.htm" in silent  # 北京约8成, 2024
    jiangsu = [s.url for s in kb.entries["prov-jiangsu"].sources]
    assert not any("fj.gov.cn" in url for url in jiangsu)  # a Fujian page says nothing of 江苏
    documents = kb.entries["offline-documents"]
    assert not any(s.issuer for s in documents.sources)  # the list is not 人社部's
    assert "以窗口说的为准" in documents.answer


def test_not_in_scope_message_does_not_suggest_skipping_certification(kb):
    text = answer(kb, "not-in-scope-message")
    assert "还不用认证" not in text and "别因此就当作不用认证" in text
