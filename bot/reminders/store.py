"""The reminder tables and the personal reminders' rows, behind plain functions (a group's
monthly notices: `bot.reminders.group_notices`).

Three tables, created by `ensure_reminder_tables`:

- `reminders`: one row per person a user wants reminding about (自己, 父亲 …): user and chat id,
  a label, scheme, city and dates. Nothing else about the person is kept.
- `group_reminders`: a group's monthly notice set by its admins (每月1日 09:00 + their text).
- `reminder_outbox`: one row per planned send, unique per (kind, reminder, due date, slot),
  written *before* the send (pending → sending) and updated after it (sent / failed / skipped),
  so a crash or restart neither drops a reminder nor creates a second one
  (`bot.reminders.due`).

The schedule lives here, not in a job queue: each reminder keeps `next_at`, the earliest
planned send not yet handed to the outbox; `bot.reminders.due.enqueue_due` moves everything
whose time has come into the outbox (catch-up included), and a sender drains the outbox.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from bot.db.connection import apply_migrations
from bot.db.connection import transaction as storage_transaction
from bot.deadline.schemes import SCHEMES
from bot.reminders.plans import (
    DEFAULT_LEADS,
    MAX_REMINDERS_PER_USER,
    ReminderError,
    Slot,
    china,
    clean_label,
    format_leads,
    from_stamp,
    leads_from_text,
    next_at_stamp,
    plan,
    plan_start,
    rolled_forward_due,
    slot_order,
    snooze_slot,
    stamp,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reminders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so old outbox rows stay unambiguous
    user_id INTEGER NOT NULL,
    chat_id INTEGER NOT NULL,
    label TEXT NOT NULL,
    scheme TEXT NOT NULL,
    city TEXT,
    last_date TEXT,
    due TEXT NOT NULL,
    leads TEXT NOT NULL,
    snooze_day TEXT,
    plan_from TEXT NOT NULL,   -- sends planned before this moment are not part of the plan
    next_at TEXT,              -- the earliest planned send not yet in the outbox
    active INTEGER NOT NULL DEFAULT 1,
    stopped TEXT,              -- why inactive: user / blocked
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reminders_next ON reminders(next_at) WHERE active = 1;
-- What a day holds: one lookup per lead set in use (see due_on).
CREATE INDEX IF NOT EXISTS reminders_leads_due ON reminders(leads, due) WHERE active = 1;
CREATE INDEX IF NOT EXISTS reminders_user ON reminders(user_id);
CREATE INDEX IF NOT EXISTS reminders_snooze ON reminders(snooze_day) WHERE snooze_day IS NOT NULL;
CREATE TABLE IF NOT EXISTS group_reminders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id INTEGER NOT NULL,
    created_by INTEGER NOT NULL,
    day INTEGER NOT NULL,      -- day of the month; 29–31 fall on the last day of short months
    hour INTEGER NOT NULL,
    minute INTEGER NOT NULL,
    text TEXT NOT NULL,
    plan_from TEXT NOT NULL,
    next_at TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    stopped TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS group_reminders_chat ON group_reminders(chat_id);
CREATE TABLE IF NOT EXISTS reminder_outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,        -- personal / group
    ref_id INTEGER NOT NULL,   -- reminders.id or group_reminders.id
    due TEXT NOT NULL,         -- the due date (personal) or the day of the notice (group)
    slot TEXT NOT NULL,        -- lead days ('30', '-1'), 'snooze:YYYY-MM-DD' or 'monthly'
    chat_id INTEGER NOT NULL,
    planned_at TEXT NOT NULL,
    status TEXT NOT NULL,      -- pending / sending / sent / failed / skipped
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    retry_at TEXT,
    message_id INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (kind, ref_id, due, slot)
);
CREATE INDEX IF NOT EXISTS reminder_outbox_pending ON reminder_outbox(planned_at)
    WHERE status = 'pending';
"""

REMINDER_SCHEMA = Migrations("reminders")


# Not in a transaction: executescript commits first. Every statement is "if not exists".
@REMINDER_SCHEMA(name="0001_tables", transactional=False)
def _tables(db: sqlite_utils.Database) -> None:
    db.conn.executescript(_SCHEMA)


def ensure_reminder_tables(db: sqlite_utils.Database) -> None:
    """Create the reminder tables and indexes, or bring them up to date (bot.db.connection)."""
    apply_migrations(db, REMINDER_SCHEMA)


transaction = storage_transaction  # the one transaction helper (bot.db.connection)


def fetch(db: sqlite_utils.Database, sql: str, params: Iterable[Any] = ()) -> list[dict]:
    """Rows of a query on the reminder tables, as dicts."""
    cursor = db.conn.execute(sql, tuple(params))
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@dataclass(frozen=True)
class Reminder:
    id: int
    user_id: int
    chat_id: int
    label: str
    scheme: str
    city: str | None
    last_date: dt.date | None
    due: dt.date
    leads: tuple[int, ...]
    snooze_day: dt.date | None
    plan_from: dt.datetime
    next_at: dt.datetime | None
    active: bool
    stopped: str | None

    @classmethod
    def from_row(cls, row: dict) -> Reminder:
        return cls(
            id=row["id"], user_id=row["user_id"], chat_id=row["chat_id"], label=row["label"],
            scheme=row["scheme"], city=row["city"], last_date=_date(row["last_date"]),
            due=dt.date.fromisoformat(row["due"]), leads=leads_from_text(row["leads"]),
            snooze_day=_date(row["snooze_day"]), plan_from=from_stamp(row["plan_from"]),
            next_at=from_stamp(row["next_at"]) if row["next_at"] else None,
            active=bool(row["active"]), stopped=row["stopped"],
        )

    def slots(self) -> list[Slot]:
        """Every planned send of the current plan (before `plan_from` excluded), in order."""
        slots = plan(self.due, self.leads)
        if self.snooze_day is not None:
            slots.append(snooze_slot(self.snooze_day))
        return sorted((s for s in slots if s.at >= self.plan_from), key=slot_order)

    def upcoming(self, now: dt.datetime) -> list[Slot]:
        return [s for s in self.slots() if s.at > china(now)]



def _replan_fields(due: dt.date, leads: tuple[int, ...], snooze_day: dt.date | None,
                   now: dt.datetime) -> dict[str, Any]:
    """plan_from and next_at for a plan that starts now."""
    slots = plan(due, leads) + ([snooze_slot(snooze_day)] if snooze_day else [])
    return {"plan_from": stamp(plan_start(now)), "next_at": next_at_stamp(slots, china(now))}


def update_row(db: sqlite_utils.Database, table: str, row_id: int, fields: dict[str, Any]) -> None:
    assignments = ", ".join(f"{name} = ?" for name in fields)
    db.conn.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", (*fields.values(), row_id))


def get_reminder(db: sqlite_utils.Database, reminder_id: int) -> Reminder | None:
    rows = fetch(db, "SELECT * FROM reminders WHERE id = ?", (reminder_id,))
    return Reminder.from_row(rows[0]) if rows else None


def user_reminders(db: sqlite_utils.Database, user_id: int) -> list[Reminder]:
    rows = fetch(db, "SELECT * FROM reminders WHERE user_id = ? ORDER BY id", (user_id,))
    return [Reminder.from_row(r) for r in rows]


def add_reminder(db: sqlite_utils.Database, *, user_id: int, chat_id: int, label: str,
                 scheme: str, city: str | None, last: dt.date | None, due: dt.date,
                 now: dt.datetime, leads: Iterable[int] = DEFAULT_LEADS) -> Reminder:
    """Save a reminder; one with the same label for this user is replaced, not doubled."""
    if scheme not in SCHEMES:
        raise ReminderError(f"不认识的待遇类型：{scheme}")
    label = clean_label(label)
    leads = tuple(sorted(set(leads), reverse=True)) or DEFAULT_LEADS
    fields = {"user_id": user_id, "chat_id": chat_id, "label": label, "scheme": scheme,
              "city": city, "last_date": last.isoformat() if last else None,
              "due": due.isoformat(), "leads": format_leads(leads), "snooze_day": None,
              "active": 1, "stopped": None, "updated_at": stamp(now),
              **_replan_fields(due, leads, None, now)}
    with transaction(db):
        same = fetch(db, "SELECT id FROM reminders WHERE user_id = ? AND label = ?",
                     (user_id, label))
        if same:
            reminder_id = same[0]["id"]
            update_row(db, "reminders", reminder_id, fields)
        else:
            count = db.conn.execute("SELECT count(*) FROM reminders WHERE user_id = ?",
                                    (user_id,)).fetchone()[0]
            if count >= MAX_REMINDERS_PER_USER:
                raise ReminderError(f"每人最多设置{MAX_REMINDERS_PER_USER}个提醒，"
                                    "请先在 /myreminders 里删掉不用的")
            fields["created_at"] = fields["updated_at"]
            names = ", ".join(fields)
            cursor = db.conn.execute(
                f"INSERT INTO reminders ({names}) VALUES ({', '.join('?' * len(fields))})",
                tuple(fields.values()))
            reminder_id = int(cursor.lastrowid)
    found = get_reminder(db, reminder_id)
    assert found is not None
    return found


def _require(db: sqlite_utils.Database, reminder_id: int) -> Reminder:
    found = get_reminder(db, reminder_id)
    if found is None:
        raise ReminderError("这个提醒已经删除了。需要的话请发 /remind 重新设置。")
    return found


def set_leads(db: sqlite_utils.Database, reminder_id: int, leads: Iterable[int],
              now: dt.datetime) -> Reminder:
    """New lead days; sends already made for this due date are not repeated (outbox keys)."""
    current = _require(db, reminder_id)
    leads = tuple(sorted(set(leads), reverse=True))
    if not leads:
        raise ReminderError("至少要留一个提醒时间")
    update_row(db, "reminders", reminder_id, {
        "leads": format_leads(leads), "updated_at": stamp(now),
        **_replan_fields(current.due, leads, current.snooze_day, now)})
    return _require(db, reminder_id)


def certified(db: sqlite_utils.Database, reminder_id: int, now: dt.datetime) -> Reminder:
    """我已认证: today becomes the last certification and the plan starts over from it."""
    current = _require(db, reminder_id)
    today = china(now).date()
    due = rolled_forward_due(current.scheme, current.city, today)
    update_row(db, "reminders", reminder_id, {
        "last_date": today.isoformat(), "due": due.isoformat(), "snooze_day": None,
        "active": 1, "stopped": None, "updated_at": stamp(now),
        **_replan_fields(due, current.leads, None, now)})
    return _require(db, reminder_id)


def snooze(db: sqlite_utils.Database, reminder_id: int, now: dt.datetime) -> dt.datetime:
    """稍后提醒: once more tomorrow at 09:00. Returns when."""
    current = _require(db, reminder_id)
    tomorrow = china(now).date() + dt.timedelta(days=1)
    slot = snooze_slot(tomorrow)
    if not current.active:
        # Pressed under an old reminder after 停止提醒 or /stop: the plan starts again now,
        # or the sends missed while it was off would all go out at once.
        planned = _replan_fields(current.due, current.leads, tomorrow, now)
    else:
        planned = {"next_at": stamp(min(filter(None, (current.next_at, slot.at))))}
    update_row(db, "reminders", reminder_id, {
        "snooze_day": tomorrow.isoformat(), "active": 1, "stopped": None,
        "updated_at": stamp(now), **planned})
    return slot.at


def stop(db: sqlite_utils.Database, reminder_id: int, now: dt.datetime,
         reason: str = "user") -> Reminder:
    _require(db, reminder_id)
    update_row(db, "reminders", reminder_id,
            {"active": 0, "stopped": reason, "updated_at": stamp(now)})
    return _require(db, reminder_id)


def resume(db: sqlite_utils.Database, reminder_id: int, now: dt.datetime) -> Reminder:
    """Switch a stopped reminder back on; only sends still ahead are planned."""
    current = _require(db, reminder_id)
    update_row(db, "reminders", reminder_id, {
        "active": 1, "stopped": None, "snooze_day": None, "updated_at": stamp(now),
        **_replan_fields(current.due, current.leads, None, now)})
    return _require(db, reminder_id)


def stop_all(db: sqlite_utils.Database, user_id: int, now: dt.datetime,
             reason: str = "user") -> int:
    """/stop, or the user blocked the bot: every active reminder of theirs ends."""
    return switch_off(db, "reminders", "user_id", user_id, now, reason)


def switch_off(db: sqlite_utils.Database, table: str, owner: str, owner_id: int,
                now: dt.datetime, reason: str) -> int:
    """Every active row of `table` whose `owner` column is `owner_id` stops, with why."""
    cursor = db.conn.execute(
        f"UPDATE {table} SET active = 0, stopped = ?, updated_at = ? "
        f"WHERE {owner} = ? AND active = 1", (reason, stamp(now), owner_id))
    return cursor.rowcount


def count_active(db: sqlite_utils.Database) -> int:
    """How many personal reminders are switched on (logged at start-up)."""
    return db.conn.execute("SELECT count(*) FROM reminders WHERE active = 1").fetchone()[0]


def delete(db: sqlite_utils.Database, reminder_id: int) -> bool:
    """Forget a reminder (its outbox rows stay for the counts until /forget removes them)."""
    return db.conn.execute("DELETE FROM reminders WHERE id = ?", (reminder_id,)).rowcount > 0


def delete_user_reminders(db: sqlite_utils.Database, user_id: int) -> int:
    """Forget every reminder of a user, and their outbox rows, which hold the chat (/forget).

    A row being sent right now stays: its sender marks it when the send returns. Ids are
    never reused (AUTOINCREMENT), so nothing can be queued again for a deleted reminder. Rows
    of reminders deleted before (🗑) are found by their chat: personal reminders are sent to
    the private chat, whose id is the user's.
    """
    with transaction(db):
        db.conn.execute(
            "DELETE FROM reminder_outbox WHERE kind = 'personal' AND status != 'sending' AND "
            "(ref_id IN (SELECT id FROM reminders WHERE user_id = ?) OR chat_id = ?)",
            (user_id, user_id))
        return db.conn.execute("DELETE FROM reminders WHERE user_id = ?",
                               (user_id,)).rowcount


def migrate_chat(db: sqlite_utils.Database, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: its reminders (and their open sends) follow it."""
    with transaction(db):
        for table in ("group_reminders", "reminders"):
            db.conn.execute(f"UPDATE {table} SET chat_id = ? WHERE chat_id = ?",
                            (new_chat_id, old_chat_id))
        db.conn.execute("UPDATE reminder_outbox SET chat_id = ? WHERE chat_id = ? "
                        "AND status IN ('pending', 'sending')", (new_chat_id, old_chat_id))
