"""The deadline calculator: when the next certification is due, and what happens when it is late.

Pure: every input, "today" included, is a parameter.
"""

from __future__ import annotations

import calendar
from datetime import date

from bot.deadline.explanation import explain
from bot.deadline.rules import (
    AppliedRule,
    DeadlineResult,
    Resumption,
    Rule,
    add_months,
    month_key,
    satisfied_window,
    window_after,
    windows_of_year,
)
from bot.text.dates import shift_month

DEFAULT_SOON_DAYS = 30


def due_date(rule: Rule, base: date) -> tuple[date, tuple[date, date] | None]:
    """When the certification after one made on `base` is due, and the window it belongs to."""
    if rule.type == "rolling":
        assert rule.months is not None
        return add_months(base, rule.months), None
    if rule.type == "calendar_year":
        year = base.year + 1
        return date(year, 12, 31), (date(year, 1, 1), date(year, 12, 31))
    # windows: the first window after the one `base` satisfies; every earlier one counts as done
    # because we only know the most recent certification.
    window = window_after(rule, satisfied_window(rule, base))
    return window[1], window


def first_due_date(rule: Rule, start: date) -> tuple[date, tuple[date, date] | None]:
    """The first certification of someone whose benefits began on `start`.

    Usually the benefit start stands in for a certification (start + N months, as the spec
    says); a region with `first_certification: benefit_month` wants it in the month benefits
    begin: by the month's last day, or in the window that holds (or follows) `start`."""
    if rule.first_certification != "benefit_month":
        return due_date(rule, start)
    if rule.type == "windows":
        candidates = windows_of_year(rule, start.year) + windows_of_year(rule, start.year + 1)
        window = next(w for w in candidates if w[1] >= start)
        return window[1], window
    month_end = date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])
    return month_end, None


def status_for(days_left: int, soon_days: int = DEFAULT_SOON_DAYS) -> str:
    if days_left < 0:
        return "overdue"
    if days_left <= soon_days:
        return "due_soon"
    return "ok"


def suspended_from(rule: Rule, due: date) -> tuple[int, int]:
    if rule.suspension == "next_month":
        return shift_month(due.year, due.month)
    return due.year, due.month


def resumption(rule: Rule, suspended: tuple[int, int], certified: date) -> Resumption:
    """Payment after re-certifying on `certified`: from the next month, or, where the region
    has a cutoff day and it has passed, the month after that; back pay for the months between."""
    late = rule.resume_cutoff_day is not None and certified.day > rule.resume_cutoff_day
    resume = shift_month(certified.year, certified.month, 2 if late else 1)
    months: list[str] = []
    cursor = suspended
    while cursor < resume:
        months.append(month_key(*cursor))
        cursor = shift_month(*cursor)
    return Resumption(month_key(*resume), tuple(months))


def compute_deadline(
    applied: AppliedRule,
    *,
    today: date,
    last: date | None = None,
    start: date | None = None,
    soon_days: int = DEFAULT_SOON_DAYS,
    day_assumed: bool = False,
) -> DeadlineResult:
    """Next due date, status, suspension and back pay for one person.

    `last` is the most recent certification; without one, `start` (the first month of
    benefits) stands in for it, so rolling gives start + N months, as the spec says.
    `day_assumed` says the caller only knew the month and passed its 1st; the text says so.
    """
    if (last is None) == (start is None):
        raise ValueError("give exactly one of last= or start=")
    rule = applied.rule
    if last is not None:
        due, window = due_date(rule, last)
    else:
        assert start is not None
        due, window = first_due_date(rule, start)
    days_left = (due - today).days
    status = status_for(days_left, soon_days)

    notes: list[str] = []
    suspended: str | None = None
    after: Resumption | None = None
    if status == "overdue":
        month = suspended_from(rule, due)
        suspended = month_key(*month)
        after = resumption(rule, month, today)
        notes.append("逾期是暂停发放，不是取消资格；补认证后恢复发放并补发，补发不计利息。")
    if days_left == 0:
        notes.append("今天就是到期日，请今天就去认证。")
    if last is None:
        if rule.first_certification == "benefit_month":
            notes.append("还没有认证记录：按当地规定，领取待遇的当月就要先认证一次。")
        else:
            notes.append("还没有认证记录，按开始领取待遇的日期起算。")
    if day_assumed:
        base = last or start
        assert base is not None
        notes.append(f"只知道月份，按{base.month}月1日计算，实际截止日可能稍晚。")
    notes.extend(applied.notes)

    result = DeadlineResult(
        scheme=applied.scheme,
        region=applied.region,
        rule=rule,
        rule_label=applied.label,
        status=status,
        due=due,
        days_left=days_left,
        window=window,
        suspended_from=suspended,
        if_certified_today=after,
        notes=tuple(notes),
    )
    return explain(result, applied, last=last, start=start, day_assumed=day_assumed)
