"""What a day holds (the CLI's `reminders due`): every send planned for one day, personal
and group, with its outbox status."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from bot.reminders.group_notices import GroupReminder
from bot.reminders.plans import (
    GROUP_SLOT,
    format_leads,
    group_occurrence,
    leads_from_text,
    slot_order,
)
from bot.reminders.store import Reminder, fetch


@dataclass(frozen=True)
class DueItem:
    kind: str
    ref_id: int
    chat_id: int
    at: dt.datetime
    slot: str
    due: dt.date
    status: str  # planned, or the outbox status
    label: str | None = None
    scheme: str | None = None
    city: str | None = None
    lead: int | None = None
    text: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.ref_id, "chat_id": self.chat_id,
                "at": self.at.isoformat(), "slot": self.slot, "due": self.due.isoformat(),
                "lead": self.lead, "status": self.status, "label": self.label,
                "scheme": self.scheme, "city": self.city, "text": self.text}


def due_on(db: sqlite_utils.Database, day: dt.date) -> list[DueItem]:
    """Every send planned for `day` (China time), personal and group, with its outbox status.

    A reminder has a send on `day` when its due date is `day + lead` for one of its leads, so
    the look-up goes through the due-date index, one query per distinct lead set in use.
    """
    found: dict[int, Reminder] = {}
    for leads in _lead_sets(db):
        dues = sorted({(day + dt.timedelta(days=lead)).isoformat() for lead in leads})
        marks = ", ".join("?" * len(dues))
        for row in fetch(db, f"SELECT * FROM reminders WHERE active = 1 AND due IN ({marks}) "
                             "AND leads = ?", (*dues, format_leads(leads))):
            found[row["id"]] = Reminder.from_row(row)
    for row in fetch(db, "SELECT * FROM reminders WHERE active = 1 AND snooze_day = ?",
                     (day.isoformat(),)):
        found[row["id"]] = Reminder.from_row(row)

    items: list[DueItem] = []
    for reminder in found.values():
        todays = [s for s in reminder.slots() if s.day == day]
        if not todays:
            continue
        slot = max(todays, key=slot_order)  # a snooze on a planned day merges into it
        items.append(DueItem("personal", reminder.id, reminder.chat_id, slot.at, slot.key,
                             reminder.due, "planned", reminder.label, reminder.scheme,
                             reminder.city, slot.lead))
    for row in fetch(db, "SELECT * FROM group_reminders WHERE active = 1"):
        group = GroupReminder.from_row(row)
        moment = group_occurrence(group.schedule, day.year, day.month)
        if moment.date() == day and moment >= group.plan_from:
            items.append(DueItem("group", group.id, group.chat_id, moment, GROUP_SLOT, day,
                                 "planned", text=group.schedule.text))
    statuses = _outbox_statuses(db, items)
    items = [DueItem(**{**i.__dict__, "status": statuses.get((i.kind, i.ref_id, i.due, i.slot),
                                                             "planned")}) for i in items]
    return sorted(items, key=lambda i: (i.at, i.kind, i.ref_id))


def _lead_sets(db: sqlite_utils.Database) -> list[tuple[int, ...]]:
    """The distinct lead sets of active reminders: one index seek per set (a loose index
    scan), where SELECT DISTINCT would read every row of the index."""
    found: list[tuple[int, ...]] = []
    current = ""
    while True:
        row = db.conn.execute("SELECT min(leads) FROM reminders WHERE active = 1 AND leads > ?",
                              (current,)).fetchone()
        if row is None or row[0] is None:
            return found
        current = row[0]
        found.append(leads_from_text(current))


def _outbox_statuses(db: sqlite_utils.Database,
                     items: list[DueItem]) -> dict[tuple[str, int, dt.date, str], str]:
    out: dict[tuple[str, int, dt.date, str], str] = {}
    for kind in ("personal", "group"):
        ids = sorted({i.ref_id for i in items if i.kind == kind})
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for row in fetch(db, "SELECT ref_id, due, slot, status FROM reminder_outbox "
                                 f"WHERE kind = ? AND ref_id IN ({', '.join('?' * len(chunk))})",
                             (kind, *chunk)):
                out[(kind, row["ref_id"], dt.date.fromisoformat(row["due"]),
                     row["slot"])] = row["status"]
    return out
