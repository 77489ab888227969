"""Handler logic that needs no running process."""

from __future__ import annotations

import datetime as dt

import pytest
from telegram import Chat, Message, MessageEntity, User

from bot.tg.chat import _addressed_text
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


@pytest.mark.parametrize(("kind_feedback", "rows"), [(True, 3), (False, 2)])
def test_answer_keyboard(kind_feedback, rows):
    markup = answer_keyboard(5, ["a", "b"], ["甲" * 80, "乙"], feedback=kind_feedback)
    assert len(markup.inline_keyboard) == rows
    assert len(markup.inline_keyboard[0][0].text) <= 60
    assert markup.inline_keyboard[0][0].callback_data == "sug:a"


def test_main_keyboard_has_the_five_needs():
    labels = [b.text for row in main_keyboard().keyboard for b in row]
    assert labels == ["怎么认证", "什么时候认证", "帮家人认证", "错过了怎么办", "设置提醒"]
