"""Asking Telegram whether someone administers a group: an answer, a refusal, or not now."""

from __future__ import annotations

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut

from bot.tg.permissions import is_group_admin_now


class RefusingBot:
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def get_chat_member(self, chat_id: int, user_id: int):
        raise self.error


@pytest.mark.parametrize(("error", "expected"), [
    (BadRequest("Chat not found"), False),  # a refusal: asking again gets it again
    (Forbidden("bot was kicked from the group chat"), False),
    (TimedOut(), None),  # not now: ask again later
    (NetworkError("connection reset"), None),
])
async def test_a_refusal_is_an_answer_and_a_network_error_is_not(error, expected) -> None:
    assert await is_group_admin_now(RefusingBot(error), -100, 1) is expected
