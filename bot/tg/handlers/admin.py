"""Admin tools on Telegram: /broadcast, /stats, /unanswered and /reload.

Who may do what:
- bot admins (ADMIN_IDS) broadcast to all subscribers, all groups, a city or a scheme, and use
  /stats, /unanswered and /reload;
- a group's admins (getChatAdministrators, cached briefly) broadcast — and pin — in their own
  group only: /broadcast in the group gives them a link to compose in private.
Everyone else is refused politely.

A confirmed broadcast runs as a background task with its own rate limiter, so answers to users
never wait behind it; its summary message becomes the one progress message, edited every few
seconds. Running broadcasts continue after a restart (see bot/broadcasts/store.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from typing import Any

import httpx
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.broadcasts.audience import Audience, Recipient, audience_values, count_audience
from bot.broadcasts.compose import BroadcastError, parse_composed, parse_when
from bot.broadcasts.runner import Broadcaster, BroadcastMessage, eta_seconds
from bot.broadcasts.store import (
    CANCELLED,
    DONE,
    RUNNING,
    SCHEDULED,
    Progress,
    add_note,
    cancel_broadcast,
    confirm_delivery,
    create_broadcast,
    due_broadcasts,
    ensure_broadcast_tables,
    get_broadcast,
    progress,
    running_broadcasts,
    set_progress_message,
    start_scheduled,
)
from bot.db.connection import parse_id
from bot.db.groups import get_group, remember_group
from bot.deadline.schemes import SCHEMES
from bot.delivery.errors import Blocked, MaybeSent, Migrated, RetryLater, SendFailed
from bot.tg.callbacks import INVALID_BUTTON, answer_query, callback_id
from bot.tg.context import Services, services
from bot.tg.sending import bulk_kwargs, retry_delay, send_text

log = logging.getLogger(__name__)

PROGRESS_SECONDS = 3.0
SCHEDULE_POLL_SECONDS = 2.0
ADMIN_CACHE_SECONDS = 120.0
ADMIN_CACHE_FAILURE_SECONDS = 10.0
SHUTDOWN_GRACE_SECONDS = 10.0
MAX_PROBLEM_LINES = 20

AUDIENCE, CITY, TEXT, CONFIRM, WHEN = range(600, 605)
DRAFT = "broadcast_draft"
RUNNER = "broadcast_runner"

# ------------------------------------------------------------------ what admins read

REFUSED_PRIVATE = (
    "抱歉，群发通知只对机器人管理员开放。\n"
    "如果您是某个群的管理员，请在那个群里发送 /broadcast，我会带您回到这里编写本群通知。"
)
REFUSED_GROUP = "抱歉，只有本群管理员可以用我给本群发通知。"
REFUSED_OTHER_GROUP = "抱歉，您不是这个群的管理员，不能给它发通知。"
REFUSED_NO_LONGER = "抱歉，您现在已经不是这个群的管理员了，这条通知没有发送。"
REFUSED_ADMIN_ONLY = "抱歉，这个命令只对机器人管理员开放。"
PRIVATE_ONLY = "这个命令请私聊我使用。"
GO_PRIVATE = "请点下面的按钮私聊我，在那里编写、预览并确认本群通知。"
GO_PRIVATE_BUTTON = "私聊我编写通知"
CHOOSE_AUDIENCE = "要把通知发给谁？"
CHOOSE_CITY = "请选择城市，或直接发城市名（例如：锦州）："
CHOOSE_SCHEME = "请选择待遇类型："
NOBODY = "这个范围里现在没有可以发送的对象，请重新选择。"
NO_CITY = "没有所在城市为“{city}”的订阅用户。请换一个城市名，或发 /cancel 取消。"
ASK_TEXT = (
    "将发给：{label}（{count} 个）。\n"
    "请发送通知内容。需要链接按钮的话，在最后几行写“按钮文字 | https://链接”，每行一个，最多6个。\n"
    "发 /cancel 取消。"
)
PREVIEW = (
    "👆 上面是预览：收到的人看到的就是这样。\n"
    "将发送给：{label}，共 {count} 个。\n"
    "确认发送吗？想改内容的话直接发一段新内容。"
)
# The example date is tomorrow, from the bot's clock: never a year that has passed.
# A group admin's notice to their own group: no counts, plain words.
ASK_TEXT_GROUP = (
    "给{label}发通知。请把通知的内容发给我，我先给您看看效果，您确认了才发。\n"
    "想在通知下面加链接按钮，就在最后一行写“按钮文字 | https://链接”。\n"
    "不发了就发 /cancel。"
)
PREVIEW_GROUP = (
    "👆 上面就是群里大家会看到的样子。\n"
    "确认发到{label}吗？想改的话，直接发一段新内容。"
)
ASK_WHEN = "几点发？请发一个时间，例如：{example}、明天 9:30、下午3点、30分钟后。发 /cancel 取消。"
SCHEDULED_OK = "⏰ 已安排：通知 #{id} 将在 {when} 发给{label}。到时我会在这里报告进度。"
COMPOSE_CANCELLED = "好的，这条通知不发了。"
DRAFT_EXPIRED = "这条草稿已经失效了，请重新发送 /broadcast。"
BAD_GROUP_LINK = "这个链接不完整或已经失效了。请在群里重新发送 /broadcast，再点我给出的按钮。"
STOP_DENIED = "只有发起人或机器人管理员可以取消这条通知。"
STOP_DONE = "已取消。"
STOP_TOO_LATE = "这条通知已经结束了。"
SCHEDULE_REFUSED = "⏹ 定时通知 #{id} 没有发送：您现在已经不是这个群的管理员了。"
SCHEDULE_CANCELLED = "⏹ 已取消定时通知 #{id}。"
CHART_CAPTION = "近30天每日提问：绿色为直接回答，黄色为给出相近话题，红色为没能回答。"
RELOAD_STARTED = "正在重新读取知识库…"
RELOAD_REJECTED = "知识库有 {n} 个问题，这次没有更新，机器人继续使用原来的知识库：\n{lines}"
RELOAD_OK = "✅ 知识库已重新加载：{summary}。"
RELOAD_FAILED = "重新加载失败（{error}），机器人继续使用原来的知识库。"
RELOAD_MISSING = "知识库目录不存在：{path}。机器人继续使用原来的知识库。"


def _is_bot_admin(svc: Services, user_id: int | None) -> bool:
    return user_id is not None and user_id in svc.settings.admin_ids


async def is_group_admin(context: ContextTypes.DEFAULT_TYPE, chat_id: int, user_id: int) -> bool:
    """Whether `user_id` administers `chat_id`, from getChatAdministrators cached briefly."""
    cache: dict[int, tuple[float, frozenset[int]]] = \
        services(context).extras.setdefault("group_admins", {})
    now = time.monotonic()
    cached = cache.get(chat_id)
    if cached is None or cached[0] < now:
        try:
            admins = await context.bot.get_chat_administrators(chat_id)
            cached = (now + ADMIN_CACHE_SECONDS, frozenset(a.user.id for a in admins))
        except TelegramError as exc:
            log.info("getChatAdministrators(%s) failed: %s", chat_id, exc)
            cached = (now + ADMIN_CACHE_FAILURE_SECONDS, frozenset())
        cache[chat_id] = cached
    return user_id in cached[1]


def link_keyboard(buttons: tuple[tuple[str, str], ...] | list) -> InlineKeyboardMarkup | None:
    rows = [[InlineKeyboardButton(label, url=url)] for label, url in buttons]
    return InlineKeyboardMarkup(rows) if rows else None


def _stop_keyboard(broadcast_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("⏹ 取消发送",
                                                       callback_data=f"bc:stop:{broadcast_id}")]])


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} 秒"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} 分 {seconds} 秒"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} 小时 {minutes} 分"


def _counts_line(p: Progress) -> str:
    line = f"已送达 {p.sent} · 未送达 {p.not_delivered}"
    if p.unconfirmed:
        line += f" · 不确定 {p.unconfirmed}"
    return line


def progress_text(row: dict[str, Any], p: Progress, eta: float | None) -> str:
    """The progress message while a broadcast runs."""
    if for_one_group(row):
        return f"📣 正在把通知 #{row['id']} 发到{row['audience_label']}……"
    lines = [f"📣 通知 #{row['id']} 发送中 · {row['audience_label']}",
             f"{_counts_line(p)} · 剩余 {p.remaining}"]
    if eta is not None and p.remaining:
        lines.append(f"预计还需约 {_duration(eta)}")
    return "\n".join(lines)


def final_text(row: dict[str, Any], p: Progress) -> str:
    head = "✅" if row["status"] == DONE else "⏹"
    state = "发送完毕" if row["status"] == DONE else "已取消"
    return f"{head} 通知 #{row['id']} {state} · {row['audience_label']}\n{_counts_line(p)}"


def for_one_group(row: dict[str, Any]) -> bool:
    """A broadcast to one group (a group admin's notice): one status message, plain words."""
    return str(row.get("audience") or "").startswith("group:")


def group_final_text(row: dict[str, Any], p: Progress) -> str:
    """How a notice to one group ended, in the one status message."""
    where = row["audience_label"]
    if row["status"] != DONE and not p.sent:
        text = f"⏹ 通知 #{row['id']} 已取消，没有发到{where}。"
    elif p.sent:
        text = f"✅ 通知 #{row['id']} 已经发到{where}。"
        if row.get("pin") and not row.get("note"):
            text += "已置顶。"
    elif p.unconfirmed:
        text = (f"⚠️ 通知 #{row['id']} 可能已经发到{where}，但发的时候网络断了，没法确认。"
                "为了不重复，没有再发，请到群里看一眼。")
    else:
        text = (f"❌ 通知 #{row['id']} 没能发到{where}。"
                "可能机器人已经不在这个群里了，或者群里不让它发言。")
    return f"{text}\n{row['note']}" if row.get("note") else text


def report_text(row: dict[str, Any], p: Progress) -> str:
    """The final report, sent as a new message when a broadcast ends: what is known."""
    title = "发送报告" if row["status"] == DONE else "已取消，发送报告"
    delivered = f"已送达 {p.sent}"
    if p.confirmed:
        delivered += f"（其中 {p.confirmed} 条原本不确定，后来由对方的回复确认送达）"
    if p.resent:
        delivered += (f"（其中 {p.resent} 条发送时进程中断，重启后又发了一次，"
                      "这几位可能收到两次）")
    lines = [f"📋 通知 #{row['id']} {title}", f"对象：{row['audience_label']}，共 {p.total} 个",
             delivered,
             f"未送达 {p.not_delivered}（发送失败 {p.failed}，"
             f"屏蔽或已退群 {p.blocked}，以后不再发给他们）",
             f"不确定 {p.unconfirmed}" + ("（发送时网络断开，Telegram 无法查询是否送达；"
                                         "为避免重复没有重发。对方回复这条通知后会计为"
                                         "已送达）" if p.unconfirmed else "")]
    if p.skipped:
        lines.append(f"跳过 {p.skipped}（群已升级，名单里已有新群）")
    if p.cancelled:
        lines.append(f"未发送 {p.cancelled}（已取消）")
    started, finished = row.get("started_at"), row.get("finished_at")
    if started and finished:
        seconds = (dt.datetime.fromisoformat(finished) -
                   dt.datetime.fromisoformat(started)).total_seconds()
        lines.append(f"用时 {_duration(seconds)}")
    if row.get("note"):
        lines.append(row["note"])
    return "\n".join(lines)


# ------------------------------------------------------------------ the background runner


def _not_sent(exc: NetworkError) -> bool:
    """Whether a network error certainly happened before Telegram got the message."""
    cause = exc.__cause__
    if isinstance(exc, TimedOut):
        return isinstance(cause, httpx.PoolTimeout)
    # No httpx cause: Telegram answered with a server error (5xx), so nothing was sent.
    return cause is None or isinstance(cause, httpx.ConnectError)


class BroadcastRunner:
    """Runs broadcasts in the background: progress message, final report, schedule, resume."""

    def __init__(self, application: Application) -> None:
        self.application = application
        self.broadcasters: dict[int, Broadcaster] = {}
        self.tasks: dict[int, asyncio.Task] = {}
        self._scheduler: asyncio.Task | None = None

    @property
    def svc(self) -> Services:
        return self.application.bot_data["services"]

    # -------------------------------------------------------------- lifecycle

    async def on_start(self, _application: Application) -> None:
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
        if row["created_by"] in svc.settings.admin_ids or audience.kind != "group":
            return True
        try:
            member = await bot.get_chat_member(int(audience.value), row["created_by"])
            allowed = member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
        except NetworkError as exc:
            log.info("broadcast %s: admin check postponed: %s", broadcast_id, exc)
            return False
        except TelegramError:
            allowed = False
        if allowed:
            return True
        if cancel_broadcast(svc.db, broadcast_id, row["created_by"], svc.clock.now()):
            add_note(svc.db, broadcast_id, "发起人已不是群管理员，定时通知已取消。")
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
                                          reply_markup=_stop_keyboard(broadcast_id))
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
                    reply_markup=_stop_keyboard(broadcast_id))

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
            raise RetryLater(retry_delay(exc)) from exc
        except Forbidden as exc:
            raise Blocked(exc.message) from exc
        except ChatMigrated as exc:
            raise Migrated(exc.new_chat_id) from exc
        except BadRequest as exc:
            raise SendFailed(exc.message) from exc
        except NetworkError as exc:
            if _not_sent(exc):
                raise RetryLater(2.0, f"网络错误：{exc.message}", transient=True) from exc
            raise MaybeSent(f"网络错误，可能已送达，不再重发：{exc.message}") from exc
        if message.pin and recipient.kind == "group":
            try:
                await bot.pin_chat_message(recipient.chat_id, sent.message_id)
            except TelegramError as exc:
                add_note(self.svc.db, message.broadcast_id,
                         f"置顶失败（{exc.message}）：请把机器人设为管理员并允许置顶。")
        return sent.message_id


def _runner(context: ContextTypes.DEFAULT_TYPE) -> BroadcastRunner:
    return context.application.bot_data[RUNNER]


# ------------------------------------------------------------------ composing a broadcast


def _audience_keyboard(svc: Services) -> InlineKeyboardMarkup:
    db = svc.db
    users = count_audience(db, Audience("users"))
    groups = count_audience(db, Audience("groups"))
    rows = [
        [InlineKeyboardButton(f"所有订阅用户（{users}）", callback_data="bc:a:users")],
        [InlineKeyboardButton(f"所有群（{groups}）", callback_data="bc:a:groups")],
        [InlineKeyboardButton(f"用户和群（{users + groups}）", callback_data="bc:a:everyone")],
        [InlineKeyboardButton("按城市", callback_data="bc:a:city"),
         InlineKeyboardButton("按待遇类型", callback_data="bc:a:scheme")],
        [InlineKeyboardButton("取消", callback_data="bc:x")],
    ]
    return InlineKeyboardMarkup(rows)


def _values_keyboard(svc: Services, column: str) -> InlineKeyboardMarkup:
    prefix = "c" if column == "city" else "s"
    rows = []
    for value, n in audience_values(svc.db, column):
        name = SCHEMES[value].short if column == "scheme" and value in SCHEMES else value
        data = f"bc:a:{prefix}:{value}"
        if len(data.encode()) <= 64:
            rows.append([InlineKeyboardButton(f"{name}（{n}）", callback_data=data)])
    rows.append([InlineKeyboardButton("返回", callback_data="bc:a:menu")])
    return InlineKeyboardMarkup(rows)


def _confirm_keyboard(for_group: bool) -> InlineKeyboardMarkup:
    first = [InlineKeyboardButton("✅ 立即发送", callback_data="bc:go")]
    if for_group:
        first.append(InlineKeyboardButton("📌 发送并置顶", callback_data="bc:pin"))
    return InlineKeyboardMarkup([first,
                                 [InlineKeyboardButton("⏰ 定时发送", callback_data="bc:when"),
                                  InlineKeyboardButton("❌ 取消", callback_data="bc:x")]])


def _scheme_names() -> dict[str, str]:
    return {key: scheme.short for key, scheme in SCHEMES.items()}


async def broadcast_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/broadcast: bot admins start composing; in a group, its admins get a private link."""
    svc = services(context)
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    user_id = user.id if user else None
    if chat.type != ChatType.PRIVATE:
        remember_group(svc.db, chat.id, chat.title or "", svc.clock.now())
        allowed = _is_bot_admin(svc, user_id) or (
            user_id is not None and await is_group_admin(context, chat.id, user_id))
        if not allowed:
            await message.reply_text(REFUSED_GROUP)
            return ConversationHandler.END
        link = f"https://t.me/{context.bot.username}?start=bc_{chat.id}"
        await message.reply_text(GO_PRIVATE, reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(GO_PRIVATE_BUTTON, url=link)]]))
        return ConversationHandler.END
    if not _is_bot_admin(svc, user_id):
        await message.reply_text(REFUSED_PRIVATE)
        return ConversationHandler.END
    context.user_data[DRAFT] = {}
    await message.reply_text(CHOOSE_AUDIENCE, reply_markup=_audience_keyboard(svc))
    return AUDIENCE


async def start_for_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/start bc_<group id> (the link from /broadcast in a group): compose for that group."""
    svc = services(context)
    user, message = update.effective_user, update.effective_message
    chat_id = parse_id(message.text.split("bc_", 1)[1], positive=False)
    if chat_id is None or chat_id >= 0:
        await message.reply_text(BAD_GROUP_LINK)
        return ConversationHandler.END
    allowed = _is_bot_admin(svc, user.id) or await is_group_admin(context, chat_id, user.id)
    if not allowed:
        await message.reply_text(REFUSED_OTHER_GROUP)
        return ConversationHandler.END
    title = (get_group(svc.db, chat_id) or {}).get("title") or str(chat_id)
    audience = Audience("group", str(chat_id))
    context.user_data[DRAFT] = {"audience": audience.key, "label": f"群“{title}”"}
    await message.reply_text(ASK_TEXT_GROUP.format(label=f"群“{title}”"))
    return TEXT


async def audience_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """A button of the audience menu."""
    svc = services(context)
    query = update.callback_query
    await answer_query(query)
    choice = (query.data or "").removeprefix("bc:a:")
    if choice == "menu":
        await query.edit_message_text(CHOOSE_AUDIENCE, reply_markup=_audience_keyboard(svc))
        return AUDIENCE
    if choice == "city":
        await query.edit_message_text(CHOOSE_CITY, reply_markup=_values_keyboard(svc, "city"))
        return CITY
    if choice == "scheme":
        await query.edit_message_text(CHOOSE_SCHEME,
                                      reply_markup=_values_keyboard(svc, "scheme"))
        return AUDIENCE
    if choice.startswith("c:"):
        audience = Audience("city", choice[2:])
    elif choice.startswith("s:"):
        audience = Audience("scheme", choice[2:])
    elif choice in ("users", "groups", "everyone"):
        audience = Audience(choice)
    else:
        return AUDIENCE
    return await _audience_selected(update, context, audience)


async def city_typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """A city name typed instead of picked."""
    svc = services(context)
    name = (update.effective_message.text or "").strip()
    candidates = [name]
    try:
        from bot.deadline.place_names import lookup_region

        region = lookup_region(name)
        if region is not None:
            candidates = [region.short, region.name, name]
    except ImportError:  # region data not installed: match the name as typed
        pass
    for candidate in dict.fromkeys(candidates):
        audience = Audience("city", candidate)
        if count_audience(svc.db, audience):
            return await _audience_selected(update, context, audience)
    await update.effective_message.reply_text(NO_CITY.format(city=name))
    return CITY


async def _audience_selected(update: Update, context: ContextTypes.DEFAULT_TYPE,
                             audience: Audience) -> int:
    svc = services(context)
    count = count_audience(svc.db, audience)
    query = update.callback_query
    if not count:
        if query:
            await query.edit_message_text(NOBODY, reply_markup=_audience_keyboard(svc))
        else:
            await update.effective_message.reply_text(NOBODY,
                                                      reply_markup=_audience_keyboard(svc))
        return AUDIENCE
    label = audience.label(_scheme_names())
    context.user_data[DRAFT] = {"audience": audience.key, "label": label}
    text = ASK_TEXT.format(label=label, count=count)
    if query:
        await query.edit_message_text(text)
    else:
        await update.effective_message.reply_text(text)
    return TEXT


async def text_received(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """The announcement itself: show it exactly as recipients will see it, then ask."""
    svc = services(context)
    draft = context.user_data.get(DRAFT) or {}
    message = update.effective_message
    if "audience" not in draft:
        await message.reply_text(DRAFT_EXPIRED)
        return ConversationHandler.END
    try:
        composed = parse_composed(message.text or "")
    except BroadcastError as problem:
        await message.reply_text(f"{problem}\n请修改后再发一次，或发 /cancel 取消。")
        return TEXT
    draft["composed"] = composed
    audience = Audience.parse(draft["audience"])
    count = count_audience(svc.db, audience)
    await message.reply_text(composed.text, reply_markup=link_keyboard(composed.buttons))
    preview = PREVIEW_GROUP if audience.kind == "group" else PREVIEW
    await message.reply_text(preview.format(label=draft["label"], count=count),
                             reply_markup=_confirm_keyboard(audience.kind == "group"))
    return CONFIRM


async def _still_allowed(context: ContextTypes.DEFAULT_TYPE, audience: Audience,
                         user_id: int) -> bool:
    """At the moment of sending: asked of Telegram afresh (getChatMember), never the cache,
    so an admin demoted while composing cannot send."""
    svc = services(context)
    if _is_bot_admin(svc, user_id):
        return True
    if audience.kind != "group":
        return False
    chat_id = int(audience.value)
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError as exc:
        log.info("getChatMember(%s) failed: %s", chat_id, exc)
        return False
    allowed = member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
    if not allowed:  # forget the cached list, which still has them
        svc.extras.get("group_admins", {}).pop(chat_id, None)
    return allowed


async def confirm_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """立即发送 / 发送并置顶 / 定时发送 / 取消 under the preview."""
    svc = services(context)
    query = update.callback_query
    await answer_query(query)
    draft = context.user_data.get(DRAFT) or {}
    if query.data == "bc:x":
        context.user_data.pop(DRAFT, None)
        await query.edit_message_text(COMPOSE_CANCELLED)
        return ConversationHandler.END
    if "composed" not in draft:
        await query.edit_message_text(DRAFT_EXPIRED)
        return ConversationHandler.END
    audience = Audience.parse(draft["audience"])
    if not await _still_allowed(context, audience, query.from_user.id):
        context.user_data.pop(DRAFT, None)
        await query.edit_message_text(REFUSED_NO_LONGER)
        return ConversationHandler.END
    if query.data == "bc:when":
        example = f"{svc.clock.now() + dt.timedelta(days=1):%Y-%m-%d} 09:30"
        await query.edit_message_text(ASK_WHEN.format(example=example))
        return WHEN
    broadcast_id = create_broadcast(
        svc.db, created_by=query.from_user.id, origin_chat_id=query.message.chat_id,
        composed=draft["composed"], audience=audience, audience_label=draft["label"],
        now=svc.clock.now(), pin=query.data == "bc:pin" and audience.kind == "group")
    context.user_data.pop(DRAFT, None)
    # The summary message becomes the progress message: one message per broadcast.
    set_progress_message(svc.db, broadcast_id, query.message.chat_id, query.message.message_id)
    row = get_broadcast(svc.db, broadcast_id)
    assert row is not None
    await query.edit_message_text(progress_text(row, progress(svc.db, broadcast_id), None),
                                  reply_markup=_stop_keyboard(broadcast_id))
    _runner(context).start(broadcast_id)
    return ConversationHandler.END


async def when_typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """The send time for a scheduled broadcast."""
    svc = services(context)
    draft = context.user_data.get(DRAFT) or {}
    message = update.effective_message
    if "composed" not in draft:
        await message.reply_text(DRAFT_EXPIRED)
        return ConversationHandler.END
    try:
        when = parse_when(message.text or "", svc.clock.now())
    except BroadcastError as problem:
        await message.reply_text(f"{problem}\n请再发一次时间，或发 /cancel 取消。")
        return WHEN
    if not await _still_allowed(context, Audience.parse(draft["audience"]),
                                update.effective_user.id):
        context.user_data.pop(DRAFT, None)
        await message.reply_text(REFUSED_NO_LONGER)
        return ConversationHandler.END
    broadcast_id = create_broadcast(
        svc.db, created_by=update.effective_user.id, origin_chat_id=message.chat_id,
        composed=draft["composed"], audience=Audience.parse(draft["audience"]),
        audience_label=draft["label"], now=svc.clock.now(), scheduled_at=when)
    context.user_data.pop(DRAFT, None)
    await message.reply_text(
        SCHEDULED_OK.format(id=broadcast_id, when=f"{when:%Y-%m-%d %H:%M}", label=draft["label"]),
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(
            "取消这条定时通知", callback_data=f"bc:stop:{broadcast_id}")]]))
    return ConversationHandler.END


async def cancel_compose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    context.user_data.pop(DRAFT, None)
    await update.effective_message.reply_text(COMPOSE_CANCELLED)
    return ConversationHandler.END


async def stop_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """⏹ under a progress message or a scheduled confirmation."""
    svc = services(context)
    query = update.callback_query
    broadcast_id = callback_id(query.data, 2)
    if broadcast_id is None or (query.data or "").count(":") != 2:
        await answer_query(query, INVALID_BUTTON, alert=True)
        return
    row = get_broadcast(svc.db, broadcast_id)
    if row is None:
        await answer_query(query, STOP_TOO_LATE)
        return
    if not (_is_bot_admin(svc, query.from_user.id) or row["created_by"] == query.from_user.id):
        await answer_query(query, STOP_DENIED, alert=True)
        return
    was_scheduled = row["status"] == SCHEDULED
    ok = _runner(context).cancel(broadcast_id, query.from_user.id)
    await answer_query(query, STOP_DONE if ok else STOP_TOO_LATE)
    if ok and was_scheduled:
        with contextlib.suppress(TelegramError):
            await query.edit_message_text(SCHEDULE_CANCELLED.format(id=broadcast_id))
    elif not ok and row["status"] not in (RUNNING, SCHEDULED):
        with contextlib.suppress(TelegramError):
            await query.edit_message_reply_markup(None)


def broadcast_conversation() -> ConversationHandler:
    private = filters.ChatType.PRIVATE
    private_text = private & filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[
            CommandHandler("broadcast", broadcast_command),
            CommandHandler("start", start_for_group,
                           filters=private & filters.Regex(r"^/start\s+bc_-[0-9]+\s*$")),
        ],
        states={
            AUDIENCE: [CallbackQueryHandler(audience_chosen, pattern=r"^bc:a:"),
                       CallbackQueryHandler(confirm_pressed, pattern=r"^bc:x$")],
            CITY: [CallbackQueryHandler(audience_chosen, pattern=r"^bc:a:"),
                   MessageHandler(private_text, city_typed)],
            TEXT: [MessageHandler(private_text, text_received)],
            CONFIRM: [CallbackQueryHandler(confirm_pressed, pattern=r"^bc:(go|pin|when|x)$"),
                      MessageHandler(private_text, text_received)],
            WHEN: [MessageHandler(private_text, when_typed)],
        },
        fallbacks=[CommandHandler("cancel", cancel_compose)],
        name="broadcast",
        conversation_timeout=30 * 60,
        allow_reentry=True,
    )


async def reply_to_bot(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply to one of the bot's messages: proof that a broadcast of unknown delivery arrived.

    Runs in its own handler group, next to whatever answers the message.
    """
    message = update.effective_message
    replied = message.reply_to_message if message else None
    if replied is None or replied.from_user is None or replied.from_user.id != context.bot.id \
            or not replied.text:
        return
    svc = services(context)
    if confirm_delivery(svc.db, message.chat_id, replied.text, svc.clock.now()):
        log.info("broadcast: a delivery of unknown outcome was confirmed by a reply")


# ------------------------------------------------------------------ statistics and knowledge


async def _admin_in_private(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    svc = services(context)
    user = update.effective_user
    if not _is_bot_admin(svc, user.id if user else None):
        await update.effective_message.reply_text(REFUSED_ADMIN_ONLY)
        return False
    if update.effective_chat.type != ChatType.PRIVATE:
        await update.effective_message.reply_text(PRIVATE_ONLY)
        return False
    return True


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats: the numbers as text, then the last 30 days as a chart; in a group, that
    group's numbers for its admins (bot.tg.handlers.group)."""
    if update.effective_chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
        from bot.tg.handlers.group import group_stats

        await group_stats(update, context)
        return
    if not await _admin_in_private(update, context):
        return
    from bot.stats import collect_stats, format_stats, render_chart

    svc = services(context)
    stats = collect_stats(svc.db, svc.clock.today())
    titles = {entry_id: entry.question for entry_id, entry in svc.engine.kb.entries.items()}
    await update.effective_message.reply_text(format_stats(stats, titles))
    png = await asyncio.to_thread(render_chart, stats)
    await update.effective_message.reply_photo(png, caption=CHART_CAPTION)


async def unanswered_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unanswered: what people ask that the bot cannot answer (or answers badly)."""
    if not await _admin_in_private(update, context):
        return
    from bot.stats import format_unanswered, unanswered_questions

    svc = services(context)
    items = unanswered_questions(svc.db, svc.clock.today())
    await send_text(context.bot, update.effective_chat.id, format_unanswered(items))


def _reload_engine(directory, build_engine):
    """Region data is read again from the same directory as the knowledge base, then the
    engine (its place words come from the region data) is built."""
    from bot.deadline.region_data import use_knowledge_dir

    use_knowledge_dir(directory)
    return build_engine(directory)


async def reload_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload: re-read the knowledge directory; any problem keeps the old knowledge."""
    if not await _admin_in_private(update, context):
        return
    from bot.qa.check import check_problems
    from bot.qa.engine import build_engine

    svc = services(context)
    message = update.effective_message
    lock: asyncio.Lock = svc.extras.setdefault("reload_lock", asyncio.Lock())
    directory = svc.settings.knowledge_dir
    async with lock:
        if not directory.is_dir():
            await message.reply_text(RELOAD_MISSING.format(path=directory))
            return
        await message.reply_text(RELOAD_STARTED)
        try:
            problems, summary = await asyncio.to_thread(check_problems, directory)
            if problems:
                shown = problems[:MAX_PROBLEM_LINES]
                if len(problems) > len(shown):
                    shown.append(f"……另有 {len(problems) - len(shown)} 个问题，"
                                 "可用 python -m bot kb check 查看全部")
                await send_text(context.bot, message.chat_id, RELOAD_REJECTED.format(
                    n=len(problems), lines="\n".join(shown)))
                return
            engine = await asyncio.to_thread(_reload_engine, directory, build_engine)
        except Exception as exc:  # whatever went wrong, the running engine stays
            log.exception("reload failed")
            await message.reply_text(RELOAD_FAILED.format(error=type(exc).__name__))
            return
        svc.engine = engine
        log.info("knowledge reloaded from %s: %s", directory, summary)
        await message.reply_text(RELOAD_OK.format(summary=summary))


# ------------------------------------------------------------------ wiring


def register(application: Application) -> None:
    """Add the admin handlers and the background runner to the application."""
    svc: Services = application.bot_data["services"]
    ensure_broadcast_tables(svc.db)
    runner = BroadcastRunner(application)
    application.bot_data[RUNNER] = runner
    application.bot_data.setdefault("on_start", []).append(runner.on_start)
    previous_post_stop = application.post_stop

    async def post_stop(app: Application) -> None:
        await runner.on_stop()
        if previous_post_stop is not None:
            await previous_post_stop(app)

    application.post_stop = post_stop

    application.add_handler(broadcast_conversation())
    application.add_handler(CallbackQueryHandler(stop_pressed, pattern=r"^bc:stop:"))
    application.add_handler(MessageHandler(filters.REPLY, reply_to_bot), group=2)
    # Charts and knowledge builds take a moment: never hold up other users' updates.
    application.add_handler(CommandHandler("stats", stats_command, block=False))
    application.add_handler(CommandHandler("unanswered", unanswered_command))
    application.add_handler(CommandHandler("reload", reload_command, block=False))
