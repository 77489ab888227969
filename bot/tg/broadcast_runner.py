"""Broadcasts in the background: the paced run of each one, its one progress message (edited
every few seconds), the final report, scheduled ones when they fall due, and resuming running
ones after a restart (see bot/broadcasts/store.py).

Each broadcast runs as its own task with its own rate limiter, so answers to users never wait
behind it. Telegram's errors become the signals of `bot.delivery.errors` here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application

from bot.broadcasts.audience import Audience, Recipient
from bot.broadcasts.runner import Broadcaster, BroadcastMessage, eta_seconds
from bot.broadcasts.store import (
    CANCELLED,
    DONE,
    add_note,
    cancel_broadcast,
    due_broadcasts,
    get_broadcast,
    progress,
    running_broadcasts,
    set_progress_message,
    start_scheduled,
)
from bot.delivery.errors import Blocked, MaybeSent, Migrated, RetryLater, SendFailed
from bot.delivery.pacing import retry_after_seconds
from bot.tg.broadcast_keyboards import link_keyboard, stop_keyboard
from bot.tg.broadcast_texts import (
    SCHEDULE_REFUSED,
    final_text,
    for_one_group,
    group_final_text,
    progress_text,
    report_text,
)
from bot.tg.context import Services, services_of
from bot.tg.permissions import is_bot_admin, is_group_admin_now
from bot.tg.sending import bulk_kwargs, certainly_not_sent, send_text

log = logging.getLogger(__name__)

PROGRESS_SECONDS = 3.0
SCHEDULE_POLL_SECONDS = 2.0
SHUTDOWN_GRACE_SECONDS = 10.0


class BroadcastRunner:
    """Runs broadcasts in the background: progress message, final report, schedule, resume."""

    def __init__(self, application: Application) -> None:
        self.application = application
        self.broadcasters: dict[int, Broadcaster] = {}
        self.tasks: dict[int, asyncio.Task] = {}
        self._scheduler: asyncio.Task | None = None

    @property
    def svc(self) -> Services:
        return services_of(self.application)

    # -------------------------------------------------------------- lifecycle

    async def on_start(self) -> None:
        for broadcast_id in running_broadcasts(self.svc.db):
            log.info("resuming broadcast %s", broadcast_id)
            self.start(broadcast_id)
        self._scheduler = asyncio.create_task(self._schedule_loop())

    async def on_stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.cancel()
        for broadcaster in self.broadcasters.values():
            broadcaster.pause()
        tasks = [t for t in self.tasks.values() if not t.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_SECONDS)

    async def _schedule_loop(self) -> None:
        while True:
            try:
                for broadcast_id in due_broadcasts(self.svc.db, self.svc.clock.now()):
                    if not await self._creator_still_allowed(broadcast_id):
                        continue
                    if start_scheduled(self.svc.db, broadcast_id, self.svc.clock.now()):
                        self.start(broadcast_id)
            except Exception:  # keep scheduling whatever one row does
                log.exception("broadcast scheduler")
            await asyncio.sleep(SCHEDULE_POLL_SECONDS)

    async def _creator_still_allowed(self, broadcast_id: int) -> bool:
        """A group admin's scheduled notice goes out only if they are still an admin then.

        Asked of Telegram at that moment; a network error leaves it for the next check.
        """
        svc, bot = self.svc, self.application.bot
        row = get_broadcast(svc.db, broadcast_id)
        if row is None:
            return False
        audience = Audience.parse(row["audience"])
        if is_bot_admin(svc, row["created_by"]) or audience.kind != "group":
            return True
        allowed = await is_group_admin_now(bot, int(audience.value), row["created_by"])
        if allowed is None:
            log.info("broadcast %s: admin check postponed", broadcast_id)
            return False
        if allowed:
            return True
        if cancel_broadcast(svc.db, broadcast_id, row["created_by"], svc.clock.now()):
            add_note(svc.db, broadcast_id,
                     "没能确认发起人还是群管理员（或机器人已不在群里），定时通知已取消。")
            log.info("broadcast %s: creator no longer a group admin, cancelled", broadcast_id)
            with contextlib.suppress(TelegramError):
                await send_text(bot, row["origin_chat_id"],
                                SCHEDULE_REFUSED.format(id=broadcast_id))
        return False

    # -------------------------------------------------------------- control

    def start(self, broadcast_id: int) -> None:
        if broadcast_id in self.tasks and not self.tasks[broadcast_id].done():
            return
        self.tasks[broadcast_id] = asyncio.create_task(self._run(broadcast_id))

    def cancel(self, broadcast_id: int, by: int) -> bool:
        ok = cancel_broadcast(self.svc.db, broadcast_id, by, self.svc.clock.now())
        broadcaster = self.broadcasters.get(broadcast_id)
        if broadcaster is not None:
            broadcaster.cancel()
        return ok

    # -------------------------------------------------------------- one broadcast

    async def _run(self, broadcast_id: int) -> None:
        svc, bot = self.svc, self.application.bot
        row = get_broadcast(svc.db, broadcast_id)
        if row is None:
            return
        if row["progress_message_id"] is None:
            with contextlib.suppress(TelegramError):
                message = await send_text(bot, row["origin_chat_id"],
                                          progress_text(row, progress(svc.db, broadcast_id),
                                                        None),
                                          reply_markup=stop_keyboard(broadcast_id))
                set_progress_message(svc.db, broadcast_id, message.chat_id, message.message_id)
        broadcaster = Broadcaster(svc.db, broadcast_id, self._send,
                                  rate=svc.settings.broadcast_rate, now=svc.clock.now,
                                  budget=svc.bulk_budget)
        self.broadcasters[broadcast_id] = broadcaster
        ticker = asyncio.create_task(self._tick(broadcast_id, broadcaster))
        result = None
        try:
            result = await broadcaster.run()
        except Exception:
            log.exception("broadcast %s stopped by an error; it resumes on restart", broadcast_id)
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            self.broadcasters.pop(broadcast_id, None)
        if result is not None and result.status in (DONE, CANCELLED):
            log.info("broadcast %s %s: %s in %.1fs", broadcast_id, result.status,
                     result.progress.as_dict(), result.seconds)
            await self._report(broadcast_id)

    async def _tick(self, broadcast_id: int, broadcaster: Broadcaster) -> None:
        last = ""
        while True:
            await asyncio.sleep(PROGRESS_SECONDS)
            row = get_broadcast(self.svc.db, broadcast_id)
            if row is None or row["progress_message_id"] is None:
                continue
            p = progress(self.svc.db, broadcast_id)
            text = progress_text(row, p, eta_seconds(p.remaining, broadcaster.rate,
                                                     broadcaster.observed_rate))
            if text == last:
                continue
            last = text
            with contextlib.suppress(TelegramError):  # a missed tick is harmless
                await self.application.bot.edit_message_text(
                    text, row["progress_chat_id"], row["progress_message_id"],
                    reply_markup=stop_keyboard(broadcast_id))

    async def _report(self, broadcast_id: int) -> None:
        row = get_broadcast(self.svc.db, broadcast_id)
        if row is None:
            return
        p = progress(self.svc.db, broadcast_id)
        bot = self.application.bot
        if for_one_group(row) and row["progress_message_id"] is not None:
            try:  # one status message per group notice: the end is told in it
                await bot.edit_message_text(group_final_text(row, p), row["progress_chat_id"],
                                            row["progress_message_id"])
                return
            except TelegramError as exc:  # deleted or too old to edit: send it instead
                log.info("broadcast %s: status not edited: %s", broadcast_id, exc)
            with contextlib.suppress(TelegramError):
                await send_text(bot, row["origin_chat_id"], group_final_text(row, p))
            return
        if row["progress_message_id"] is not None:
            with contextlib.suppress(TelegramError):
                await bot.edit_message_text(final_text(row, p), row["progress_chat_id"],
                                            row["progress_message_id"])
        try:
            await send_text(bot, row["origin_chat_id"], report_text(row, p),
                            reply_to=row["progress_message_id"])
        except TelegramError as exc:
            log.warning("broadcast %s: final report not delivered: %s", broadcast_id, exc)

    async def _send(self, recipient: Recipient, message: BroadcastMessage) -> int | None:
        """One delivery, with Telegram's errors turned into the sender's vocabulary."""
        bot = self.application.bot
        try:
            sent = await bot.send_message(recipient.chat_id, message.text,
                                          reply_markup=link_keyboard(message.buttons),
                                          **bulk_kwargs(bot))
        except RetryAfter as exc:
            raise RetryLater(retry_after_seconds(exc)) from exc
        except Forbidden as exc:
            raise Blocked(exc.message) from exc
        except ChatMigrated as exc:
            raise Migrated(exc.new_chat_id) from exc
        except BadRequest as exc:
            raise SendFailed(exc.message) from exc
        except NetworkError as exc:
            if certainly_not_sent(exc):
                raise RetryLater(2.0, f"网络错误：{exc.message}", transient=True) from exc
            raise MaybeSent(f"网络错误，可能已送达，不再重发：{exc.message}") from exc
        if message.pin and recipient.kind == "group":
            try:
                await bot.pin_chat_message(recipient.chat_id, sent.message_id)
            except TelegramError as exc:
                add_note(self.svc.db, message.broadcast_id,
                         f"置顶失败（{exc.message}）：请把机器人设为管理员并允许置顶。")
        return sent.message_id
