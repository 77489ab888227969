"""bot.delivery.pacing: the one place that paces bulk sends and group replies."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time

import pytest

from bot import PROJECT_DIR
from bot.delivery.pacing import (
    GroupPacer,
    TokenBucket,
    retry_after_seconds,
    send_paced,
    take_token,
)


class Flood(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}")
        self.retry_after = seconds


def flood_seconds(exc: BaseException) -> float | None:
    return retry_after_seconds(exc) if isinstance(exc, Flood) else None


class Telegram:
    """A send callable that fails as told, then answers with a message id."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls = 0

    async def send(self) -> int:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return 42


class Sleeps:
    def __init__(self) -> None:
        self.slept: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_the_core_never_imports_telegram() -> None:
    code = ("import sys, bot.delivery.pacing, bot.broadcasts.runner; "
            "print('telegram' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=PROJECT_DIR, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


def test_the_senders_share_one_implementation() -> None:
    import bot.broadcasts.runner as broadcasts
    import bot.delivery.pacing as pacing
    import bot.tg.reminder_sender as reminder_handlers
    import bot.tg.sending as sending

    assert broadcasts.TokenBucket is pacing.TokenBucket is reminder_handlers.TokenBucket
    assert broadcasts.RateLimiter is pacing.RateLimiter
    assert sending.GroupPacer is pacing.GroupPacer
    for module in (broadcasts, reminder_handlers, sending):
        source = (PROJECT_DIR / module.__file__).read_text(encoding="utf-8")
        assert "class TokenBucket" not in source and "class GroupPacer" not in source


def test_retry_after_seconds_takes_numbers_timedeltas_and_errors() -> None:
    assert retry_after_seconds(3) == 3.0
    assert retry_after_seconds(dt.timedelta(seconds=1.5)) == 1.5
    assert retry_after_seconds(Flood(7)) == 7.0


async def test_flood_control_is_waited_out_once() -> None:
    telegram, sleeps = Telegram(Flood(4)), Sleeps()
    assert await send_paced(telegram.send, chat_id=1, flood_seconds=flood_seconds,
                            sleep=sleeps) == 42
    assert (telegram.calls, sleeps.slept) == (2, [4.0])


async def test_flood_control_beyond_the_retries_propagates() -> None:
    telegram, sleeps = Telegram(Flood(4), Flood(5)), Sleeps()
    with pytest.raises(Flood):
        await send_paced(telegram.send, chat_id=1, flood_seconds=flood_seconds, sleep=sleeps)
    assert (telegram.calls, sleeps.slept) == (2, [4.0])
    telegram, sleeps = Telegram(Flood(4), Flood(5)), Sleeps()
    assert await send_paced(telegram.send, chat_id=1, flood_seconds=flood_seconds,
                            sleep=sleeps, flood_retries=2) == 42
    assert sleeps.slept == [4.0, 5.0]


async def test_other_errors_are_not_retried() -> None:
    telegram, sleeps = Telegram(ValueError("bad request")), Sleeps()
    with pytest.raises(ValueError):
        await send_paced(telegram.send, chat_id=1, flood_seconds=flood_seconds, sleep=sleeps)
    assert (telegram.calls, sleeps.slept) == (1, [])


async def test_group_turns_are_recorded_private_chats_are_not() -> None:
    pacer = GroupPacer(per_minute=2)
    for chat_id in (-5, -5, 7, 7, 7):
        await send_paced(Telegram().send, chat_id=chat_id, flood_seconds=flood_seconds,
                         pacer=pacer)
    assert pacer.delay(7, 0.0) == 0
    assert pacer.delay(-5, time.monotonic()) > 50  # two sent: the third waits for the minute


async def test_group_limiter_paces_replies_and_counts_bulk_without_waiting() -> None:
    from bot.tg.sending import BULK, GroupLimiter

    pacer = GroupPacer(per_minute=2)
    limiter = GroupLimiter(pacer)
    sent: list[tuple[str, int]] = []

    async def through(endpoint: str, chat_id: int, args: dict | None = None) -> None:
        async def callback(*_args: object, **_kwargs: object) -> bool:
            sent.append((endpoint, chat_id))
            return True
        await limiter.process_request(callback, (), {}, endpoint, {"chat_id": chat_id}, args)

    for _ in range(3):  # a notice per turn of the sender: over the group's minute, no wait
        await through("sendMessage", -5, BULK)
    assert pacer.delay(-5, time.monotonic()) > 50  # a reply to that group would wait now
    # private chats and requests that post no new message go straight through
    await through("sendMessage", 7)
    await through("editMessageText", -5)
    await through("answerCallbackQuery", -5)
    assert len(sent) == 6


async def test_take_token_waits_for_the_bucket() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2.0, capacity=1, now=0.0)
    sleeps = Sleeps()

    async def sleep(seconds: float) -> None:
        await sleeps(seconds)
        now[0] += seconds

    await take_token(bucket, clock=lambda: now[0], sleep=sleep)
    await take_token(bucket, clock=lambda: now[0], sleep=sleep)
    assert sleeps.slept == [0.5] and now[0] == 0.5
