"""Broadcasts: who receives them, a durable outbox, and a paced sender that survives restarts.

Nothing here knows Telegram. The sender is handed an async `send` function; the Telegram
adapter (`bot/tg/handlers/admin.py`) turns Telegram's errors into the exceptions below, and
`classify_error` turns those into the shared sender's vocabulary. The send itself, its
outbox writes and its retries are `bot.delivery.sender`'s (shared with reminders);
`Broadcaster` picks the rows, paces them (overall budget, per chat, per group), keeps a few
in flight, and follows a migrated group through the outbox.

Durability: every recipient gets an outbox row before anything is sent, and a row is marked
`sending` (committed) before its request goes out. After a crash, rows still `sending` are
ambiguous — Telegram offers no way to ask whether a message arrived — so they are sent again
(`recover_in_flight`): nobody misses a notice, and a crash repeats at most the messages that
were in flight at that moment (one at a time at the local pace; at most the broadcast's
concurrency). A reply to such a message before it went out again proves it arrived: it is then
not resent (`confirm_delivery`). Only a request whose answer was lost while the process kept
running (`MaybeSent`) stays `unknown`, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import math
import re
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from bot.db.connection import apply_migrations, transaction
from bot.db.groups import active_group_chats, deactivate_group, migrate_group
from bot.db.users import active_user_chats, deactivate_user_chat, most_common
from bot.delivery import sender as delivery
from bot.delivery.pacing import (  # noqa: F401  (re-exported for the senders and tests)
    PER_CHAT_PER_SECOND,
    PER_GROUP_PER_MINUTE,
    RateLimiter,
    TokenBucket,
    bulk_budget,
)
from bot.errors import DateParseError
from bot.text.dates import parse_send_time

log = logging.getLogger(__name__)

# Outbox row states.
PENDING, SENDING, SENT = "pending", "sending", "sent"
FAILED, BLOCKED, UNKNOWN = "failed", "blocked", "unknown"
SKIPPED, CANCELLED = "skipped", "cancelled"
# Broadcast states.
SCHEDULED, RUNNING, DONE = "scheduled", "running", "done"

MAX_TEXT_UTF16 = 4000  # Telegram allows 4096; one message per recipient, never split
MAX_BUTTONS = 6
MAX_BUTTON_LABEL = 30
MAX_ATTEMPTS = 5  # per recipient, once transient errors are involved
MAX_SCHEDULE_AHEAD = dt.timedelta(days=30)
FETCH_BATCH = 200


# ------------------------------------------------------------------ what the send function raises


class RetryLater(Exception):
    """Not delivered; try again after `seconds`.

    Flood control (`transient=False`) is Telegram pacing the bot, never the recipient's fault:
    it is retried for as long as it takes. Transient errors count towards MAX_ATTEMPTS.
    """

    def __init__(self, seconds: float, reason: str = "flood control", *,
                 transient: bool = False) -> None:
        super().__init__(reason)
        self.seconds = max(0.0, float(seconds))
        self.reason = reason
        self.transient = transient


class Blocked(Exception):
    """The recipient blocked the bot, deleted the account, or removed the bot from the group."""


class Migrated(Exception):
    """The group became a supergroup with a new id."""

    def __init__(self, new_chat_id: int) -> None:
        super().__init__(f"migrated to {new_chat_id}")
        self.new_chat_id = new_chat_id


class SendFailed(Exception):
    """Not delivered and not worth retrying."""


class MaybeSent(Exception):
    """The request may have reached Telegram (the answer was lost): unknown, never resent."""


# ------------------------------------------------------------------ schema


BROADCAST_SCHEMA = Migrations("broadcasts")


@BROADCAST_SCHEMA(name="0001_tables")
def _tables(db: sqlite_utils.Database) -> None:
    db["broadcasts"].create(
        {"id": int, "created_at": str, "created_by": int, "origin_chat_id": int, "text": str,
         "buttons": str, "audience": str, "audience_label": str, "pin": int, "status": str,
         "scheduled_at": str, "started_at": str, "finished_at": str, "total": int, "sent": int,
         "failed": int, "blocked": int, "unconfirmed": int, "progress_chat_id": int,
         "progress_message_id": int, "cancelled_by": int, "note": str},
        pk="id", if_not_exists=True,
        defaults={"pin": 0, "total": 0, "sent": 0, "failed": 0, "blocked": 0,
                  "unconfirmed": 0},
    )
    db["broadcast_outbox"].create(
        {"id": int, "broadcast_id": int, "chat_id": int, "kind": str, "status": str,
         "attempts": int, "message_id": int, "error": str, "migrated_from": int,
         "updated_at": str},
        pk="id", if_not_exists=True, defaults={"attempts": 0},
        foreign_keys=[("broadcast_id", "broadcasts", "id")],
    )
    db["broadcast_outbox"].create_index(["broadcast_id", "chat_id"], unique=True,
                                        if_not_exists=True)
    db["broadcast_outbox"].create_index(["broadcast_id", "status"], if_not_exists=True)


@BROADCAST_SCHEMA(name="0002_outbox_confirmed_at")
def _confirmed_at(db: sqlite_utils.Database) -> None:
    """When a delivery of unknown outcome was later confirmed (a reply to the message)."""
    if "confirmed_at" not in db["broadcast_outbox"].columns_dict:
        db["broadcast_outbox"].add_column("confirmed_at", str)


def ensure_broadcast_tables(db: sqlite_utils.Database) -> None:
    """Create the audit log and the outbox, or bring them up to date."""
    apply_migrations(db, BROADCAST_SCHEMA)


_transaction = transaction  # the one transaction helper (bot.db.connection)


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


# ------------------------------------------------------------------ audiences


AUDIENCE_KINDS = ("users", "groups", "everyone", "city", "scheme", "group")


@dataclass(frozen=True)
class Audience:
    """Who a broadcast goes to: all subscribers, all groups, both, a city, a scheme, one group."""

    kind: str
    value: str = ""

    def __post_init__(self) -> None:
        if self.kind not in AUDIENCE_KINDS:
            raise ValueError(f"unknown audience {self.kind!r}")
        if self.kind in ("city", "scheme", "group") and not self.value:
            raise ValueError(f"audience {self.kind!r} needs a value")
        if self.kind == "group" and not re.fullmatch(r"-[0-9]+", self.value):
            raise ValueError(f"not a group id: {self.value!r}")

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}" if self.value else self.kind

    @classmethod
    def parse(cls, key: str) -> Audience:
        kind, _, value = key.partition(":")
        return cls(kind, value)

    def label(self, scheme_names: dict[str, str] | None = None) -> str:
        """How the audience is named to admins."""
        if self.kind == "users":
            return "所有订阅用户"
        if self.kind == "groups":
            return "所有群"
        if self.kind == "everyone":
            return "所有订阅用户和群"
        if self.kind == "city":
            return f"{self.value}的订阅用户"
        if self.kind == "scheme":
            name = (scheme_names or {}).get(self.value, self.value)
            return f"{name}的订阅用户"
        return f"群 {self.value}"


@dataclass(frozen=True)
class Recipient:
    chat_id: int
    kind: str  # user | group


def select_recipients(db: sqlite_utils.Database, audience: Audience) -> list[Recipient]:
    """Everyone the audience covers right now, each chat once, in a stable order."""
    rows: list[Recipient] = []
    if audience.kind in ("users", "everyone"):
        rows += [Recipient(chat_id, "user") for chat_id in active_user_chats(db)]
    if audience.kind in ("groups", "everyone"):
        rows += [Recipient(chat_id, "group") for chat_id in active_group_chats(db)]
    if audience.kind in ("city", "scheme"):
        rows += [Recipient(chat_id, "user")
                 for chat_id in active_user_chats(db, **{audience.kind: audience.value})]
    if audience.kind == "group":
        rows.append(Recipient(int(audience.value), "group"))
    return list({r.chat_id: r for r in rows}.values())


def count_audience(db: sqlite_utils.Database, audience: Audience) -> int:
    return len(select_recipients(db, audience))


def audience_values(db: sqlite_utils.Database, column: str,
                    limit: int = 8) -> list[tuple[str, int]]:
    """The most common cities or schemes among active subscribers, with their counts."""
    return most_common(db, column, limit)


# ------------------------------------------------------------------ composing


@dataclass(frozen=True)
class Composed:
    text: str
    buttons: tuple[tuple[str, str], ...]


_BUTTON_LINE = re.compile(r"^(?P<label>[^|｜]+?)\s*[|｜]\s*(?P<url>\S+)\s*$")
_URL = re.compile(r"^(https?://[^\s/]+\.[^\s]*|tg://\S+)$", re.IGNORECASE)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_composed(raw: str) -> tuple[Composed | None, str | None]:
    """Split an admin's message into text and link buttons (lines `按钮文字 | https://…`).

    Returns (composed, None) or (None, a problem in Chinese).
    """
    lines = (raw or "").strip().splitlines()
    buttons: list[tuple[str, str]] = []
    # Buttons are the trailing lines of the form "label | url"; anything else is text.
    while lines:
        match = _BUTTON_LINE.match(lines[-1].strip())
        if not match:
            break
        label, url = match.group("label").strip(), match.group("url")
        if not _URL.match(url):
            return None, f"按钮“{label}”的链接不对：要以 https:// 或 http:// 开头。"
        if len(label) > MAX_BUTTON_LABEL:
            return None, f"按钮文字太长（最多 {MAX_BUTTON_LABEL} 个字）：{label[:40]}"
        buttons.insert(0, (label, url))
        lines.pop()
    text = "\n".join(lines).strip()
    if not text:
        return None, "通知正文是空的，请先写正文，按钮写在最后几行。"
    if len(buttons) > MAX_BUTTONS:
        return None, f"按钮最多 {MAX_BUTTONS} 个，现在有 {len(buttons)} 个。"
    if utf16_len(text) > MAX_TEXT_UTF16:
        return None, f"正文太长（{len(text)} 字），请控制在 {MAX_TEXT_UTF16} 字以内。"
    return Composed(text, tuple(buttons)), None


def parse_when(text: str, now: dt.datetime) -> tuple[dt.datetime | None, str | None]:
    """A send time typed by an admin (see `parse_send_time`), no later than 30 days ahead.
    Returns (time, None) or (None, a problem)."""
    try:
        when = parse_send_time(text, now)
    except DateParseError as exc:
        return None, str(exc)
    if when <= now:
        return None, "这个时间已经过去了，请给一个以后的时间。"
    if when - now > MAX_SCHEDULE_AHEAD:
        return None, "最多只能提前 30 天安排。"
    return when, None


# ------------------------------------------------------------------ the audit log and outbox


def create_broadcast(db: sqlite_utils.Database, *, created_by: int, origin_chat_id: int,
                     composed: Composed, audience: Audience, audience_label: str,
                     now: dt.datetime, scheduled_at: dt.datetime | None = None,
                     pin: bool = False) -> int:
    """Record a broadcast. Sent now: its outbox is written in the same transaction.

    A scheduled one gets its outbox when it starts, so it reaches whoever subscribed by then.
    """
    with _transaction(db):
        cursor = db.execute(
            "insert into broadcasts (created_at, created_by, origin_chat_id, text, buttons, "
            "audience, audience_label, pin, status, scheduled_at, total, sent, failed, blocked, "
            "unconfirmed) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0)",
            [_iso(now), created_by, origin_chat_id, composed.text,
             json.dumps([list(b) for b in composed.buttons], ensure_ascii=False), audience.key,
             audience_label, int(pin), SCHEDULED if scheduled_at else RUNNING,
             _iso(scheduled_at) if scheduled_at else None],
        )
        broadcast_id = int(cursor.lastrowid)
        if scheduled_at is None:
            _write_outbox(db, broadcast_id, audience, now)
    return broadcast_id


def _write_outbox(db: sqlite_utils.Database, broadcast_id: int, audience: Audience,
                  now: dt.datetime) -> int:
    recipients = select_recipients(db, audience)
    db.conn.executemany(
        "insert or ignore into broadcast_outbox (broadcast_id, chat_id, kind, status, attempts, "
        "updated_at) values (?, ?, ?, ?, 0, ?)",
        [(broadcast_id, r.chat_id, r.kind, PENDING, _iso(now)) for r in recipients],
    )
    db.execute("update broadcasts set status = ?, started_at = ?, total = ? where id = ?",
               [RUNNING, _iso(now), len(recipients), broadcast_id])
    return len(recipients)


def start_scheduled(db: sqlite_utils.Database, broadcast_id: int, now: dt.datetime) -> bool:
    """A scheduled broadcast is due: write its outbox and mark it running (once)."""
    with _transaction(db):
        row = db.execute("select status, audience from broadcasts where id = ?",
                         [broadcast_id]).fetchone()
        if row is None or row[0] != SCHEDULED:
            return False
        _write_outbox(db, broadcast_id, Audience.parse(row[1]), now)
    return True


def get_broadcast(db: sqlite_utils.Database, broadcast_id: int) -> dict[str, Any] | None:
    if "broadcasts" not in db.table_names():
        return None
    rows = list(db.query("select * from broadcasts where id = ?", [broadcast_id]))
    if not rows:
        return None
    row = rows[0]
    row["buttons"] = [tuple(b) for b in json.loads(row["buttons"] or "[]")]
    return row


def list_broadcasts(db: sqlite_utils.Database, limit: int = 20) -> list[dict[str, Any]]:
    """Newest first, with live counts for the ones still running."""
    if "broadcasts" not in db.table_names():
        return []
    rows = list(db.query("select * from broadcasts order by id desc limit ?", [limit]))
    for row in rows:
        row["buttons"] = [tuple(b) for b in json.loads(row["buttons"] or "[]")]
        if row["status"] == RUNNING:
            counts = progress(db, row["id"])
            row.update(sent=counts.sent, failed=counts.failed, blocked=counts.blocked,
                       unconfirmed=counts.unconfirmed)
    return rows


def running_broadcasts(db: sqlite_utils.Database) -> list[int]:
    return [r[0] for r in db.execute("select id from broadcasts where status = ? order by id",
                                     [RUNNING]).fetchall()]


def due_broadcasts(db: sqlite_utils.Database, now: dt.datetime) -> list[int]:
    due = []
    for broadcast_id, at in db.execute(
            "select id, scheduled_at from broadcasts where status = ? order by id",
            [SCHEDULED]).fetchall():
        try:
            moment = dt.datetime.fromisoformat(at)
        except (TypeError, ValueError):
            moment = now
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=now.tzinfo)
        if moment <= now:
            due.append(broadcast_id)
    return due


def cancel_broadcast(db: sqlite_utils.Database, broadcast_id: int, by: int,
                     now: dt.datetime) -> bool:
    """Stop a scheduled or running broadcast; recipients not yet reached never get it."""
    with _transaction(db):
        row = db.execute("select status from broadcasts where id = ?", [broadcast_id]).fetchone()
        if row is None or row[0] not in (SCHEDULED, RUNNING):
            return False
        db.execute("update broadcasts set status = ?, cancelled_by = ?, finished_at = ? "
                   "where id = ?", [CANCELLED, by, _iso(now), broadcast_id])
        db.execute("update broadcast_outbox set status = ?, updated_at = ? "
                   "where broadcast_id = ? and status = ?",
                   [CANCELLED, _iso(now), broadcast_id, PENDING])
    return True


def set_progress_message(db: sqlite_utils.Database, broadcast_id: int, chat_id: int,
                         message_id: int) -> None:
    db.execute("update broadcasts set progress_chat_id = ?, progress_message_id = ? where id = ?",
               [chat_id, message_id, broadcast_id])


def add_note(db: sqlite_utils.Database, broadcast_id: int, note: str) -> None:
    db.execute("update broadcasts set note = trim(coalesce(note, '') || ' ' || ?) where id = ?",
               [note, broadcast_id])


# The error text of a row that a crash left in flight and that waits to be sent again: a reply
# to the first copy (`confirm_delivery`) settles it before the second goes out.
RESENT_AFTER_CRASH = "发送中断（进程重启），重发"


def recover_in_flight(db: sqlite_utils.Database, broadcast_id: int, now: dt.datetime, *,
                      resend: bool = True) -> int:
    """Rows left `sending` by a crash may or may not have arrived. Sent again (the default:
    never lost, at most the messages in flight at the crash repeated), or, with
    `resend=False`, recorded as unknown (never repeated, maybe lost)."""
    status, error = (PENDING, RESENT_AFTER_CRASH) if resend else \
        (UNKNOWN, "发送中断（进程重启），不再重发")
    cursor = db.execute(
        "update broadcast_outbox set status = ?, error = ?, updated_at = ? "
        "where broadcast_id = ? and status = ?",
        [status, error, _iso(now), broadcast_id, SENDING])
    return cursor.rowcount


@dataclass(frozen=True)
class Progress:
    """What is known about each recipient.

    `sent`: delivered (Telegram answered, or the recipient later replied to the message);
    `failed` + `blocked`: not delivered; `unconfirmed`: unknown — the request was under way
    when the process died or the connection dropped, and Telegram offers no way to ask.
    `confirmed` counts the unknown ones that a reply later proved delivered (part of `sent`);
    `resent` the delivered ones that were in flight at a crash and went out again (their
    recipients may have got the notice twice; part of `sent`).
    """

    total: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    unconfirmed: int = 0
    skipped: int = 0
    cancelled: int = 0
    remaining: int = 0  # pending plus in flight
    confirmed: int = 0
    resent: int = 0

    @property
    def not_delivered(self) -> int:
        return self.failed + self.blocked

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("total", "sent", "failed", "blocked",
                                              "unconfirmed", "confirmed", "resent", "skipped",
                                              "cancelled", "remaining")}


def progress(db: sqlite_utils.Database, broadcast_id: int) -> Progress:
    counts = dict(db.execute(
        "select status, count(*) from broadcast_outbox where broadcast_id = ? group by status",
        [broadcast_id]).fetchall())
    try:
        confirmed = db.execute(
            "select count(*) from broadcast_outbox where broadcast_id = ? and status = ? and "
            "confirmed_at is not null", [broadcast_id, SENT]).fetchone()[0]
    except sqlite3.OperationalError:  # a database from before confirmations, opened read-only
        confirmed = 0
    resent = db.execute(
        "select count(*) from broadcast_outbox where broadcast_id = ? and status = ? and "
        "error = ?", [broadcast_id, SENT, RESENT_AFTER_CRASH]).fetchone()[0]
    return Progress(
        total=sum(counts.values()), sent=counts.get(SENT, 0), failed=counts.get(FAILED, 0),
        blocked=counts.get(BLOCKED, 0), unconfirmed=counts.get(UNKNOWN, 0),
        skipped=counts.get(SKIPPED, 0), cancelled=counts.get(CANCELLED, 0),
        remaining=counts.get(PENDING, 0) + counts.get(SENDING, 0), confirmed=confirmed,
        resent=resent,
    )


def confirm_delivery(db: sqlite_utils.Database, chat_id: int, text: str,
                     now: dt.datetime) -> int:
    """A recipient replied to a broadcast message: if its delivery was unknown, it arrived.

    Unknown rows, and rows a crash left in flight that wait to be sent again (they are then
    not resent: the reply proves the first copy arrived). Returns how many outbox rows became
    delivered (the counts of finished broadcasts follow).
    """
    rows = db.execute(
        "select o.id, o.broadcast_id, o.status from broadcast_outbox o join broadcasts b on "
        "b.id = o.broadcast_id where o.chat_id = ? and b.text = ? and (o.status = ? or "
        "(o.status = ? and o.error = ?))",
        [chat_id, text, UNKNOWN, PENDING, RESENT_AFTER_CRASH]).fetchall()
    for row_id, broadcast_id, status in rows:
        with _transaction(db):
            db.execute("update broadcast_outbox set status = ?, confirmed_at = ?, "
                       "error = '后来由回复确认送达', updated_at = ? where id = ? and status = ?",
                       [SENT, _iso(now), _iso(now), row_id, status])
            counts = progress(db, broadcast_id)
            db.execute("update broadcasts set sent = ?, unconfirmed = ? where id = ? and "
                       "status != ?", [counts.sent, counts.unconfirmed, broadcast_id, RUNNING])
    return len(rows)


def eta_seconds(remaining: int, rate: float, observed: float | None) -> float:
    """Time left at the observed pace (never faster than the configured rate)."""
    pace = min(rate, observed) if observed else rate
    return remaining / pace if pace > 0 else math.inf


# ------------------------------------------------------------------ pacing


# TokenBucket, bulk_budget and RateLimiter live in bot.delivery.pacing, shared with reminders
# and group replies; they are imported above and stay importable from here.


# ------------------------------------------------------------------ the sender


@dataclass(frozen=True)
class BroadcastMessage:
    broadcast_id: int
    text: str
    buttons: tuple[tuple[str, str], ...] = ()
    pin: bool = False


SendFn = Callable[[Recipient, BroadcastMessage], Awaitable[int | None]]


def default_concurrency(rate: float) -> int:
    """Requests in flight: enough for `rate` at ~0.3 s round trips. Capped at 8 because
    httpcore's pool bookkeeping grows with open connections: 4–8 cost about 2.3–2.8 ms of CPU
    per message locally, 32 cost 4 ms (bench/broadcast.py)."""
    return max(4, min(8, math.ceil(rate * 0.3)))


@dataclass
class _Row:
    id: int
    chat_id: int
    kind: str
    attempts: int
    migrated_from: int | None


@dataclass
class RunResult:
    status: str  # done | cancelled | paused
    progress: Progress
    sent_this_run: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def classify_error(exc: Exception) -> delivery.Failure:
    """What the exceptions a broadcast's `send` raises mean to the shared sender."""
    if isinstance(exc, RetryLater):
        # Flood control is about the bot as a whole: everything waits, as Telegram asks.
        kind = delivery.NETWORK if exc.transient else delivery.FLOOD
        return delivery.Failure(kind, exc.reason, exc.seconds)
    if isinstance(exc, Blocked):
        return delivery.Failure(delivery.BLOCKED, str(exc)[:200])
    if isinstance(exc, Migrated):
        return delivery.Failure(delivery.MIGRATED, new_chat_id=exc.new_chat_id)
    if isinstance(exc, SendFailed):
        return delivery.Failure(delivery.FAILED, str(exc)[:200])
    if isinstance(exc, MaybeSent):
        return delivery.Failure(delivery.MAYBE_SENT, str(exc)[:200])
    # A bug or an unexpected reply: never stop the whole broadcast.
    return delivery.Failure(delivery.FAILED, repr(exc)[:200], unexpected=True)


def broadcast_policy(max_attempts: int = MAX_ATTEMPTS) -> delivery.RetryPolicy:
    """Broadcasts wait out flood control by pausing the whole broadcast and queueing the row
    again (never given up), count transient errors towards `max_attempts`, follow a migrated
    group through the outbox, and send again what a crash left in flight (never lost; the
    messages in flight at the crash may arrive twice)."""
    return delivery.RetryPolicy(flood_waits=0, network_delays=(), max_attempts=max_attempts,
                                resend_after_crash=True)


_OUTCOME_STATUS = {delivery.SENT: SENT, delivery.FAILED: FAILED, delivery.GAVE_UP: FAILED,
                   delivery.BLOCKED: BLOCKED, delivery.UNKNOWN: UNKNOWN}


class BroadcastOutbox:
    """One broadcast's rows of `broadcast_outbox` behind the shared sender's outbox calls."""

    def __init__(self, db: sqlite_utils.Database, broadcast_id: int,
                 now: Callable[[], dt.datetime]) -> None:
        self.db, self.broadcast_id, self._now = db, broadcast_id, now

    def before(self, item: delivery.Item) -> None:
        self.mark(item.id, SENDING)

    def claim(self, item: delivery.Item) -> bool:
        """`before`, only if the row is still pending: a reply may have confirmed a row that a
        crash left in flight between the query that picked it and now."""
        return self.db.execute(
            "update broadcast_outbox set status = ?, updated_at = ? where id = ? and status = ?",
            [SENDING, _iso(self._now()), item.id, PENDING]).rowcount == 1

    def after(self, item: delivery.Item, outcome: str, *, reason: str | None = None,
              message_id: int | None = None) -> None:
        attempts = item.attempts + 1 if outcome == delivery.GAVE_UP else None
        self.mark(item.id, _OUTCOME_STATUS[outcome], error=reason, message_id=message_id,
                  attempts=attempts)

    def retry(self, item: delivery.Item, reason: str, delay: float | None) -> None:
        self.mark(item.id, PENDING, error=reason[:200], attempts=item.attempts + 1)

    def recover(self, *, resend: bool) -> int:
        return recover_in_flight(self.db, self.broadcast_id, self._now(), resend=resend)

    def mark(self, row_id: int, status: str, *, error: str | None = None,
             message_id: int | None = None, attempts: int | None = None) -> None:
        self.db.execute(
            "update broadcast_outbox set status = ?, error = coalesce(?, error), "
            "message_id = coalesce(?, message_id), attempts = coalesce(?, attempts), "
            "updated_at = ? where id = ?",
            [status, error, message_id, attempts, _iso(self._now()), row_id])


class Broadcaster:
    """Works through one broadcast's outbox: paced, retrying flood control, resumable."""

    def __init__(self, db: sqlite_utils.Database, broadcast_id: int, send: SendFn, *,
                 rate: float, now: Callable[[], dt.datetime],
                 monotonic: Callable[[], float] = time.monotonic,
                 concurrency: int | None = None, max_attempts: int = MAX_ATTEMPTS,
                 budget: TokenBucket | None = None) -> None:
        self.db = db
        self.broadcast_id = broadcast_id
        self.rate = rate
        self._send = send
        self._now = now
        self._monotonic = monotonic
        self.concurrency = concurrency or default_concurrency(rate)
        self.max_attempts = max_attempts
        self._stop: str | None = None  # "cancel" or "pause"
        self._wake = asyncio.Event()
        self.started = monotonic()
        self.sent_this_run = 0
        self.limiter = RateLimiter(rate, monotonic(), overall=budget)
        self.outbox = BroadcastOutbox(db, broadcast_id, now)
        # The limiter takes the shared budget's token before each row (`_wait_turn`), so the
        # sender itself takes none; flood control pauses the limiter.
        self.sender = delivery.Sender(
            self.outbox, classify_error, broadcast_policy(max_attempts),
            on_blocked=self._deactivate, on_migrated=self._follow_migration,
            pause=lambda seconds: self.limiter.pause(self._monotonic() + seconds),
            clock=monotonic)

    # -------------------------------------------------------------- control

    def cancel(self) -> None:
        """Stop for good (the admin pressed cancel); the caller records it in the database."""
        self._stop = "cancel"
        self._wake.set()

    def pause(self) -> None:
        """Stop for now (shutdown); the broadcast stays running and resumes on next start."""
        self._stop = self._stop or "pause"
        self._wake.set()

    @property
    def observed_rate(self) -> float | None:
        elapsed = self._monotonic() - self.started
        return self.sent_this_run / elapsed if elapsed > 1 and self.sent_this_run else None

    # -------------------------------------------------------------- running

    async def run(self) -> RunResult:
        row = get_broadcast(self.db, self.broadcast_id)
        if row is None:
            raise LookupError(f"no broadcast {self.broadcast_id}")
        if row["status"] != RUNNING:
            return RunResult(row["status"], progress(self.db, self.broadcast_id))
        message = BroadcastMessage(self.broadcast_id, row["text"], tuple(row["buttons"]),
                                   bool(row["pin"]))
        recovered = self.sender.recover()
        if recovered:
            log.warning("broadcast %s: %d messages in flight at a crash are sent again",
                        self.broadcast_id, recovered)
        self.started = self._monotonic()
        slots = asyncio.Semaphore(self.concurrency)
        in_flight: set[asyncio.Task] = set()
        while self._stop is None:
            batch = self._pending()
            if not batch:
                if not in_flight:
                    break
                await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                continue
            for item in batch:
                if not await self._wait_turn(item.chat_id):
                    break
                await slots.acquire()
                if self._stop is not None:
                    slots.release()
                    break
                if not self.outbox.claim(item):  # confirmed by a reply meanwhile
                    slots.release()
                    continue
                task = asyncio.create_task(self._deliver(item, message, slots))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)
        return self._finish()

    def _pending(self) -> list[delivery.Item]:
        rows = self.db.execute(
            "select id, chat_id, kind, attempts, migrated_from from broadcast_outbox "
            "where broadcast_id = ? and status = ? order by id limit ?",
            [self.broadcast_id, PENDING, FETCH_BATCH]).fetchall()
        return [delivery.Item(r[0], r[1], r[3], ref=_Row(*r)) for r in rows]

    async def _wait_turn(self, chat_id: int) -> bool:
        while self._stop is None:
            now = self._monotonic()
            wait = self.limiter.delay(chat_id, now)
            if wait <= 0:
                self.limiter.take(chat_id, now)
                return True
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
        return False

    async def _deliver(self, item: delivery.Item, message: BroadcastMessage,
                       slots: asyncio.Semaphore) -> None:
        kind = item.ref.kind

        async def send(chat_id: int) -> int | None:
            return await self._send(Recipient(chat_id, kind), message)

        try:
            result = await self.sender.send(item, send)
            if result.status == delivery.SENT:
                self.sent_this_run += 1
        finally:
            slots.release()

    def _mark(self, row_id: int, status: str, *, error: str | None = None,
              message_id: int | None = None, attempts: int | None = None) -> None:
        self.outbox.mark(row_id, status, error=error, message_id=message_id, attempts=attempts)

    def _deactivate(self, item: delivery.Item) -> None:
        if item.ref.kind == "group":
            deactivate_group(self.db, item.chat_id)
        else:
            deactivate_user_chat(self.db, item.chat_id)

    def _follow_migration(self, item: delivery.Item, new_chat_id: int) -> bool:
        """The group moved: the row follows it through the outbox (once), or is skipped when
        the supergroup is on the list already. Returns False: settled here, not resent now."""
        if item.ref.migrated_from is not None:
            self._mark(item.id, FAILED, error="群迁移后仍无法发送")
            return False
        migrate_group(self.db, item.chat_id, new_chat_id)
        duplicate = self.db.execute(
            "select 1 from broadcast_outbox where broadcast_id = ? and chat_id = ?",
            [self.broadcast_id, new_chat_id]).fetchone()
        if duplicate:  # the supergroup is already on the list: it gets that copy
            self._mark(item.id, SKIPPED, error=f"群已升级为 {new_chat_id}，已在名单中")
            return False
        self.db.execute(
            "update broadcast_outbox set chat_id = ?, migrated_from = ?, status = ?, "
            "updated_at = ? where id = ?",
            [new_chat_id, item.chat_id, PENDING, _iso(self._now()), item.id])
        return False

    def _finish(self) -> RunResult:
        seconds = self._monotonic() - self.started
        counts = progress(self.db, self.broadcast_id)
        if self._stop == "pause":
            return RunResult("paused", counts, self.sent_this_run, seconds)
        status = CANCELLED if self._stop == "cancel" else DONE
        with _transaction(self.db):
            current = self.db.execute("select status from broadcasts where id = ?",
                                      [self.broadcast_id]).fetchone()
            if current and current[0] == CANCELLED:
                status = CANCELLED
            if status == CANCELLED:
                self.db.execute("update broadcast_outbox set status = ? where broadcast_id = ? "
                                "and status = ?", [CANCELLED, self.broadcast_id, PENDING])
            counts = progress(self.db, self.broadcast_id)
            self.db.execute(
                "update broadcasts set status = ?, finished_at = coalesce(finished_at, ?), "
                "total = ?, sent = ?, failed = ?, blocked = ?, unconfirmed = ? where id = ?",
                [status, _iso(self._now()), counts.total, counts.sent, counts.failed,
                 counts.blocked, counts.unconfirmed, self.broadcast_id])
        return RunResult(status, counts, self.sent_this_run, seconds)
