"""The calculator's result explained in plain Chinese, and the date words every reply shares."""

from __future__ import annotations

from datetime import date

from bot.deadline.rules import AppliedRule, DeadlineResult
from bot.deadline.schemes import SCHEMES

LOCAL_RULES_VARY = "各地规定不尽相同，请以当地社保经办机构规定为准"


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def cn_date_told(day: date, day_assumed: bool) -> str:
    """A date as the user gave it: a month without a day says the 1st is assumed."""
    if day_assumed:
        return f"{day.year}年{day.month}月（没说具体哪天，先按{day.month}月1日算，宁早勿晚）"
    return cn_date(day)


def cn_month(key: str) -> str:
    year, month = key.split("-")
    return f"{int(year)}年{int(month)}月"


def signed_days(days: int, ahead: str, on_the_day: str, past: str) -> str:
    """Words for a day count before (> 0), on (0) or after (< 0) a due date; `ahead` and `past`
    hold {n}, the number of days."""
    if days > 0:
        return ahead.format(n=days)
    if days == 0:
        return on_the_day
    return past.format(n=-days)


def status_words(days_left: int) -> str:
    return signed_days(days_left, "还有{n}天", "今天到期", "已超期{n}天")


def before_due(due: date) -> str:
    """The one way every reply and reminder asks for it: before the due date, not on it."""
    return f"请在{cn_date(due)}之前办好"


def not_before(start: date, due: date) -> str:
    """For a window that has not opened yet: certifying now would count for an earlier one."""
    return (f"这一期从{cn_date(start)}才开始，在这之前认证的不算这一期："
            f"{cn_date(start)}起再去办，{before_due(due)}")


def _benefit_word(scheme: str) -> str:
    return "养老金" if scheme in ("enterprise", "institution", "resident") else "待遇"


def explain(
    result: DeadlineResult,
    applied: AppliedRule,
    *,
    last: date | None,
    start: date | None,
    day_assumed: bool = False,
) -> DeadlineResult:
    """`result` with its `explanation`: the rule, the dates and what to do, in plain Chinese."""
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
    if base is None:
        raise ValueError("explain needs last= or start=")
    when = cn_date_told(base, day_assumed)
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

    ahead = result.window_ahead() if result.status != "overdue" else None
    if ahead is not None:
        parts.append(f"{not_before(ahead[0], result.due)}。现在{status_words(result.days_left)}。")
    elif result.status == "ok":
        parts.append(f"{before_due(result.due)}。现在{status_words(result.days_left)}，"
                     "时间还够，别拖到最后几天。")
    elif result.status == "due_soon":
        if result.days_left == 0:
            parts.append("今天就是到期日，请今天就去认证，别再拖了。")
        else:
            parts.append(f"{status_words(result.days_left)}就到期了，{before_due(result.due)}，"
                         "最好这几天就去办。")
    else:
        after, suspended = result.if_certified_today, result.suspended_from
        if after is None or not suspended:
            raise ValueError("an overdue result needs suspended_from and if_certified_today")
        stop = f"从{cn_month(suspended)}起暂停发放{money}"
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
