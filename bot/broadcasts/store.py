"""Broadcasts on disk: the audit log (`broadcasts`), one outbox row per recipient
(`broadcast_outbox`), and the status and report queries.

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

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from bot.broadcasts.audience import Audience, select_recipients
from bot.broadcasts.compose import Composed
from bot.db.connection import apply_migrations, iso_seconds, transaction

# Outbox row states.
PENDING, SENDING, SENT = "pending", "sending", "sent"
FAILED, BLOCKED, UNKNOWN = "failed", "blocked", "unknown"
SKIPPED, CANCELLED = "skipped", "cancelled"
# Broadcast states.
SCHEDULED, RUNNING, DONE = "scheduled", "running", "done"


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



# ------------------------------------------------------------------ the audit log and outbox


def create_broadcast(db: sqlite_utils.Database, *, created_by: int, origin_chat_id: int,
                     composed: Composed, audience: Audience, audience_label: str,
                     now: dt.datetime, scheduled_at: dt.datetime | None = None,
                     pin: bool = False) -> int:
    """Record a broadcast. Sent now: its outbox is written in the same transaction.

    A scheduled one gets its outbox when it starts, so it reaches whoever subscribed by then.
    """
    with transaction(db):
        cursor = db.execute(
            "insert into broadcasts (created_at, created_by, origin_chat_id, text, buttons, "
            "audience, audience_label, pin, status, scheduled_at, total, sent, failed, blocked, "
            "unconfirmed) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0)",
            [iso_seconds(now), created_by, origin_chat_id, composed.text,
             json.dumps([list(b) for b in composed.buttons], ensure_ascii=False), audience.key,
             audience_label, int(pin), SCHEDULED if scheduled_at else RUNNING,
             iso_seconds(scheduled_at) if scheduled_at else None],
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
        [(broadcast_id, r.chat_id, r.kind, PENDING, iso_seconds(now)) for r in recipients],
    )
    db.execute("update broadcasts set status = ?, started_at = ?, total = ? where id = ?",
               [RUNNING, iso_seconds(now), len(recipients), broadcast_id])
    return len(recipients)


def start_scheduled(db: sqlite_utils.Database, broadcast_id: int, now: dt.datetime) -> bool:
    """A scheduled broadcast is due: write its outbox and mark it running (once)."""
    with transaction(db):
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
    with transaction(db):
        row = db.execute("select status from broadcasts where id = ?", [broadcast_id]).fetchone()
        if row is None or row[0] not in (SCHEDULED, RUNNING):
            return False
        db.execute("update broadcasts set status = ?, cancelled_by = ?, finished_at = ? "
                   "where id = ?", [CANCELLED, by, iso_seconds(now), broadcast_id])
        db.execute("update broadcast_outbox set status = ?, updated_at = ? "
                   "where broadcast_id = ? and status = ?",
                   [CANCELLED, iso_seconds(now), broadcast_id, PENDING])
    return True


def set_progress_message(db: sqlite_utils.Database, broadcast_id: int, chat_id: int,
                         message_id: int) -> None:
    db.execute("update broadcasts set progress_chat_id = ?, progress_message_id = ? where id = ?",
               [chat_id, message_id, broadcast_id])


def add_note(db: sqlite_utils.Database, broadcast_id: int, note: str) -> None:
    db.execute("update broadcasts set note = trim(coalesce(note, '') || ' ' || ?) where id = ?",
               [note, broadcast_id])


def skip_pending_for_chat(db: sqlite_utils.Database, chat_id: int, why: str,
                          now: dt.datetime) -> int:
    """Nothing still queued goes to `chat_id` (its user asked to be forgotten); returns how
    many rows were skipped. A runner claims only pending rows, so none is sent after this."""
    return db.execute(
        "update broadcast_outbox set status = ?, error = ?, updated_at = ? "
        "where chat_id = ? and status = ?",
        [SKIPPED, why, iso_seconds(now), chat_id, PENDING]).rowcount


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
        [status, error, iso_seconds(now), broadcast_id, SENDING])
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
        with transaction(db):
            db.execute("update broadcast_outbox set status = ?, confirmed_at = ?, "
                       "error = '后来由回复确认送达', updated_at = ? where id = ? and status = ?",
                       [SENT, iso_seconds(now), iso_seconds(now), row_id, status])
            counts = progress(db, broadcast_id)
            db.execute("update broadcasts set sent = ?, unconfirmed = ? where id = ? and "
                       "status != ?", [counts.sent, counts.unconfirmed, broadcast_id, RUNNING])
    return len(rows)


def count_sent(db: sqlite_utils.Database, chat_id: int, lo: str, hi: str) -> int:
    """Broadcast messages delivered to one chat with lo <= updated_at < hi ('YYYY-MM-DD')."""
    return int(db.execute("select count(*) from broadcast_outbox where chat_id = ? "
                          "and status = 'sent' and updated_at >= ? and updated_at < ?",
                          [chat_id, lo, hi]).fetchone()[0])
