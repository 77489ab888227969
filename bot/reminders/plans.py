"""What to remind when: the plan of a personal reminder (lead days before its due date, a
snooze) and of a group's monthly notice, and the clock they are planned on. Pure: "now" and
"today" are parameters, nothing here reads the database.

Times are China time (Asia/Shanghai, no DST) unless the settings say otherwise
(`use_timezone`), so the stored 'YYYY-MM-DD HH:MM' stamps sort in time order.
The typed lead days ('30 7 1') and group times ('每月1日 09:00') are read here too
(`parse_leads`, `parse_group_schedule`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.deadline.calculator import compute_deadline
from bot.deadline.regions import rule_for
from bot.deadline.rules import DeadlineResult
from bot.errors import BotError
from bot.text.dates import cn_number
from bot.text.normalize import quoted
from bot.text.times import clock_time

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


def slot_order(slot: Slot) -> tuple[dt.datetime, int]:
    # On a day with both a planned send and a snooze, the planned one counts (it is "newer").
    return slot.at, 0 if slot.is_snooze else 1



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
        said = quoted(token)
        if value is None:
            raise ReminderError(f"没看懂“{said}”，请只写数字，例如：30 7 1（0 表示到期当天）")
        if not MIN_LEAD <= value <= MAX_LEAD:
            raise ReminderError(f"提前天数要在 {MIN_LEAD} 到 {MAX_LEAD} 之间，“{said}”超出了范围")
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


def next_at_stamp(slots: Iterable[Slot], after: dt.datetime) -> str | None:
    """The stamp of the first send after `after`, or None when the plan is spent."""
    later = [s.at for s in slots if s.at > after]
    return stamp(min(later)) if later else None


# --- group notices ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupSchedule:
    day: int
    hour: int
    minute: int
    text: str

    def describe(self) -> str:
        return f"每月{self.day}日 {self.hour:02d}:{self.minute:02d}"



_GROUP_RE = re.compile(
    r"^每个?月\s*(?P<day>\d{1,2}|[一二三四五六七八九十廿卅]{1,3})\s*[日号]?\s*[,，]?\s*"
    r"(?:(?P<part>早上|上午|中午|下午|晚上)?\s*(?P<h>\d{1,2}|[一二两三四五六七八九十]{1,3})\s*"
    r"(?:[:：.．]\s*(?P<m>\d{2})|点钟?(?:(?P<half>半)|(?P<m2>\d{1,2}|[一二三四五六七八九十]{1,3})"
    r"分?)?))?"
    r"\s*[,，:：]?\s*(?P<text>.*)$",
    re.DOTALL,
)
_MORE_DAYS = re.compile(r"^(和|、|及|与|跟)\s*(\d{1,2}|[一二三四五六七八九十廿卅]{1,3})\s*[日号]")
_TIME_RANGE = re.compile(r"^[-~～到至]\s*\d")
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
    day = cn_number(raw_day)
    if day is None or not 1 <= day <= 31:
        raise ReminderError(f"“{raw_day}日”不是有效的日期，请写1到31之间的数字。")
    hour, minute = SEND_HOUR, 0
    body = match.group("text").strip()
    if _MORE_DAYS.match(body):  # 每月1日和15日: one notice is one day
        raise ReminderError("一条群提醒只能设一个日子：几个日子请分开设，"
                            "例如 /remind 每月1日 9:00 … 和 /remind 每月15日 9:00 …")
    if _TIME_RANGE.match(body):  # 8:00-11:00: a notice goes out at one time
        raise ReminderError("群提醒在一个时间点发出：请只写开始的时间（例如 8:00），"
                            "时间段写进提醒内容里就行。")
    if match.group("h") is not None:
        hour_text = str(cn_number(match.group("h")) or match.group("h"))
        minute_text = match.group("m") or match.group("m2")
        if minute_text and not minute_text.isdigit():
            minute_text = str(cn_number(minute_text) or minute_text)
        read = clock_time(match.group("part"), hour_text, minute_text, match.group("half"))
        if read is None:
            raise ReminderError("时间写得不对，请写成 09:00 或 9点 这样。")
        hour, minute = read
    if not SENDING_FROM_HOUR <= hour < SENDING_UNTIL_HOUR:
        raise ReminderError("为了不打扰大家休息，群提醒只能设在早上8点到晚上9点之间。")
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
