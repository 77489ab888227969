"""What a reminder says, in Chinese: the message it sends, its plan and lead days in words,
and a reminder as /myreminders shows it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from bot.deadline.calculator import suspended_from
from bot.deadline.explanation import before_due, cn_date, cn_month, not_before, signed_days
from bot.deadline.place_names import lookup_region
from bot.deadline.regions import channels_for, rule_for
from bot.deadline.rules import window_ahead
from bot.deadline.schemes import SCHEMES
from bot.reminders.group_notices import GroupReminder
from bot.reminders.plans import SELF_LABELS, Slot, china
from bot.reminders.store import Reminder


def describe_lead(lead: int) -> str:
    return signed_days(lead, "提前{n}天", "到期当天", "过期后{n}天")


def describe_leads(leads: Iterable[int]) -> str:
    return "、".join(describe_lead(lead) for lead in sorted(set(leads), reverse=True))



def who(label: str) -> str:
    return "您" if label in SELF_LABELS else label


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
    ahead = window_ahead(applied.rule, reminder.due, today)
    if ahead is not None:  # a 30-day reminder before a 15-day window opens
        lines.append(f"注意：{not_before(ahead[0], reminder.due)}。")
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


def place_name(city: str | None) -> str:
    """The place as a confirmation shows it, or that the national rule applies."""
    region = lookup_region(city) if city else None
    return region.display if region else "未设置（按全国通用规则）"


def days_words(due: dt.date, today: dt.date) -> str:
    """还有N天 / 今天到期 / 已经过了N天."""
    days = (due - today).days
    if days > 0:
        return f"还有{days}天"
    return "今天到期" if days == 0 else f"已经过了{-days}天"


def plan_text(slots: list[Slot]) -> str:
    """The sends still ahead, for confirmations and the reminder buttons' answers."""
    if not slots:
        return ("这一轮已经没有要提醒的时间了，请尽快去认证；办好后点“我已认证”，"
                "我按新的日期继续提醒。")
    lines = []
    for slot in slots:
        what = "稍后提醒" if slot.is_snooze else describe_lead(slot.lead or 0)
        lines.append(f"· {cn_date(slot.day)} 上午{slot.at.hour}点（{what}）")
    return "我会在这些时间提醒（北京时间）：\n" + "\n".join(lines)


def describe_reminder(reminder: Reminder, now: dt.datetime) -> str:
    """One reminder as /myreminders shows it."""
    today = china(now).date()
    state = "提醒中" if reminder.active else (
        "已停止（您屏蔽过机器人）" if reminder.stopped == "blocked" else "已停止")
    last = cn_date(reminder.last_date) if reminder.last_date else "未知"
    lines = [
        f"📋 {reminder.label}（{state}）",
        f"待遇：{SCHEMES[reminder.scheme].short}；地区：{place_name(reminder.city)}",
        f"上次认证：{last}；下次请在{cn_date(reminder.due)}之前办好"
        f"（{days_words(reminder.due, today)}）",
        f"提醒时间：{describe_leads(reminder.leads)}，都在上午9点",
    ]
    if reminder.active:
        upcoming = reminder.upcoming(now)
        lines.append(f"下一次：{cn_date(upcoming[0].day)} 上午9点" if upcoming
                     else "这一轮的提醒都发完了；认证后点“我已认证”，我按新日期继续提醒。")
    return "\n".join(lines)
