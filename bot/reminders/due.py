"""What is due now: moving sends whose time has come into `reminder_outbox`, and the outbox
calls the shared sender (`bot.delivery.sender`) makes around each send: claiming, marking sent,
failed or skipped, retrying later, recovering after a crash.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from bot.reminders.group_notices import GroupReminder, get_group_reminder
from bot.reminders.plans import (
    CATCHUP_DAYS,
    GROUP_CATCHUP_DAYS,
    GROUP_SLOT,
    Slot,
    china,
    from_stamp,
    group_occurrences,
    next_at_stamp,
    next_group_at,
    stamp,
)
from bot.reminders.store import Reminder, fetch, get_reminder, transaction


@dataclass(frozen=True)
class OutboxRow:
    id: int
    kind: str
    ref_id: int
    due: dt.date
    slot: str
    chat_id: int
    planned_at: dt.datetime
    status: str
    reason: str | None
    attempts: int

    @classmethod
    def from_row(cls, row: dict) -> OutboxRow:
        return cls(row["id"], row["kind"], row["ref_id"], dt.date.fromisoformat(row["due"]),
                   row["slot"], row["chat_id"], from_stamp(row["planned_at"]), row["status"],
                   row["reason"], row["attempts"])


@dataclass
class EnqueueStats:
    pending: int = 0
    skipped: int = 0
    reminders: int = 0


def _outbox_insert(db: sqlite_utils.Database, *, kind: str, ref_id: int, due: dt.date,
                   slot: str, chat_id: int, planned_at: dt.datetime, status: str,
                   reason: str | None, now: str) -> bool:
    """Insert unless the key exists already; True when a row was written."""
    cursor = db.conn.execute(
        "INSERT OR IGNORE INTO reminder_outbox (kind, ref_id, due, slot, chat_id, planned_at, "
        "status, reason, attempts, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
        (kind, ref_id, due.isoformat(), slot, chat_id, stamp(planned_at), status, reason, now,
         now))
    return cursor.rowcount > 0


def _decide(window: list[dt.datetime | Slot], today: dt.date,
            catchup_days: int) -> list[tuple[Any, str, str | None]]:
    """For sends whose time has come (oldest first): only the newest goes out, and only if
    it is recent enough; the rest are skipped with the reason recorded."""
    out: list[tuple[Any, str, str | None]] = [(item, "skipped", "superseded")
                                              for item in window[:-1]]
    newest = window[-1]
    day = newest.day if isinstance(newest, Slot) else newest.date()
    if (today - day).days > catchup_days:
        out.append((newest, "skipped", "stale"))
    else:
        out.append((newest, "pending", None))
    return out


def enqueue_due(db: sqlite_utils.Database, now: dt.datetime, *,
                batch: int = 2000) -> EnqueueStats:
    """Hand every send whose time has come to the outbox, and move each `next_at` on.

    Idempotent: outbox keys are unique, so running it twice (or after a crash) adds nothing.
    """
    now = china(now)
    now_key, today = stamp(now), now.date()
    stats = EnqueueStats()
    while True:
        with transaction(db):
            rows = fetch(db, "SELECT * FROM reminders WHERE active = 1 AND next_at <= ? "
                             "ORDER BY next_at LIMIT ?", (now_key, batch))
            for row in rows:
                reminder = Reminder.from_row(row)
                slots = reminder.slots()
                assert reminder.next_at is not None  # the query asked for next_at <= now
                window = [s for s in slots if reminder.next_at <= s.at <= now]
                if window:
                    for slot, status, reason in _decide(window, today, CATCHUP_DAYS):
                        written = _outbox_insert(
                            db, kind="personal", ref_id=reminder.id, due=reminder.due,
                            slot=slot.key, chat_id=reminder.chat_id, planned_at=slot.at,
                            status=status, reason=reason, now=now_key)
                        if written:
                            setattr(stats, status, getattr(stats, status) + 1)
                db.conn.execute("UPDATE reminders SET next_at = ? WHERE id = ?",
                                (next_at_stamp(slots, now), reminder.id))
            stats.reminders += len(rows)
        if len(rows) < batch:
            break
    with transaction(db):
        for row in fetch(db, "SELECT * FROM group_reminders WHERE active = 1 AND next_at <= ?",
                         (now_key,)):
            group = GroupReminder.from_row(row)
            assert group.next_at is not None  # the query asked for next_at <= now
            moments = group_occurrences(group.schedule, group.next_at, now)
            if moments:
                for moment, status, reason in _decide(moments, today, GROUP_CATCHUP_DAYS):
                    if _outbox_insert(db, kind="group", ref_id=group.id, due=moment.date(),
                                      slot=GROUP_SLOT, chat_id=group.chat_id,
                                      planned_at=moment, status=status, reason=reason,
                                      now=now_key):
                        setattr(stats, status, getattr(stats, status) + 1)
            db.conn.execute("UPDATE group_reminders SET next_at = ? WHERE id = ?",
                            (stamp(next_group_at(group.schedule, now)), group.id))
            stats.reminders += 1
    return stats


def recover_interrupted(db: sqlite_utils.Database, now: dt.datetime) -> int:
    """At start-up: sends that were under way when the process died go back in the queue.

    Such a row was written before its send, so the send may or may not have happened; sending
    it again risks a duplicate, dropping it risks a missed pension (the worse of the two).
    """
    cursor = db.conn.execute(
        "UPDATE reminder_outbox SET status = 'pending', reason = 'interrupted', "
        "retry_at = NULL, updated_at = ? WHERE status = 'sending'", (stamp(now),))
    return cursor.rowcount


def pending_outbox(db: sqlite_utils.Database, now: dt.datetime,
                   limit: int = 100) -> list[OutboxRow]:
    rows = fetch(db, "SELECT * FROM reminder_outbox WHERE status = 'pending' "
                     "AND (retry_at IS NULL OR retry_at <= ?) ORDER BY planned_at, id LIMIT ?",
                 (stamp(now), limit))
    return [OutboxRow.from_row(r) for r in rows]


def mark_sending(db: sqlite_utils.Database, row_id: int, now: dt.datetime) -> None:
    db.conn.execute("UPDATE reminder_outbox SET status = 'sending', attempts = attempts + 1, "
                    "updated_at = ? WHERE id = ?", (stamp(now), row_id))


def mark_sent(db: sqlite_utils.Database, row_id: int, message_id: int | None,
              now: dt.datetime) -> None:
    db.conn.execute("UPDATE reminder_outbox SET status = 'sent', message_id = ?, reason = NULL, "
                    "retry_at = NULL, updated_at = ? WHERE id = ?",
                    (message_id, stamp(now), row_id))


def mark_done(db: sqlite_utils.Database, row_id: int, status: str, reason: str,
              now: dt.datetime) -> None:
    """failed / skipped, with why."""
    if status not in ("failed", "skipped"):
        raise ValueError(f"an outbox row ends as failed or skipped, not {status!r}")
    db.conn.execute("UPDATE reminder_outbox SET status = ?, reason = ?, retry_at = NULL, "
                    "updated_at = ? WHERE id = ?", (status, reason[:200], stamp(now), row_id))


def retry_later(db: sqlite_utils.Database, row_id: int, when: dt.datetime, reason: str,
                now: dt.datetime) -> None:
    db.conn.execute("UPDATE reminder_outbox SET status = 'pending', reason = ?, retry_at = ?, "
                    "updated_at = ? WHERE id = ?", (reason[:200], stamp(when), stamp(now), row_id))


def skip_reason(db: sqlite_utils.Database, row: OutboxRow, now: dt.datetime) -> str | None:
    """Why a queued send should not go out after all (checked just before sending), or None."""
    today = china(now).date()
    if row.kind == "group":
        group = get_group_reminder(db, row.ref_id)
        if group is None:
            return "deleted"
        if not group.active:
            return "stopped"
        if (today - row.planned_at.date()).days > GROUP_CATCHUP_DAYS:
            return "stale"
        return None
    reminder = get_reminder(db, row.ref_id)
    if reminder is None:
        return "deleted"
    if not reminder.active:
        return "stopped"
    if reminder.due != row.due:
        return "certified"  # 我已认证 moved the due date since this was queued
    newer = db.conn.execute(
        "SELECT 1 FROM reminder_outbox WHERE kind = 'personal' AND ref_id = ? AND due = ? "
        "AND id != ? AND planned_at > ? AND planned_at <= ? LIMIT 1",
        (row.ref_id, row.due.isoformat(), row.id, stamp(row.planned_at), stamp(now))).fetchone()
    if newer:
        return "superseded"
    if (today - row.planned_at.date()).days > CATCHUP_DAYS:
        return "stale"
    return None


class ReminderOutbox:
    """`reminder_outbox` behind the shared sender's outbox calls (`bot.delivery.sender`).

    `before` counts the attempt; a blocked recipient ends as 'failed' with its reason; a row
    in flight at a crash is sent again (`recover(resend=True)`), at most one duplicate.
    """

    def __init__(self, db: sqlite_utils.Database, now: Callable[[], dt.datetime]) -> None:
        self.db, self.now = db, now

    def before(self, item: Any) -> None:
        mark_sending(self.db, item.id, self.now())

    def after(self, item: Any, outcome: str, *, reason: str | None = None,
              message_id: int | None = None) -> None:
        if outcome == "sent":
            mark_sent(self.db, item.id, message_id, self.now())
        elif outcome == "unknown":
            self.db.conn.execute(
                "UPDATE reminder_outbox SET status = 'unknown', reason = ?, retry_at = NULL, "
                "updated_at = ? WHERE id = ?", ((reason or "")[:200], stamp(self.now()), item.id))
        else:  # failed, blocked, gave_up
            mark_done(self.db, item.id, "failed", reason or outcome, self.now())

    def retry(self, item: Any, reason: str, delay: float | None, *,
              counts: bool = True) -> None:
        now = self.now()
        if not counts:  # each round was counted when it began (`before`): not this one
            self.db.conn.execute("UPDATE reminder_outbox SET attempts = max(attempts - 1, 0) "
                                 "WHERE id = ?", (item.id,))
        if delay is None:
            self.db.conn.execute(
                "UPDATE reminder_outbox SET status = 'pending', reason = ?, retry_at = NULL, "
                "updated_at = ? WHERE id = ?", (reason[:200], stamp(now), item.id))
            return
        retry_later(self.db, item.id, now + dt.timedelta(seconds=delay), reason, now)

    def recover(self, *, resend: bool) -> int:
        if resend:
            return recover_interrupted(self.db, self.now())
        cursor = self.db.conn.execute(
            "UPDATE reminder_outbox SET status = 'unknown', reason = 'interrupted', "
            "retry_at = NULL, updated_at = ? WHERE status = 'sending'", (stamp(self.now()),))
        return cursor.rowcount


def outbox_counts(db: sqlite_utils.Database) -> dict[str, int]:
    return {status: count for status, count in db.conn.execute(
        "SELECT status, count(*) FROM reminder_outbox GROUP BY status")}


def count_sent(db: sqlite_utils.Database, lo: str, hi: str, *, chat_id: int | None = None) -> int:
    """Reminders delivered with lo <= updated_at < hi ('YYYY-MM-DD'), in one chat or all."""
    where, params = ("", []) if chat_id is None else (" and chat_id = ?", [chat_id])
    return int(db.execute("select count(*) from reminder_outbox where status = 'sent' "
                          f"and updated_at >= ? and updated_at < ?{where}",
                          [lo, hi, *params]).fetchone()[0])
