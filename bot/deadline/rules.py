"""Certification rules (the three types of shared/spec/certification-rules.md), the results
computed from them, and the calendar of their windows.

The rule for a place comes from region data (`bot.deadline.regions.rule_for`); the calculator
is `bot.deadline.calculator`, its Chinese explanation `bot.deadline.explanation`.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

RULE_TYPES = ("rolling", "windows", "calendar_year")
# due_month: payment stops in the month the cycle runs out (the national default, version 2);
# next_month: a region whose official source says the month after.
SUSPENSION_MODES = ("due_month", "next_month")
# benefit_month: someone who has never certified must do so in the month benefits start
# (呼和浩特), instead of within N months of it.
FIRST_CERTIFICATION_MODES = ("benefit_month",)

QUARTERLY = (("01-01", "03-31"), ("04-01", "06-30"), ("07-01", "09-30"), ("10-01", "12-31"))


@dataclass(frozen=True)
class Rule:
    type: str
    months: int | None = None
    windows: tuple[tuple[str, str], ...] = ()
    suspension: str = "due_month"
    resume_cutoff_day: int | None = None  # None: resume the month after re-certifying
    first_certification: str | None = None

    def __post_init__(self) -> None:
        # Region data is validated before it gets here; this guards hand-built rules in code.
        if self.type not in RULE_TYPES:
            raise ValueError(f"unknown rule type {self.type!r}")
        if self.type == "rolling" and not (self.months and self.months > 0):
            raise ValueError("rolling rule needs months > 0")
        if self.type == "windows":
            if not self.windows:
                raise ValueError("windows rule needs at least one window")
            for start, end in self.windows:
                if parse_month_day(start) > parse_month_day(end):
                    raise ValueError(f"window {start}..{end} ends before it starts")
        if self.suspension not in SUSPENSION_MODES:
            raise ValueError(f"unknown suspension mode {self.suspension!r}")
        if self.resume_cutoff_day is not None and not 1 <= self.resume_cutoff_day <= 31:
            raise ValueError("resume_cutoff_day must be 1..31")
        if (self.first_certification is not None
                and self.first_certification not in FIRST_CERTIFICATION_MODES):
            raise ValueError(f"unknown first_certification {self.first_certification!r}")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.type == "rolling":
            out["months"] = self.months
        if self.type == "windows":
            out["windows"] = [[start, end] for start, end in self.windows]
        out["suspension"] = self.suspension
        out["resume_cutoff_day"] = self.resume_cutoff_day
        if self.first_certification:
            out["first_certification"] = self.first_certification
        return out

    def describe(self) -> str:
        """The rule in plain Chinese, e.g. 每12个月认证一次（从上次认证那天往后推算）."""
        text = self._describe_cycle()
        if self.first_certification == "benefit_month":
            text += "；刚开始领待遇的，领取的当月就要先认证一次"
        return text

    def _describe_cycle(self) -> str:
        if self.type == "rolling":
            return f"每{self.months}个月认证一次（从上次认证那天往后推算）"
        if self.type == "calendar_year":
            return "每个自然年度（1月1日至12月31日）认证一次"
        if self.windows == QUARTERLY:
            return "每季度认证一次"
        if _is_monthly(self.windows):
            first = parse_month_day(self.windows[0][0])[1]
            final = parse_month_day(self.windows[0][1])[1]
            return f"每月{first}日至{final}日之间认证一次"
        spans = "、".join(f"{_md_text(s)}至{_md_text(e)}" for s, e in self.windows)
        if len(self.windows) == 2:
            return f"每年分两期认证（{spans}），每期一次"
        return f"每年在这些时段内各认证一次：{spans}"


@dataclass(frozen=True)
class RegionRef:
    """The place a result was computed for, as the JSON contract shows it (short names)."""

    city: str | None
    province: str | None

    def to_json(self) -> dict[str, str | None]:
        return {"city": self.city, "province": self.province}


@dataclass(frozen=True)
class AppliedRule:
    """A rule together with where it came from; built by `bot.deadline.regions.rule_for`."""

    scheme: str
    rule: Rule
    label: str  # whose rule this is: 哈尔滨市 / 广东省 / 全国通用规则
    level: str = "national"  # city / province / national
    region: RegionRef | None = None
    place: str | None = None  # the user's place for the text, e.g. 锦州市（辽宁省）
    unknown_place: str | None = None  # a name we were given but do not know
    notes: tuple[str, ...] = ()
    # Sentences that change what the user must do: always part of the explanation.
    important: tuple[str, ...] = ()
    passive: Passive | None = None


@dataclass(frozen=True)
class Passive:
    """A place that certifies some people by data matching (上海, 广州: 本市户籍)."""

    who: str  # 本市户籍
    text: str  # who normally needs to do nothing there, in plain words


@dataclass(frozen=True)
class Resumption:
    resume_month: str  # YYYY-MM
    backpay_months: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"resume_month": self.resume_month, "backpay_months": list(self.backpay_months)}


@dataclass(frozen=True)
class DeadlineResult:
    scheme: str
    region: RegionRef | None
    rule: Rule
    rule_label: str
    status: str  # ok / due_soon / overdue
    due: date
    days_left: int
    window: tuple[date, date] | None
    suspended_from: str | None  # YYYY-MM
    if_certified_today: Resumption | None
    notes: tuple[str, ...] = field(default=())
    explanation: str = ""

    def window_ahead(self) -> tuple[date, date] | None:
        """The window this due date ends, when it has not opened yet on the day computed for
        (see `window_ahead`)."""
        return window_ahead(self.rule, self.due, self.due - timedelta(days=self.days_left))

    def to_json(self) -> dict[str, Any]:
        rule = self.rule.to_json()
        rule["applied"] = self.rule_label
        return {
            "scheme": self.scheme,
            "region": self.region.to_json() if self.region else None,
            "rule": rule,
            "status": self.status,
            "due": self.due.isoformat(),
            "days_left": self.days_left,
            "window": (
                {"start": self.window[0].isoformat(), "end": self.window[1].isoformat()}
                if self.window
                else None
            ),
            "suspended_from": self.suspended_from,
            "if_certified_today": (
                self.if_certified_today.to_json() if self.if_certified_today else None
            ),
            "notes": list(self.notes),
            "explanation": self.explanation,
        }


# --- calendar arithmetic -------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """Same day of month N months later, clamped to the month's last day (01-31 + 1 → 02-28)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def parse_month_day(text: str) -> tuple[int, int]:
    """'MM-DD' → (month, day); 02-29 is allowed (it is clamped in non-leap years)."""
    parts = text.split("-") if isinstance(text, str) else []
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ValueError(f"{text!r} is not MM-DD")
    month, day = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2024, month)[1]:
        raise ValueError(f"{text!r} is not a day of the year")
    return month, day


def _on_year(month_day: str, year: int) -> date:
    month, day = parse_month_day(month_day)
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _md_text(month_day: str) -> str:
    month, day = parse_month_day(month_day)
    return f"{month}月{day}日"


def _is_monthly(windows: tuple[tuple[str, str], ...]) -> bool:
    if len(windows) != 12:
        return False
    days = {(s[3:], e[3:]) for s, e in windows}
    months = [(s[:2], e[:2]) for s, e in windows]
    return len(days) == 1 and months == [(f"{m:02d}", f"{m:02d}") for m in range(1, 13)]


def month_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def windows_of_year(rule: Rule, year: int) -> list[tuple[date, date]]:
    return sorted((_on_year(s, year), _on_year(e, year)) for s, e in rule.windows)


def satisfied_window(rule: Rule, day: date) -> tuple[date, date]:
    """The window a certification on `day` counts for: the one it falls in, or else the one
    that closed last before it (a make-up between windows)."""
    candidates = windows_of_year(rule, day.year - 1) + windows_of_year(rule, day.year)
    return [w for w in candidates if w[0] <= day][-1]


def window_after(rule: Rule, window: tuple[date, date]) -> tuple[date, date]:
    candidates = windows_of_year(rule, window[0].year) + windows_of_year(rule, window[0].year + 1)
    return next(w for w in candidates if w[0] > window[0])


def window_ahead(rule: Rule, due: date, today: date) -> tuple[date, date] | None:
    """The window that ends on `due` when it has not opened yet on `today`: a certification
    before its start counts for an earlier window, not for this one."""
    if rule.type != "windows":
        return None
    candidates = windows_of_year(rule, due.year - 1) + windows_of_year(rule, due.year)
    window = next((w for w in candidates if w[1] == due), None)
    return window if window is not None and today < window[0] else None
