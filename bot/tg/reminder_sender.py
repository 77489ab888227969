"""The background sender that drains the reminder outbox.

The send loop and its retries are the shared sender's (`bot.delivery.sender`, also used by
broadcasts); `ReminderSender` picks the due rows, skips the ones no longer wanted and words
the messages, and `reminder_policy` says how reminders retry.
The sender runs as a background loop of the application (`bot.tg.context.repeat`) every few
seconds and asks the clock each time, so a test that moves a FileClock makes the due
reminders go out.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlite_utils
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import Application

from bot.clock import Clock
from bot.db.users import deactivate_user
from bot.delivery import sender as delivery
from bot.delivery.pacing import TokenBucket
from bot.reminders import group_notices as notices
from bot.reminders import plans
from bot.reminders import store as rm
from bot.reminders.due import (
    OutboxRow,
    ReminderOutbox,
    enqueue_due,
    mark_done,
    pending_outbox,
    skip_reason,
)
from bot.reminders.texts import group_text, reminder_text
from bot.tg.background import repeat
from bot.tg.context import Services, services_of
from bot.tg.handlers.group import follow_migration
from bot.tg.sending import bulk_kwargs, classify_error

log = logging.getLogger(__name__)

# Reminders share Telegram's ~30 messages/s with everything else the bot sends.
REMINDER_RATE = 20.0
NETWORK_RETRY_DELAYS = (0.5, 2.0)  # in-process retries of one send after a network error
NETWORK_RETRY_LATER = dt.timedelta(minutes=10)
MAX_SEND_ROUNDS = 5  # after this many rounds of network failures a send is given up
MAX_RETRY_AFTER_WAITS = 5
FLOOD_RETRY_LATER = dt.timedelta(minutes=1)


def reminder_policy(retry_delays: tuple[float, ...] = NETWORK_RETRY_DELAYS
                    ) -> delivery.RetryPolicy:
    """Reminders wait through flood control in place, retry a network error that certainly
    sent nothing in place and then every ten minutes, follow a migrated group at once, and send
    again what a crash left in flight (a missed pension is worse than a duplicate reminder).

    A request whose answer was lost (a read timeout, a dropped connection) may have been
    delivered: it is recorded as unknown and not sent again, as in broadcasts; when Telegram is
    slow every retry would be one more copy on the user's phone. The next slot still comes."""
    return delivery.RetryPolicy(
        flood_waits=MAX_RETRY_AFTER_WAITS, flood_requeue=FLOOD_RETRY_LATER.total_seconds(),
        network_delays=retry_delays, network_requeue=NETWORK_RETRY_LATER.total_seconds(),
        max_attempts=MAX_SEND_ROUNDS, max_migrations=2, resend_after_crash=True)


def reminder_keyboard(reminder_id: int) -> InlineKeyboardMarkup:
    """The buttons under every reminder."""
    return InlineKeyboardMarkup([
        [InlineKeyboardButton("✅ 我已认证", callback_data=f"rm:done:{reminder_id}"),
         InlineKeyboardButton("⏰ 稍后提醒", callback_data=f"rm:snz:{reminder_id}")],
        [InlineKeyboardButton("🛑 停止提醒", callback_data=f"rm:stop:{reminder_id}")],
    ])


@dataclass
class SendStats:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    blocked: int = 0
    retried: int = 0
    migrated: int = 0


class ReminderSender:
    """Drains the outbox through the shared sender (`bot.delivery.sender`): each send is
    marked before the call and settled after it; this class only picks the rows, skips the
    ones no longer wanted and words the messages."""

    def __init__(self, bot: Bot, db: sqlite_utils.Database, clock: Clock, *,
                 rate: float | None = REMINDER_RATE, batch: int = 50,
                 running: Callable[[], bool] = lambda: True,
                 retry_delays: tuple[float, ...] = NETWORK_RETRY_DELAYS,
                 budget: TokenBucket | None = None):
        self.bot, self.db, self.clock = bot, db, clock
        self.batch = batch
        self.running = running
        self.outbox = ReminderOutbox(db, clock.now)
        self.sender = delivery.Sender(
            self.outbox, classify_error, reminder_policy(retry_delays),
            budget=budget,  # shared with broadcasts
            interval=1.0 / rate if rate else 0.0,
            on_blocked=self._on_blocked, on_migrated=self._on_migrated, running=running)

    async def run_once(self) -> SendStats:
        """Queue what has come due, then send everything pending (daytime only)."""
        stats = SendStats()
        while self.running():
            now = self.clock.now()
            if not plans.in_sending_hours(now):
                break
            enqueue_due(self.db, now)
            rows = pending_outbox(self.db, now, self.batch)
            if not rows:
                break
            for row in rows:
                if not self.running():
                    break
                await self.deliver(row, stats)
        return stats

    def _message(self, row: OutboxRow, now: dt.datetime
                 ) -> tuple[int, str, InlineKeyboardMarkup | None, int | None]:
        """(chat id, text, buttons, user id) for a row, read fresh from its reminder."""
        if row.kind == "group":
            group = notices.get_group_reminder(self.db, row.ref_id)
            assert group is not None
            return group.chat_id, group_text(group), None, None
        reminder = rm.get_reminder(self.db, row.ref_id)
        assert reminder is not None
        return (reminder.chat_id, reminder_text(reminder, plans.china(now).date()),
                reminder_keyboard(reminder.id), reminder.user_id)

    async def deliver(self, row: OutboxRow, stats: SendStats) -> str:
        """Send one outbox row; returns its final status."""
        db, now = self.db, self.clock.now()
        reason = skip_reason(db, row, now)
        if reason:
            mark_done(db, row.id, "skipped", reason, now)
            stats.skipped += 1
            return "skipped"
        chat_id, text, markup, user_id = self._message(row, now)

        async def send(to: int) -> int:
            return (await self.bot.send_message(to, text, reply_markup=markup,
                                                **bulk_kwargs(self.bot))).message_id

        # Committed before the request: after a crash this row is sent again (never lost);
        # marked sent right after its own send, so a crash duplicates at most this one message.
        item = delivery.Item(row.id, chat_id, row.attempts, ref=(row, user_id))
        result = await self.sender.deliver(item, send)
        stats.retried += result.network_errors
        stats.migrated += result.migrations
        if result.status == delivery.SENT:
            stats.sent += 1
            return "sent"
        if result.status == delivery.BLOCKED:
            stats.blocked += 1
            return "failed"
        if result.status == delivery.PENDING:
            return "pending"
        stats.failed += 1
        return "failed"

    def _on_migrated(self, item: delivery.Item, new_chat_id: int) -> bool:
        follow_migration(self.db, item.chat_id, new_chat_id)
        return True  # sent again at once, to the supergroup

    def _on_blocked(self, item: delivery.Item) -> None:
        row, user_id = item.ref
        self._blocked(row, item.chat_id, user_id)

    def _blocked(self, row: OutboxRow, chat_id: int, user_id: int | None) -> None:
        now = self.clock.now()
        if row.kind == "group":
            count = notices.deactivate_group(self.db, chat_id, now)
            log.info("reminders: removed from a group, %d notices stopped", count)
            return
        if user_id is not None:
            count = rm.stop_all(self.db, user_id, now, reason="blocked")
            deactivate_user(self.db, user_id)
            log.info("reminders: a user blocked the bot, %d reminders stopped", count)


def _tick_seconds(application: Application) -> float:
    return services_of(application).settings.reminder_tick_seconds


async def on_start(application: Application) -> None:
    """Rebuild from the database: interrupted sends go back in the queue, then the first tick
    (right away) catches up with everything that came due while the bot was down."""
    svc: Services = services_of(application)
    sender = ReminderSender(
        application.bot, svc.db, svc.clock,
        running=lambda: application.running, budget=svc.bulk_budget)
    recovered = sender.sender.recover()
    active = rm.count_active(svc.db)
    log.info("reminders: %d active, %d interrupted sends re-queued", active, recovered)

    async def tick() -> None:
        stats = await sender.run_once()
        if stats.sent or stats.failed or stats.skipped or stats.blocked:
            log.info("reminders: %s", stats)

    # The next tick is counted from the end of the last one, so a long run never overlaps.
    repeat(application, tick, every=lambda: _tick_seconds(application), first=0.1,
           name="reminders")
