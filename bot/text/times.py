"""Times of day and the moments admins type for a scheduled notice: 9点半, 下午3点,
明天上午九点, 下周一 9:00, 30分钟后 (dates alone are `bot.text.dates`)."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta

from bot.errors import DateParseError
from bot.text.normalize import normalize

_LATER_PARTS = ("下午", "晚上")  # an hour under 12 after these is in the afternoon or evening
_SEND_AFTER = re.compile(r"^(?P<n>\d{1,4})\s*(?P<unit>分钟|小时|天)后$")
_SEND_UNITS = {"分钟": "minutes", "小时": "hours", "天": "days"}
_SEND_DAYS = (("今天", 0), ("明天", 1), ("后天", 2))
_SEND_SHORT_DAYS = (("明早", "明天早上"), ("明晚", "明天晚上"), ("今早", "今天早上"),
                    ("今晚", "今天晚上"), ("明儿", "明天"))
# 下周一, 周六, 本周六, 星期三, 礼拜天: the next such day (下 puts it in next week).
_WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")
_SEND_WEEKDAY = re.compile(r"^(?P<next>下个?)?(?:本|这)?(?:周|星期|礼拜)(?P<day>[一二三四五六日天])"
                           r"(?P<rest>.*)$")
_SEND_DATE = re.compile(
    r"^(?:(?P<year>\d{4})[-/年.])?(?P<month>\d{1,2})[-/月.](?P<day>\d{1,2})[日号]?\s*"
    r"(?P<rest>.*)$")
_SEND_CLOCK = re.compile(
    r"^(?P<part>上午|早上|中午|下午|晚上)?\s*(?P<hour>\d{1,2})(?:[:：点时](?P<minute>\d{1,2})?分?)?"
    r"(?P<half>半)?$")


def clock_time(part: str | None, hour: str, minute: str | None,
               half: str | None) -> tuple[int, int] | None:
    """A time of day as typed (下午, 3, None, 半) → 24-hour (15, 30); None when out of range."""
    hours, minutes = int(hour), int(minute or (30 if half else 0))
    if part in _LATER_PARTS and hours < 12:
        hours += 12
    if hours > 23 or minutes > 59:
        return None
    return hours, minutes


def _a_year_later(day: date) -> date:
    """The same month and day in a later year; 2月29日 skips the years that have none."""
    year = day.year + 1
    while (day.month, day.day) == (2, 29) and not calendar.isleap(year):
        year += 1
    return day.replace(year=year)


def parse_send_time(text: str, now: datetime) -> datetime:
    """A moment typed by an admin, in `now`'s timezone: "2026-11-25 09:30", "明天 9点",
    "11月25日 下午3点", "15:00", "30分钟后". A date without a year is the next one to come, a
    time without a date the next one to come; raises DateParseError."""
    # 明天上午九点 as 明天上午9点, 半小时后 as 30分钟后, 明早 as 明天早上, 下周一 as a date.
    raw = re.sub(r"\s+", " ", normalize((text or "").strip()))
    raw = raw.replace("半小时", "30分钟").replace("半个小时", "30分钟")
    for short, long in _SEND_SHORT_DAYS:
        if raw.startswith(short):
            raw = long + raw[len(short):]
            break
    weekday = _SEND_WEEKDAY.match(raw)
    if weekday:
        target = _WEEKDAYS.index(weekday.group("day").replace("天", "日"))
        if weekday.group("next"):  # 下周一: in the week after this one
            ahead = 7 - now.weekday() + target
        else:  # 周六, 本周六: the coming one (today, if it is that day)
            ahead = (target - now.weekday()) % 7
        day_text = f"{now.date() + timedelta(days=ahead):%Y-%m-%d}"
        raw = f"{day_text} {weekday.group('rest').strip()}".strip()
    relative = _SEND_AFTER.match(raw.replace(" ", ""))
    if relative:
        unit = _SEND_UNITS[relative.group("unit")]
        try:
            return now + timedelta(**{unit: int(relative.group("n"))})
        except OverflowError:  # "99999999999天后": past any date Python can hold
            raise DateParseError("这个时间太远了，请给一个近一点的时间。") from None
    day: date | None = None
    rest = raw
    for word, offset in _SEND_DAYS:
        if raw.startswith(word):
            day, rest = now.date() + timedelta(days=offset), raw[len(word):].strip()
            break
    if day is None:
        match = _SEND_DATE.match(raw)
        if match:
            try:
                day = date(int(match.group("year") or now.year), int(match.group("month")),
                           int(match.group("day")))
            except ValueError:
                raise DateParseError("日期不存在，请检查月份和日子。") from None
            if not match.group("year") and day < now.date():
                day = _a_year_later(day)
            rest = match.group("rest").strip()
    clock = _SEND_CLOCK.match(rest.replace(" ", "")) if rest else None
    if rest and not clock:
        example = f"{now + timedelta(days=1):%Y-%m-%d} 09:30"
        raise DateParseError(f"没看懂这个时间。请写成 {example}、明天 9:30 或 30分钟后。")
    hour, minute = 9, 0  # a date alone means the start of the working day
    if clock:
        read = clock_time(clock.group("part"), clock.group("hour"), clock.group("minute"),
                          clock.group("half"))
        if read is None:
            raise DateParseError("时间不对：小时要在 0–23 之间，分钟在 0–59 之间。")
        hour, minute = read
    if day is None:
        day = now.date()
        if time(hour, minute) <= now.time():
            day += timedelta(days=1)
    moment = datetime.combine(day, time(hour, minute), tzinfo=now.tzinfo)
    if weekday and moment <= now:  # 周一 9:00 said on a Monday at 10: the Monday to come
        moment += timedelta(days=7)
    return moment
