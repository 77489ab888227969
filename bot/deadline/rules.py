"""The deadline calculator: when the next certification is due, and what happens when it is late.

Pure: every input, "today" included, is a parameter. The rule itself comes from region data
(`bot.deadline.regions.rule_for`); this module only knows the three rule types of
shared/spec/certification-rules.md and how to explain the result in Chinese.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.deadline.schemes import SCHEMES

RULE_TYPES = ("rolling", "windows", "calendar_year")
# due_month: payment stops in the month the cycle runs out (the national default, version 2);
# next_month: a region whose official source says the month after.
SUSPENSION_MODES = ("due_month", "next_month")
# benefit_month: someone who has never certified must do so in the month benefits start
# (呼和浩特), instead of within N months of it.
FIRST_CERTIFICATION_MODES = ("benefit_month",)
DEFAULT_SOON_DAYS = 30
LOCAL_RULES_VARY = "各地规定不尽相同，请以当地社保经办机构规定为准"

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


def _next_month(year: int, month: int, step: int = 1) -> tuple[int, int]:
    index = year * 12 + month - 1 + step
    return index // 12, index % 12 + 1


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


# --- the calculator --------------------------------------------------------------------------


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
        return _next_month(due.year, due.month)
    return due.year, due.month


def resumption(rule: Rule, suspended: tuple[int, int], certified: date) -> Resumption:
    """Payment after re-certifying on `certified`: from the next month, or, where the region
    has a cutoff day and it has passed, the month after that; back pay for the months between."""
    late = rule.resume_cutoff_day is not None and certified.day > rule.resume_cutoff_day
    resume = _next_month(certified.year, certified.month, 2 if late else 1)
    months: list[str] = []
    cursor = suspended
    while cursor < resume:
        months.append(month_key(*cursor))
        cursor = _next_month(*cursor)
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
    return _with_explanation(result, applied, last=last, start=start, day_assumed=day_assumed)


# --- the Chinese explanation -----------------------------------------------------------------


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def cn_month(key: str) -> str:
    year, month = key.split("-")
    return f"{int(year)}年{int(month)}月"


def status_words(days_left: int) -> str:
    if days_left > 0:
        return f"还有{days_left}天"
    if days_left == 0:
        return "今天到期"
    return f"已超期{-days_left}天"


def before_due(due: date) -> str:
    """The one way every reply and reminder asks for it: before the due date, not on it."""
    return f"请在{cn_date(due)}之前办好"


def _benefit_word(scheme: str) -> str:
    return "养老金" if scheme in ("enterprise", "institution", "resident") else "待遇"


def _with_explanation(
    result: DeadlineResult,
    applied: AppliedRule,
    *,
    last: date | None,
    start: date | None,
    day_assumed: bool = False,
) -> DeadlineResult:
    scheme = SCHEMES[result.scheme]
    rule = result.rule
    money = _benefit_word(result.scheme)
    passive = applied.passive
    parts: list[str] = []

    if passive is not None:
        # Most people there do nothing; the figures below are for the others.
        parts.append(passive.text)
        parts.append(f"如果您不是这种情况（例如非{passive.who}），就要自己认证，日期这样算：")

    if applied.level == "national":
        if applied.place:
            parts.append(f"{applied.place}没有收录到当地的特别规定，先按全国通用规则算：")
        elif applied.unknown_place:
            parts.append(f"没有找到“{applied.unknown_place}”这个地方，先按全国通用规则算：")
        else:
            parts.append("按全国通用规则：")
        parts.append(f"{scheme.name}{rule.describe()}。")
    else:
        where = ""
        if applied.place and not applied.place.startswith(applied.label):
            where = f"您在{applied.place}，"
        parts.append(f"{where}按{applied.label}的规定，{scheme.name}{rule.describe()}。")

    base = last if last is not None else start
    assert base is not None
    when = cn_date(base)
    if day_assumed:
        when = f"{base.year}年{base.month}月（没说具体哪天，先按{base.month}月1日算，宁早勿晚）"
    if last is not None:
        parts.append(f"您上次认证是{when}，")
    else:
        parts.append(f"您从{when}开始领取待遇、还没有认证过，")
    late = result.status == "overdue"
    first_month = last is None and rule.first_certification == "benefit_month"
    if first_month:
        parts.append("按当地规定，领取待遇的当月就要先认证一次，")
    if result.window and rule.type == "windows":
        start_w, end_w = result.window
        verb = "本应在" if late else "下次要在"
        parts.append(f"{verb}{cn_date(start_w)}至{cn_date(end_w)}这一期内认证。")
    elif rule.type == "calendar_year" and not first_month:
        verb = "本应在" if late else "下次要在"
        parts.append(f"{verb}{result.due.year}年内认证，到期日是{cn_date(result.due)}。")
    elif late:
        parts.append(f"本应在{cn_date(result.due)}之前认证。")
    else:
        parts.append(f"下次认证的到期日是{cn_date(result.due)}。")

    if result.status == "ok":
        parts.append(f"{before_due(result.due)}。现在{status_words(result.days_left)}，"
                     "时间还够，别拖到最后几天。")
    elif result.status == "due_soon":
        if result.days_left == 0:
            parts.append("今天就是到期日，请今天就去认证，别再拖了。")
        else:
            parts.append(f"{status_words(result.days_left)}就到期了，{before_due(result.due)}，"
                         "最好这几天就去办。")
    else:
        assert result.suspended_from and result.if_certified_today
        after = result.if_certified_today
        stop = f"从{cn_month(result.suspended_from)}起暂停发放{money}"
        if passive is not None:
            parts.append(f"按这个日期算，已经过了{-result.days_left}天；如果您需要自己认证又还没办，"
                         f"可能会{stop}。暂停不是取消，补上认证就能恢复。")
        else:
            parts.append(f"现在{status_words(result.days_left)}。")
            parts.append(f"按规定{stop}——暂停不是取消，补上认证就能恢复。")
        cutoff = rule.resume_cutoff_day
        timing = ""
        if cutoff is not None:
            timing = (f"（按{applied.label}的规定，每月{cutoff}日及以前认证的，一般下个月恢复；"
                      f"{cutoff}日以后认证的，再晚一个月）")
        if after.backpay_months:
            first, final = after.backpay_months[0], after.backpay_months[-1]
            span = cn_month(first) if first == final else f"{cn_month(first)}至{cn_month(final)}"
            parts.append(
                f"如果今天就去认证，预计从{cn_month(after.resume_month)}起恢复发放{timing}，"
                f"并补发{span}共{len(after.backpay_months)}个月的{money}，补发不计利息。"
            )
        else:
            parts.append(
                f"如果今天就去认证，预计{cn_month(after.resume_month)}的{money}照常发放{timing}。"
            )
        parts.append("请尽快去办。")

    parts.extend(applied.important)
    parts.append(f"以上按{applied.label}推算，{LOCAL_RULES_VARY}。")
    explanation = "".join(parts)
    return DeadlineResult(**{**result.__dict__, "explanation": explanation})
