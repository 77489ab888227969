"""Reminders: when to remind whom, and a durable record of every send.

Three tables, created by `ensure_reminder_tables`:

- `reminders`: one row per person a user wants reminding about (自己, 父亲 …): user and chat id,
  a label, scheme, city and dates. Nothing else about the person is kept.
- `group_reminders`: a group's monthly notice set by its admins (每月1日 09:00 + their text).
- `reminder_outbox`: one row per planned send, unique per (kind, reminder, due date, slot),
  written *before* the send (pending → sending) and updated after it (sent / failed / skipped),
  so a crash or restart neither drops a reminder nor creates a second one.

The schedule lives here, not in a job queue: each reminder keeps `next_at`, the earliest
planned send not yet handed to the outbox. `enqueue_due(db, now)` moves everything whose time
has come into the outbox (catch-up included), and a sender drains the outbox.

Pure parts take "now"/"today" as parameters. Times are China time (Asia/Shanghai, no DST), so
the stored 'YYYY-MM-DD HH:MM' strings sort in time order.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlite_utils
from sqlite_utils.migrations import Migrations

from bot.db.connection import apply_migrations
from bot.db.connection import transaction as storage_transaction
from bot.deadline.regions import channels_for, lookup_region, rule_for
from bot.deadline.rules import (
    DeadlineResult,
    before_due,
    cn_date,
    cn_month,
    compute_deadline,
    suspended_from,
)
from bot.deadline.schemes import SCHEMES
from bot.errors import BotError
from bot.text.dates import cn_number

try:
    CHINA: dt.tzinfo = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:  # no tzdata: China has had no DST since 1991, so +8 is exact
    CHINA = dt.timezone(dt.timedelta(hours=8))
# The zone stamps are written and read in: the settings' BOT_TIMEZONE, given by whoever starts
# the sender or a command (`use_timezone`); China time until then.
_zone: dt.tzinfo = CHINA

SEND_HOUR = 9
DEFAULT_LEADS: tuple[int, ...] = (30, 7, 1, -1)  # days before the due date; -1 = a day after
MIN_LEAD, MAX_LEAD, MAX_LEADS = -30, 365, 6
# Nothing is sent from 21:00 to 08:00: a reminder caught up at night waits for the morning.
SENDING_FROM_HOUR, SENDING_UNTIL_HOUR = 8, 21
# A reminder caught up after a downtime is still worth sending within this many days of its
# planned day (unless a newer one has come due); older ones are skipped with a record.
CATCHUP_DAYS = 7
GROUP_CATCHUP_DAYS = 3
MAX_REMINDERS_PER_USER = 10
MAX_GROUP_REMINDERS = 5
MAX_LABEL_CHARS = 10
MAX_GROUP_TEXT_CHARS = 500
SNOOZE_PREFIX = "snooze:"
GROUP_SLOT = "monthly"
_STAMP = "%Y-%m-%d %H:%M"

SELF_LABELS = ("自己", "本人", "我")
LABEL_CHOICES = ("自己", "父亲", "母亲", "配偶", "岳父", "岳母", "公公", "婆婆")


class ReminderError(BotError):
    """Input for a reminder we cannot accept; the message is polite Chinese for the user."""


# --- time ------------------------------------------------------------------------------------


def use_timezone(zone: dt.tzinfo) -> None:
    """Plan, stamp and read reminder times in `zone` (the settings' BOT_TIMEZONE)."""
    global _zone
    _zone = zone


def zone() -> dt.tzinfo:
    """The zone reminder times are in."""
    return _zone


def china(moment: dt.datetime) -> dt.datetime:
    """`moment` in the bot's time zone (China time by default); naive values are taken as
    being in it already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=_zone)
    return moment.astimezone(_zone)


def stamp(moment: dt.datetime) -> str:
    """China time to the minute, the form stored in the tables."""
    return china(moment).strftime(_STAMP)


def from_stamp(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=_zone)  # much faster than strptime


def at_send_hour(day: dt.date, hour: int = SEND_HOUR, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=_zone)


def plan_start(now: dt.datetime) -> dt.datetime:
    """The first whole minute after `now`: a plan made now holds only sends still ahead."""
    return china(now).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)


def in_sending_hours(now: dt.datetime) -> bool:
    """True in the daytime (08:00–20:59 China time), when a reminder may go out."""
    return SENDING_FROM_HOUR <= china(now).hour < SENDING_UNTIL_HOUR


# --- plans -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One planned send: its key in the outbox, its day and time, and the lead it stands for."""

    key: str
    day: dt.date
    at: dt.datetime
    lead: int | None  # None for a snooze

    @property
    def is_snooze(self) -> bool:
        return self.lead is None


def plan(due: dt.date, leads: Iterable[int] = DEFAULT_LEADS) -> list[Slot]:
    """Sends for a due date: each lead day at 09:00 China time, earliest first."""
    slots = []
    for lead in sorted(set(leads), reverse=True):
        day = due - dt.timedelta(days=lead)
        slots.append(Slot(str(lead), day, at_send_hour(day), lead))
    return slots


def snooze_slot(day: dt.date) -> Slot:
    return Slot(f"{SNOOZE_PREFIX}{day.isoformat()}", day, at_send_hour(day), None)


def _order(slot: Slot) -> tuple[dt.datetime, int]:
    # On a day with both a planned send and a snooze, the planned one counts (it is "newer").
    return slot.at, 0 if slot.is_snooze else 1


def describe_lead(lead: int) -> str:
    if lead > 0:
        return f"提前{lead}天"
    if lead == 0:
        return "到期当天"
    return f"过期后{-lead}天"


def describe_leads(leads: Iterable[int]) -> str:
    return "、".join(describe_lead(lead) for lead in sorted(set(leads), reverse=True))


def format_leads(leads: Iterable[int]) -> str:
    return ",".join(str(lead) for lead in sorted(set(leads), reverse=True))


def leads_from_text(text: str) -> tuple[int, ...]:
    """The stored form '30,7,1,-1' back to a tuple."""
    return tuple(int(part) for part in text.split(",") if part.strip())


_LEAD_WORDS = {"当天": "0", "到期当天": "0", "当日": "0"}


def parse_leads(text: str) -> tuple[int, ...]:
    """Lead days as a user types them: '30 7 1', '30，7，1，当天', '15、3、-1'."""
    cleaned = text.strip()
    for word, value in _LEAD_WORDS.items():
        cleaned = cleaned.replace(word, f" {value} ")
    cleaned = re.sub(r"过期后?\s*(\d+)\s*天?", r" -\1 ", cleaned)
    cleaned = re.sub(r"[天日号前提]", " ", cleaned)
    tokens = [t for t in re.split(r"[\s,，、;；/]+", cleaned) if t]
    if not tokens:
        raise ReminderError("请发几个数字，表示提前几天提醒，例如：30 7 1")
    leads: set[int] = set()
    for token in tokens:
        value = int(token) if re.fullmatch(r"-?\d{1,3}", token) else cn_number(token)
        if value is None:
            raise ReminderError(f"没看懂“{token}”，请只写数字，例如：30 7 1（0 表示到期当天）")
        if not MIN_LEAD <= value <= MAX_LEAD:
            raise ReminderError(f"提前天数要在 {MIN_LEAD} 到 {MAX_LEAD} 之间，“{token}”超出了范围")
        leads.add(value)
    if len(leads) > MAX_LEADS:
        raise ReminderError(f"最多设置{MAX_LEADS}个提醒时间，请少写几个")
    return tuple(sorted(leads, reverse=True))


# --- due dates -------------------------------------------------------------------------------


def due_for(scheme: str, city: str | None, *, last: dt.date, today: dt.date,
            day_assumed: bool = False) -> DeadlineResult:
    """The calculator's answer for one person (the due date and its explanation)."""
    return compute_deadline(rule_for(scheme, city), today=today, last=last,
                            day_assumed=day_assumed)


def rolled_forward_due(scheme: str, city: str | None, today: dt.date) -> dt.date:
    """The next due date for someone who certified today (我已认证)."""
    return due_for(scheme, city, last=today, today=today).due


def clean_label(text: str) -> str:
    """Who a reminder is for, as the user calls them; refuses anything that looks like an ID."""
    label = re.sub(r"\s+", "", text or "")
    if not label:
        raise ReminderError("请告诉我这个提醒是给谁的，例如：自己、父亲、母亲")
    if re.search(r"\d{4,}", label):
        raise ReminderError("称呼里请不要写身份证号、电话这类数字，写“父亲”“母亲”就行")
    if len(label) > MAX_LABEL_CHARS:
        raise ReminderError(f"称呼请短一些（不超过{MAX_LABEL_CHARS}个字），例如：父亲、大姨")
    return label


def who(label: str) -> str:
    return "您" if label in SELF_LABELS else label


# --- storage ---------------------------------------------------------------------------------

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


def _rows(db: sqlite_utils.Database, sql: str, params: Iterable[Any] = ()) -> list[dict]:
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
        return sorted((s for s in slots if s.at >= self.plan_from), key=_order)

    def upcoming(self, now: dt.datetime) -> list[Slot]:
        return [s for s in self.slots() if s.at > china(now)]


def _next_at(slots: Iterable[Slot], after: dt.datetime) -> str | None:
    later = [s.at for s in slots if s.at > after]
    return stamp(min(later)) if later else None


def _replan_fields(due: dt.date, leads: tuple[int, ...], snooze_day: dt.date | None,
                   now: dt.datetime) -> dict[str, Any]:
    """plan_from and next_at for a plan that starts now."""
    slots = plan(due, leads) + ([snooze_slot(snooze_day)] if snooze_day else [])
    return {"plan_from": stamp(plan_start(now)), "next_at": _next_at(slots, china(now))}


def _update(db: sqlite_utils.Database, table: str, row_id: int, fields: dict[str, Any]) -> None:
    assignments = ", ".join(f"{name} = ?" for name in fields)
    db.conn.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", (*fields.values(), row_id))


def get_reminder(db: sqlite_utils.Database, reminder_id: int) -> Reminder | None:
    rows = _rows(db, "SELECT * FROM reminders WHERE id = ?", (reminder_id,))
    return Reminder.from_row(rows[0]) if rows else None


def user_reminders(db: sqlite_utils.Database, user_id: int) -> list[Reminder]:
    rows = _rows(db, "SELECT * FROM reminders WHERE user_id = ? ORDER BY id", (user_id,))
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
        same = _rows(db, "SELECT id FROM reminders WHERE user_id = ? AND label = ?",
                     (user_id, label))
        if same:
            reminder_id = same[0]["id"]
            _update(db, "reminders", reminder_id, fields)
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
    _update(db, "reminders", reminder_id, {
        "leads": format_leads(leads), "updated_at": stamp(now),
        **_replan_fields(current.due, leads, current.snooze_day, now)})
    return _require(db, reminder_id)


def certified(db: sqlite_utils.Database, reminder_id: int, now: dt.datetime) -> Reminder:
    """我已认证: today becomes the last certification and the plan starts over from it."""
    current = _require(db, reminder_id)
    today = china(now).date()
    due = rolled_forward_due(current.scheme, current.city, today)
    _update(db, "reminders", reminder_id, {
        "last_date": today.isoformat(), "due": due.isoformat(), "snooze_day": None,
        "active": 1, "stopped": None, "updated_at": stamp(now),
        **_replan_fields(due, current.leads, None, now)})
    return _require(db, reminder_id)


def snooze(db: sqlite_utils.Database, reminder_id: int, now: dt.datetime) -> dt.datetime:
    """稍后提醒: once more tomorrow at 09:00. Returns when."""
    current = _require(db, reminder_id)
    tomorrow = china(now).date() + dt.timedelta(days=1)
    slot = snooze_slot(tomorrow)
    next_at = min(filter(None, (current.next_at, slot.at)))
    # The snooze must count even if it lies before plan_from (it never does; kept explicit).
    _update(db, "reminders", reminder_id, {
        "snooze_day": tomorrow.isoformat(), "next_at": stamp(next_at), "active": 1,
        "stopped": None, "updated_at": stamp(now)})
    return slot.at


def stop(db: sqlite_utils.Database, reminder_id: int, now: dt.datetime,
         reason: str = "user") -> Reminder:
    _require(db, reminder_id)
    _update(db, "reminders", reminder_id,
            {"active": 0, "stopped": reason, "updated_at": stamp(now)})
    return _require(db, reminder_id)


def resume(db: sqlite_utils.Database, reminder_id: int, now: dt.datetime) -> Reminder:
    """Switch a stopped reminder back on; only sends still ahead are planned."""
    current = _require(db, reminder_id)
    _update(db, "reminders", reminder_id, {
        "active": 1, "stopped": None, "snooze_day": None, "updated_at": stamp(now),
        **_replan_fields(current.due, current.leads, None, now)})
    return _require(db, reminder_id)


def stop_all(db: sqlite_utils.Database, user_id: int, now: dt.datetime,
             reason: str = "user") -> int:
    """/stop, or the user blocked the bot: every active reminder of theirs ends."""
    cursor = db.conn.execute(
        "UPDATE reminders SET active = 0, stopped = ?, updated_at = ? "
        "WHERE user_id = ? AND active = 1", (reason, stamp(now), user_id))
    return cursor.rowcount


def delete(db: sqlite_utils.Database, reminder_id: int) -> bool:
    """Forget a reminder entirely (its outbox rows keep only ids and dates)."""
    return db.conn.execute("DELETE FROM reminders WHERE id = ?", (reminder_id,)).rowcount > 0


# --- group reminders -------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupSchedule:
    day: int
    hour: int
    minute: int
    text: str

    def describe(self) -> str:
        return f"每月{self.day}日 {self.hour:02d}:{self.minute:02d}"


@dataclass(frozen=True)
class GroupReminder:
    id: int
    chat_id: int
    created_by: int
    schedule: GroupSchedule
    plan_from: dt.datetime
    next_at: dt.datetime | None
    active: bool

    @classmethod
    def from_row(cls, row: dict) -> GroupReminder:
        return cls(row["id"], row["chat_id"], row["created_by"],
                   GroupSchedule(row["day"], row["hour"], row["minute"], row["text"]),
                   from_stamp(row["plan_from"]),
                   from_stamp(row["next_at"]) if row["next_at"] else None, bool(row["active"]))


_GROUP_RE = re.compile(
    r"^每个?月\s*(?P<day>\d{1,2}|[一二三四五六七八九十廿卅]{1,3})\s*[日号]?\s*[,，]?\s*"
    r"(?:(?P<part>早上|上午|中午|下午|晚上)?\s*(?P<h>\d{1,2})\s*"
    r"(?:[:：]\s*(?P<m>\d{2})|点(?:(?P<half>半)|(?P<m2>\d{1,2})分?)?))?"
    r"\s*[,，:：]?\s*(?P<text>.*)$",
    re.DOTALL,
)
GROUP_USAGE = (
    "设置群提醒的格式：/remind 每月几日 几点 提醒内容\n"
    "例如：/remind 每月1日 09:00 本月养老金资格认证开始了，不会操作的可以来社区找我们。\n"
    "时间可以不写（默认上午9点），只能在早8点到晚9点之间。"
)


def parse_group_schedule(text: str) -> GroupSchedule:
    """'每月1日 09:00 内容' → GroupSchedule; polite ReminderError otherwise."""
    match = _GROUP_RE.match((text or "").strip())
    if not match:
        raise ReminderError(GROUP_USAGE)
    raw_day = match.group("day")
    day = int(raw_day) if raw_day.isdigit() else cn_number(raw_day)
    if day is None or not 1 <= day <= 31:
        raise ReminderError(f"“{raw_day}日”不是有效的日期，请写1到31之间的数字。")
    hour, minute = SEND_HOUR, 0
    if match.group("h") is not None:
        hour = int(match.group("h"))
        minute = int(match.group("m") or match.group("m2") or (30 if match.group("half") else 0))
        if match.group("part") in ("下午", "晚上") and hour < 12:
            hour += 12
        if hour > 23 or minute > 59:
            raise ReminderError("时间写得不对，请写成 09:00 或 9点 这样。")
    if not SENDING_FROM_HOUR <= hour < SENDING_UNTIL_HOUR:
        raise ReminderError("为了不打扰大家休息，群提醒只能设在早上8点到晚上9点之间。")
    body = match.group("text").strip()
    if not body:
        raise ReminderError("还缺提醒内容。" + GROUP_USAGE)
    if len(body) > MAX_GROUP_TEXT_CHARS:
        raise ReminderError(f"提醒内容太长了，请控制在{MAX_GROUP_TEXT_CHARS}字以内。")
    return GroupSchedule(day, hour, minute, body)


def group_occurrence(schedule: GroupSchedule, year: int, month: int) -> dt.datetime:
    last_day = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    day = dt.date(year, month, min(schedule.day, last_day))
    return at_send_hour(day, schedule.hour, schedule.minute)


def group_occurrences(schedule: GroupSchedule, start: dt.datetime,
                      end: dt.datetime) -> list[dt.datetime]:
    """Notices with start <= time <= end, in order."""
    start, end = china(start), china(end)
    out = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        moment = group_occurrence(schedule, year, month)
        if start <= moment <= end:
            out.append(moment)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def next_group_at(schedule: GroupSchedule, after: dt.datetime) -> dt.datetime:
    after = china(after)
    year, month = after.year, after.month
    while True:
        moment = group_occurrence(schedule, year, month)
        if moment > after:
            return moment
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def add_group_reminder(db: sqlite_utils.Database, *, chat_id: int, created_by: int,
                       schedule: GroupSchedule, now: dt.datetime) -> GroupReminder:
    count = db.conn.execute(
        "SELECT count(*) FROM group_reminders WHERE chat_id = ? AND active = 1",
        (chat_id,)).fetchone()[0]
    if count >= MAX_GROUP_REMINDERS:
        raise ReminderError(f"一个群最多{MAX_GROUP_REMINDERS}条群提醒，请先删掉不用的"
                            "（发 /remind 可以看到删除按钮）。")
    cursor = db.conn.execute(
        "INSERT INTO group_reminders (chat_id, created_by, day, hour, minute, text, plan_from, "
        "next_at, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
        (chat_id, created_by, schedule.day, schedule.hour, schedule.minute, schedule.text,
         stamp(plan_start(now)), stamp(next_group_at(schedule, now)), stamp(now), stamp(now)))
    found = get_group_reminder(db, int(cursor.lastrowid))
    assert found is not None
    return found


def get_group_reminder(db: sqlite_utils.Database, reminder_id: int) -> GroupReminder | None:
    rows = _rows(db, "SELECT * FROM group_reminders WHERE id = ?", (reminder_id,))
    return GroupReminder.from_row(rows[0]) if rows else None


def group_reminders(db: sqlite_utils.Database, chat_id: int) -> list[GroupReminder]:
    rows = _rows(db, "SELECT * FROM group_reminders WHERE chat_id = ? AND active = 1 "
                     "ORDER BY id", (chat_id,))
    return [GroupReminder.from_row(r) for r in rows]


def delete_group_reminder(db: sqlite_utils.Database, reminder_id: int) -> bool:
    return db.conn.execute("DELETE FROM group_reminders WHERE id = ?",
                           (reminder_id,)).rowcount > 0


def deactivate_group(db: sqlite_utils.Database, chat_id: int, now: dt.datetime,
                     reason: str = "blocked") -> int:
    cursor = db.conn.execute(
        "UPDATE group_reminders SET active = 0, stopped = ?, updated_at = ? "
        "WHERE chat_id = ? AND active = 1", (reason, stamp(now), chat_id))
    return cursor.rowcount


def migrate_chat(db: sqlite_utils.Database, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: its reminders (and their open sends) follow it."""
    with transaction(db):
        for table in ("group_reminders", "reminders"):
            db.conn.execute(f"UPDATE {table} SET chat_id = ? WHERE chat_id = ?",
                            (new_chat_id, old_chat_id))
        db.conn.execute("UPDATE reminder_outbox SET chat_id = ? WHERE chat_id = ? "
                        "AND status IN ('pending', 'sending')", (new_chat_id, old_chat_id))


# --- the outbox ------------------------------------------------------------------------------


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
            rows = _rows(db, "SELECT * FROM reminders WHERE active = 1 AND next_at <= ? "
                             "ORDER BY next_at LIMIT ?", (now_key, batch))
            for row in rows:
                reminder = Reminder.from_row(row)
                slots = reminder.slots()
                assert reminder.next_at is not None
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
                                (_next_at(slots, now), reminder.id))
            stats.reminders += len(rows)
        if len(rows) < batch:
            break
    with transaction(db):
        for row in _rows(db, "SELECT * FROM group_reminders WHERE active = 1 AND next_at <= ?",
                         (now_key,)):
            group = GroupReminder.from_row(row)
            assert group.next_at is not None
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
    rows = _rows(db, "SELECT * FROM reminder_outbox WHERE status = 'pending' "
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
    assert status in ("failed", "skipped")
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

    def retry(self, item: Any, reason: str, delay: float | None) -> None:
        now = self.now()
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


# --- what a day holds (the CLI) --------------------------------------------------------------


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
        for row in _rows(db, f"SELECT * FROM reminders WHERE active = 1 AND due IN ({marks}) "
                             "AND leads = ?", (*dues, format_leads(leads))):
            found[row["id"]] = Reminder.from_row(row)
    for row in _rows(db, "SELECT * FROM reminders WHERE active = 1 AND snooze_day = ?",
                     (day.isoformat(),)):
        found[row["id"]] = Reminder.from_row(row)

    items: list[DueItem] = []
    for reminder in found.values():
        todays = [s for s in reminder.slots() if s.day == day]
        if not todays:
            continue
        slot = max(todays, key=_order)  # a snooze on a planned day merges into it
        items.append(DueItem("personal", reminder.id, reminder.chat_id, slot.at, slot.key,
                             reminder.due, "planned", reminder.label, reminder.scheme,
                             reminder.city, slot.lead))
    for row in _rows(db, "SELECT * FROM group_reminders WHERE active = 1"):
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
            for row in _rows(db, "SELECT ref_id, due, slot, status FROM reminder_outbox "
                                 f"WHERE kind = ? AND ref_id IN ({', '.join('?' * len(chunk))})",
                             (kind, *chunk)):
                out[(kind, row["ref_id"], dt.date.fromisoformat(row["due"]),
                     row["slot"])] = row["status"]
    return out


# --- what a reminder says --------------------------------------------------------------------

_PAREN = re.compile(r"（[^）]*）|\([^)]*\)")
_ONLINE = ("app", "mini_program", "wechat", "website")


def channel_lines(city: str | None, limit: int = 3) -> list[str]:
    """Where to certify, the city's (then province's) own channels first."""
    region = lookup_region(city) if city else None
    lines: list[str] = []
    names: set[str] = set()
    for channel in channels_for(region):
        if channel.kind not in _ONLINE or not channel.verified:
            continue
        name = _PAREN.sub("", channel.name).strip()
        if name in names:
            continue
        names.add(name)
        lines.append(f"· {name}")
        if len(lines) == limit:
            break
    lines.append("· 也可以带上身份证，到社区或社保服务窗口办理")
    return lines


def status_line(due: dt.date, today: dt.date) -> str:
    """How long is left, always asking for the certification before the due date."""
    days = (due - today).days
    if days > 1:
        return f"到期日是{cn_date(due)}，还有{days}天，{before_due(due)}。"
    if days == 1:
        return f"明天（{cn_date(due)}）就到期了，请今天就去办。"
    if days == 0:
        return f"今天（{cn_date(due)}）就是到期日，请今天就去认证，别再拖了。"
    return f"到期日是{cn_date(due)}，已经过了{-days}天。"


def reminder_text(reminder: Reminder, today: dt.date) -> str:
    """The message a reminder sends, written for `today`."""
    scheme = SCHEMES[reminder.scheme].short
    person = who(reminder.label)
    header = "⏰ 认证提醒" + ("" if reminder.label in SELF_LABELS else f"（{reminder.label}）")
    lines = [header, f"{person}的{scheme}资格认证：{status_line(reminder.due, today)}"]
    applied = rule_for(reminder.scheme, reminder.city)
    if reminder.due < today:
        year, month = suspended_from(applied.rule, reminder.due)
        lines.append(f"过期可能会从{cn_month(f'{year}-{month:02d}')}起暂停发放，暂停不是取消，"
                     "补上认证就能恢复，停发的部分会补发。请尽快去办。")
    if applied.passive is not None:
        lines.append(f"提示：{applied.passive.text}这个提醒是给需要自己认证的人的"
                     f"（例如非{applied.passive.who}）。")
    where = f"（{reminder.city}）" if reminder.city else ""
    lines.append(f"怎么认证{where}：")
    lines.extend(channel_lines(reminder.city))
    lines.append("办好后请点“我已认证”，我会按新的日期继续提醒；今天不方便就点“稍后提醒”。")
    lines.append("认证不收钱，不会要密码和验证码，要钱、发链接的都是骗子。")
    return "\n".join(lines)


def group_text(group: GroupReminder) -> str:
    return f"📢 群提醒\n{group.schedule.text}"


def plan_lines(reminder: Reminder, now: dt.datetime) -> list[str]:
    """The sends still ahead, for confirmations and /myreminders."""
    lines = []
    for slot in reminder.upcoming(now):
        what = "稍后提醒" if slot.is_snooze else describe_lead(slot.lead or 0)
        lines.append(f"· {cn_date(slot.day)} 上午{slot.at.hour}点（{what}）")
    return lines
