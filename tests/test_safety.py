"""Sensitive numbers and fraud: warned about, never stored."""

from __future__ import annotations

import pytest

from bot.answers import answer
from bot.safety import check_message, looks_like_fraud, redact

VALID_ID = "11010519491231002X"
VALID_CARD = "6222 0202 0001 2345 670"  # passes the Luhn check


def test_valid_id_number_detected_and_redacted():
    check = check_message(f"我的身份证号是{VALID_ID}，怎么认证")
    assert "身份证号" in check.sensitive
    assert VALID_ID not in redact(f"号码{VALID_ID}")


def test_random_long_number_is_not_an_id():
    assert "身份证号" not in check_message("订单号110105194912310021").sensitive


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
    ],
)
def test_fraud_detected(text):
    assert looks_like_fraud(text)


@pytest.mark.parametrize(
    "text",
    ["刷脸失败怎么办", "认证要交钱吗", "在 si.12333.gov.cn 上怎么认证", "明天天气怎么样"],
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
