"""Sensitive numbers and fraud: warned about, never stored."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.qa.answers import answer
from bot.qa.safety import check_message, looks_like_fraud, redact

VALID_ID = "11010519491231002X"
VALID_CARD = "6222 0202 0001 2345 670"  # passes the Luhn check


def test_valid_id_number_detected_and_redacted():
    check = check_message(f"我的身份证号是{VALID_ID}，怎么认证")
    assert "身份证号" in check.sensitive
    assert VALID_ID not in redact(f"号码{VALID_ID}")


def test_id_number_with_a_wrong_check_digit_is_still_an_id():
    # A mistyped ID number is still someone's ID number: hidden and warned about.
    assert "身份证号" in check_message("订单号110105194912310021").sensitive
    assert "110105194912310021" not in redact("订单号110105194912310021")


# (text, the digits that must disappear, the warning expected or None)
SENSITIVE = [
    ("我的电话13912345678", "13912345678", None),
    ("打 +86 139 8765 4321 找我", "8765", None),
    ("0086-13912345678", "13912345678", None),
    ("座机010-62345678", "62345678", None),
    ("(0411) 8765 4321", "8765", None),
    ("身份证11010519491231002X", "19491231", "身份证号"),
    ("身份证110105194912310021", "19491231", "身份证号"),  # wrong check digit
    ("１１０１０５１９４９１２３１００２Ｘ", "１９４９１２３１", "身份证号"),  # full-width
    ("110105 19491231 002X", "19491231", "身份证号"),
    ("1101 0519 4912 3100 2X", "4912", "身份证号"),
    ("老身份证110105491231002", "491231", "身份证号"),  # 15 digits
    ("卡号6222 0202 0001 2345 671", "0001", "银行卡号"),  # fails the Luhn check
    ("卡号6222020200012345671", "6222020200012345671", "银行卡号"),
    ("卡号 ６２２２　０２０２　０００１　２３４５　６７１", "０００１", "银行卡号"),
    ("110105 19491231 002X 13912345678", "13912345678", "身份证号"),
]


@pytest.mark.parametrize(("text", "secret", "warning"), SENSITIVE)
def test_sensitive_numbers_redacted_and_warned(text, secret, warning):
    assert secret not in redact(text)
    assert "[已隐藏]" in redact(text)
    sensitive = check_message(text).sensitive
    assert (warning in sensitive) if warning else not sensitive


@pytest.mark.parametrize("text", [
    "企业退休，去年3月10号认证的", "2025.3.10认证的", "2025-03-10 认证", "打12333问问",
    "交200块钱", "报销了1234.56元", "订单号 2025031012", "2024年认证了3次",
])
def test_ordinary_numbers_are_kept(text):
    assert redact(text) == text
    assert not check_message(text).sensitive


def test_log_records_are_redacted(caplog):
    import logging

    from bot.qa.safety import RedactingFilter

    logger = logging.getLogger("tests.redact")
    caplog.handler.addFilter(RedactingFilter())
    with caplog.at_level(logging.DEBUG, logger="tests.redact"):
        logger.debug("update %s", {"text": "电话13912345678 身份证11010519491231002X"})
        try:
            raise ValueError("卡号6222020200012345671")
        except ValueError:
            logger.exception("failed")
    assert "13912345678" not in caplog.text and "19491231" not in caplog.text
    assert "6222020200012345671" not in caplog.text and "[已隐藏]" in caplog.text


def test_bank_card_detected_and_redacted():
    assert "银行卡号" in check_message(f"卡号 {VALID_CARD}").sensitive
    assert "0001" not in redact(f"卡号 {VALID_CARD}")


def test_password_redacted():
    assert redact("我的密码是abc12345") == "我的密码[已隐藏]"


@pytest.mark.parametrize(
    "text",
    [
        "收到短信说社保认证要点链接 http://sb-renzheng.top 是真的吗",
        "有人说交钱帮你认证，200块包过",
        "社区来人说上门认证要收手续费",
        "电话里说我的社保异常，让我提供验证码",
        "短信：您的电子社保卡需升级，请登录 www.12333-shebao.com",
        "【社保中心】尊敬的参保人，您的社保卡需要升级，请添加微信 abc123 办理",
        "有人说我社保卡要升级 让我加他微信",
    ],
)
def test_fraud_detected(text):
    assert looks_like_fraud(text)


@pytest.mark.parametrize(
    "text",
    ["刷脸失败怎么办", "认证要交钱吗", "在 si.12333.gov.cn 上怎么认证", "明天天气怎么样",
     "社区说可以加微信视频认证",  # some cities certify by video call
     "养老金停发了 加个微信问问社区", "电子社保卡怎么升级"],
)
def test_not_fraud(text):
    assert not looks_like_fraud(text)


def test_answer_warns_and_hides_the_number(engine, today):
    reply = answer(engine, f"{VALID_ID} 这是我妈的身份证 帮我认证一下", today)
    assert "请不要在聊天里发送身份证号" in reply.text
    assert VALID_ID not in reply.question and VALID_ID not in reply.text


def test_answer_warns_about_fraud(engine, today):
    reply = answer(engine, "有人打电话说交300块钱可以帮我认证养老金", today)
    assert "免费" in reply.text and "12333" in reply.text


def test_other_long_numbers_are_hidden_without_a_warning():
    for text in ("单号 123456789012345678901234", "编号008613912345678"):
        assert "[已隐藏]" in redact(text) and not check_message(text).sensitive


DIGITS = "0123456789０１２３４５６７８９"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=DIGITS + " -xX号码是身份证卡电话+", max_size=80))
def test_redact_never_fails_and_leaves_no_long_number(text):
    import re
    import unicodedata

    check_message(text)
    hidden = unicodedata.normalize("NFKC", redact(text))
    assert not re.search(r"[0-9]{15}", hidden), hidden
    assert not re.search(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])", hidden), hidden
    assert redact(redact(text)) == redact(text)


@pytest.mark.parametrize(("text", "fraud"), [
    ("有人打电话说要帮我爸办认证 要身份证号", True),
    ("社保局的人问我要验证码说不给就停发", True),
    ("有人让我共享屏幕帮忙认证", True),
    ("陌生人说可以帮忙刷脸认证养老金", True),
    ("微信上有人加我说是社保局的要帮我认证", True),  # a stranger in the office's name
    ("社区说可以帮老人认证", False),
    ("社保局的人说可以上门帮我认证", False),
    ("认证要身份证号吗", False),
    ("代他人认证要填老人的身份证号吗", False),
    ("认证要交钱吗", False),
])
def test_strangers_asking_for_secrets_or_the_screen_look_like_fraud(text, fraud):
    assert check_message(text).fraud is fraud



@pytest.mark.parametrize(("text", "disclosed"), [
    ("刚才有个电话说我社保卡异常要我报银行卡号 我已经说了卡号了咋办", True),
    ("有人打电话说社保要升级 要验证码 验证码已经告诉他了", True),
    ("有人打电话说社保要升级 要验证码 我没给", False),
])
def test_a_secret_already_given_away_gets_what_to_do_now(engine, today, text, disclosed):
    assert check_message(text).disclosed is disclosed
    assert ("冻结或挂失" in answer(engine, text, today).text) is disclosed


def test_a_scam_without_a_sure_topic_leads_with_the_warning_and_the_fraud_topics(engine, today):
    reply = answer(engine, "二维码扫一扫说能领补贴 让我输银行卡密码", today)
    assert reply.text.startswith("⚠️") and "我不太确定" not in reply.text
    assert reply.suggestion_ids[0] in ("fraud-sms", "scam-screen-share")
