"""Handler logic that needs no running process."""

from __future__ import annotations

import datetime as dt

import pytest
from telegram import Chat, Message, MessageEntity, User

from bot.qa.answers import Reply
from bot.tg.handlers.chat import _addressed_text
from bot.tg.keyboards import answer_keyboard, main_keyboard

BOT_ID, BOT_NAME = 42, "pension_bot"
GROUP = Chat(-100, Chat.SUPERGROUP)
USER = User(7, "张", False)
BOT = User(BOT_ID, "助手", True, username=BOT_NAME)


def _message(text: str, *, entities=(), reply_to: Message | None = None) -> Message:
    return Message(1, dt.datetime(2026, 11, 23), GROUP, from_user=USER, text=text,
                   entities=list(entities), reply_to_message=reply_to)


def test_mention_is_stripped():
    text = f"@{BOT_NAME} 刷脸失败怎么办"
    entity = MessageEntity(MessageEntity.MENTION, 0, len(BOT_NAME) + 1)
    assert _addressed_text(_message(text, entities=[entity]), BOT_ID, BOT_NAME) == "刷脸失败怎么办"


def test_mention_of_another_bot_is_ignored():
    entity = MessageEntity(MessageEntity.MENTION, 0, 6)
    assert _addressed_text(_message("@other 你好", entities=[entity]), BOT_ID, BOT_NAME) is None


def test_reply_to_the_bot_counts():
    ours = Message(2, dt.datetime(2026, 11, 23), GROUP, from_user=BOT, text="回答")
    assert _addressed_text(_message("那在哪办", reply_to=ours), BOT_ID, BOT_NAME) == "那在哪办"


def test_chatter_is_not_addressed():
    assert _addressed_text(_message("今天吃饺子"), BOT_ID, BOT_NAME) is None


def _reply(kind: str, **fields) -> Reply:
    return Reply("问", kind == "answer", "how-to-certify" if kind == "answer" else None, 0.9,
                 "答", kind, **fields)


@pytest.mark.parametrize(("kind", "question_id", "rows"),
                         [("answer", 5, 3), ("suggest", None, 2), ("decline", 5, 2)])
def test_answer_keyboard_shows_topics_and_feedback_on_answers(kind, question_id, rows):
    markup = answer_keyboard(_reply(kind, suggestion_ids=["a", "b"],
                                    suggestions=["甲" * 80, "乙"]), question_id)
    assert len(markup.inline_keyboard) == rows
    assert len(markup.inline_keyboard[0][0].text) <= 60
    assert markup.inline_keyboard[0][0].callback_data == "sug:a"
    data = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert any(d.startswith("fb:") for d in data) == (kind == "answer")
    assert ("src:how-to-certify" in data) == (kind == "answer")


def test_answer_keyboard_puts_go_deeper_buttons_first_two_a_row():
    deeper = [("用自己手机", "channels-overview"), ("帮家里老人", "proxy-certify"),
              ("不用手机", "offline-where")]
    reply = _reply("answer", buttons=deeper,
                   suggestion_ids=["proxy-certify", "missed-makeup"], suggestions=["代", "补"])
    rows = answer_keyboard(reply, 9).inline_keyboard
    assert [b.text for b in rows[0]] == ["用自己手机", "帮家里老人"]
    assert [b.callback_data for b in rows[1]] == ["sug:offline-where"]
    # A runner-up already offered as a go-deeper button is not offered twice.
    assert [b.callback_data for b in rows[2]] == ["sug:missed-makeup"]


def test_answer_keyboard_asks_which_place_when_two_are_named():
    reply = _reply("answer", place_choices=["河南", "深圳"])
    rows = answer_keyboard(reply, None).inline_keyboard
    assert [b.callback_data for b in rows[0]] == ["plc:how-to-certify:河南",
                                                  "plc:how-to-certify:深圳"]


def test_main_keyboard_has_the_five_needs():
    labels = [b.text for row in main_keyboard().keyboard for b in row]
    assert labels == ["怎么认证", "什么时候认证", "帮家人认证", "错过了怎么办", "设置提醒"]
