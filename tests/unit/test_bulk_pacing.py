"""Broadcasts and reminders share one overall sending budget (Telegram counts them together)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from types import SimpleNamespace

import pytest

from bot.broadcasts.audience import Audience
from bot.broadcasts.compose import Composed
from bot.broadcasts.runner import Broadcaster
from bot.broadcasts.store import create_broadcast, ensure_broadcast_tables
from bot.clock import FixedClock
from bot.delivery.pacing import TokenBucket
from bot.reminders import plans
from bot.reminders import store as rm
from bot.tg.reminder_sender import ReminderSender

MORNING = dt.datetime(2026, 2, 8, 9, 0, tzinfo=plans.CHINA)
USERS = 30  # each gets one broadcast and one reminder: 60 messages


class Recorder:
    """Both senders' Telegram: notes when each message went out."""

    def __init__(self) -> None:
        self.times: list[float] = []

    async def broadcast(self, recipient, message) -> int:
        return self._record()

    async def send_message(self, chat_id, text, reply_markup=None):
        return SimpleNamespace(message_id=self._record())

    def _record(self) -> int:
        self.times.append(time.monotonic())
        return len(self.times)


@pytest.fixture
def db(db):
    ensure_broadcast_tables(db)
    rm.ensure_reminder_tables(db)
    for user in range(1, USERS + 1):
        db["users"].insert({"user_id": user, "chat_id": user, "first_name": "x",
                            "active": 1, "first_seen": "2026-01-01T00:00:00"})
        rm.add_reminder(db, user_id=user, chat_id=user, label="自己", scheme="enterprise",
                        city=None, last=None, due=dt.date(2026, 3, 10),
                        now=dt.datetime(2026, 1, 1, 10, 0, tzinfo=plans.CHINA))
    return db


async def _send_both(db, budget: TokenBucket | None, seconds: float) -> Recorder:
    """Run a broadcast to every user and their reminders at once, for `seconds`."""
    telegram = Recorder()
    broadcast_id = create_broadcast(db, created_by=1, origin_chat_id=1,
                                    composed=Composed("通知", ()), audience=Audience("users"),
                                    audience_label="全部", now=MORNING)
    broadcaster = Broadcaster(db, broadcast_id, telegram.broadcast, rate=1000,
                              now=lambda: MORNING, budget=budget)
    reminders = ReminderSender(telegram, db, FixedClock(MORNING), rate=None, budget=budget)
    both = asyncio.gather(broadcaster.run(), reminders.run_once())
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(both, seconds)
    return telegram


async def test_one_budget_holds_both_senders(db) -> None:
    # Ten tokens and practically no refill: whatever both send together must fit in ten.
    budget = TokenBucket(rate=0.001, capacity=10, now=time.monotonic())
    telegram = await _send_both(db, budget, seconds=0.5)
    assert len(telegram.times) == 10


async def test_without_a_budget_both_send_everything(db) -> None:
    telegram = await _send_both(db, None, seconds=30)
    assert len(telegram.times) == 2 * USERS
