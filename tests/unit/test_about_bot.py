"""Messages that ask the bot itself to certify get "I cannot, here is how, never send papers"."""

from __future__ import annotations

import pytest

from bot.qa.about_bot import BOT_CANNOT_CERTIFY, asks_bot_to_certify
from bot.qa.answers import answer
from bot.text.normalize import normalize


@pytest.mark.parametrize("message", [
    "你能帮我认证吗",
    "机器人能直接给我认证吗",
    "在这个群里能认证吗",
    "你帮我把认证弄了吧",
    "能不能在这儿给我妈认证",
    "助手可以替我刷脸吗",
    "在这发照片能认证吗",
    "小助手你直接替我办认证行不行",
    "在你这能做养老金认证不",
    "機器人能幫我認證嗎",  # traditional characters
    "我把我妈照片发群里 你们能帮她认证吗",
    "机器人帮俺认个证",
    "把我爸的视频发给你能认证吗",
    "通过这个机器人怎么认证",
    "怎么在这个群里认证",
])
def test_asking_the_bot_to_certify(message) -> None:
    assert asks_bot_to_certify(normalize(message))


@pytest.mark.parametrize("message", [
    "帮我妈认证怎么弄",  # how to help, asked of nobody in particular
    "您好，怎么帮我妈认证",
    "能帮我认证吗",
    "子女能帮我认证吗",
    "社保局能帮我认证吗",
    "请问你们社区能帮老人认证吗",
    "你说我妈能不能在手机上认证",
    "你知道怎么帮老人认证吗",
    "你帮我看看认证了没有",
    "谢谢你帮我解答认证的事",
    "群里都在传12月底前必须认证完",
    "我在这边能认证吗",  # here is where the asker lives
    "我们这里能认证吗",
    "我在这住 怎么认证",
])
def test_other_messages_are_left_to_the_matcher(message) -> None:
    assert not asks_bot_to_certify(normalize(message))


def test_the_reply_says_no_and_where_to_go(engine, today) -> None:
    reply = answer(engine, "你能帮我认证吗", today)
    assert (reply.kind, reply.matched, reply.id) == ("answer", True, None)
    assert reply.text == BOT_CANNOT_CERTIFY and "骗子" in reply.text
    assert [target for _, target in reply.buttons] == [
        "channels-overview", "proxy-certify", "offline-where"]


def test_an_id_number_sent_with_it_is_warned_about_first(engine, today) -> None:
    reply = answer(engine, "机器人帮我认证 我身份证110101194501011234", today)
    assert reply.text.startswith("⚠️") and reply.text.endswith(BOT_CANNOT_CERTIFY)
    assert "110101194501011234" not in reply.question
