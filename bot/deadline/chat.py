"""Deadline questions in conversation: "企业退休，去年3月10号认证的，下次什么时候？"

`reply_to_deadline_question` decides whether a message is such a question and answers it with
the calculator, or asks for exactly the piece that is missing (the scheme or the date).
It returns None for anything else, so the caller can try its other answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.deadline.calculator import compute_deadline
from bot.deadline.explanation import cn_date, cn_date_told
from bot.deadline.place_names import find_region_in_text
from bot.deadline.regions import channels_for, rule_for
from bot.deadline.rules import DeadlineResult
from bot.deadline.schemes import SCHEMES, find_scheme
from bot.text.dates import DateMatch, scan_date
from bot.text.death import mentions_death
from bot.text.normalize import normalize

# Words that show the message is about certifying (so a date in it is a certification date).
_CERT = re.compile(r"认证|刷脸|刷的脸|刷过脸|验证|年审|年检|核验|生存认证|资格认证|认的|刷了脸")
# Words that ask "when".
_TIMING = re.compile(r"下次|下一次|下回|什么时候|啥时候|啥时|何时|哪天|几号|几月|到期|截止|截至|"
                     r"还有多久|还有几天|多久|多长时间|过期|超期|逾期|来得及|该认证|要认证")
# A date followed by these is when benefits began, not a certification (去年3月退休的).
_START_AFTER = re.compile(
    r"^(?:的时候|时|那天)?(?:正式)?(?:办了?|办的)?(?:退休|开始领|开始拿|领取待遇|领的|拿的)"
)
# A date followed by these is a deadline someone told them (3月10号前要认证).
_DEADLINE_AFTER = re.compile(r"^(?:之?前|以前)?(?:就)?(?:到期|截止|过期|必须|要认证|得认证)"
                             r"|^(?:之?前|以前)(?:办理|完成|进行)?(?:下次|下一次)")
# Between a date and the certifying, these make the date when one must certify (12月份是不是就要
# 认证了), not the last certification.
_MUST_BEFORE_CERT = re.compile(r"要|得|必须|需要|应该|该")
_PAREN = re.compile(r"（[^）]*）|\([^)]*\)")


@dataclass(frozen=True)
class DeadlineReply:
    text: str
    complete: bool  # True when the calculator answered; False when we asked for something
    result: DeadlineResult | None = None
    missing: tuple[str, ...] = ()  # "scheme" / "date"


def _scheme_menu() -> str:
    lines = [f"· {s.short}（{s.example}）" for s in SCHEMES.values()]
    return "\n".join(lines)


def _channel_line(region_text: str) -> str:
    region = find_region_in_text(region_text)
    names: list[str] = []
    for channel in channels_for(region):
        if channel.kind not in ("app", "mini_program", "wechat", "website") or not channel.verified:
            continue
        name = _PAREN.sub("", channel.name).strip()
        if name not in names:
            names.append(name)
        if len(names) == 3:
            break
    line = "、".join(names)
    return (f"可以用{line}在手机上认证，也可以带身份证去社区或社保窗口办；认证免费，"
            "要钱、发链接的都不要信。")


def _date_is_start(text: str, found: DateMatch) -> bool:
    return bool(_START_AFTER.match(text[found.end :]))


def _date_is_due_date(text: str, found: DateMatch) -> bool:
    """Whether the date is when one must certify (3月10号前要认证, 12月份是不是就要认证了),
    not the last certification."""
    after = text[found.end :]
    if _DEADLINE_AFTER.match(after):
        return True
    if _START_AFTER.match(after):
        return False  # 去年3月退休的，要认证吗: the 要 is about now, the date is the start
    cert = _CERT.search(text, found.end)
    return cert is not None and bool(_MUST_BEFORE_CERT.search(text, found.end, cert.start()))


def reply_to_deadline_question(text: str, today: date) -> DeadlineReply | None:
    """A reply when `text` asks when to certify next, or None when it is not such a question."""
    clean = normalize(text or "")
    if not clean:
        return None
    compact = re.sub(r"\s+", "", clean)
    found = scan_date(compact, today)
    has_timing = bool(_TIMING.search(compact))
    if found is None and not has_timing:
        return None  # neither a date nor "when": most messages stop here, before the scheme
    if mentions_death(compact):
        return None  # the dead are not certified, and a due date would be a cruel reply
    scheme = find_scheme(compact)
    if found is not None and _date_is_due_date(compact, found):
        found = None  # a deadline they were told or asked about, not their last certification
    has_cert = bool(_CERT.search(compact))
    is_start = found is not None and _date_is_start(compact, found)

    date_counts = found is not None and (has_cert or is_start or scheme is not None)
    asks_when = scheme is not None and has_timing and (has_cert or _mentions_deadline(compact))
    if not date_counts and not asks_when:
        return None

    if found is not None and date_counts and found.error:
        return DeadlineReply(f"{found.error}\n告诉我正确的日期，我马上帮您算。", False,
                             missing=("date",))
    if found is not None and date_counts and found.date and found.date > today:
        what = "开始领取待遇的日期" if is_start else "上次认证的日期"
        return DeadlineReply(
            f"您说的{what}是{cn_date(found.date)}，比今天（{cn_date(today)}）还晚，"
            "是不是年份或月份记错了？麻烦再确认一下，我再帮您算。",
            False,
            missing=("date",),
        )

    region = find_region_in_text(compact)
    base = found.date if found is not None and date_counts else None
    if scheme is None:
        assert base is not None
        when = "开始领取待遇" if is_start else "上次认证"
        told = cn_date_told(base, found.day_assumed)
        return DeadlineReply(
            f"收到，您{when}是{told}。不同待遇的认证周期不一样，请问您（或家人）领的是哪一种？\n"
            f"{_scheme_menu()}\n"
            "回复其中一种就行，比如“企业退休，2025年3月10日认证的”。",
            False,
            missing=("scheme",),
        )
    if base is None:
        applied = rule_for(scheme, region)
        where = "全国通用规则" if applied.level == "national" else f"{applied.label}的规定"
        passive = applied.passive.text if applied.passive else ""
        return DeadlineReply(
            f"{passive}好的，您领的是{SCHEMES[scheme].short}，按{where}是"
            f"{applied.rule.describe()}。{''.join(applied.important)}"
            "请告诉我上次认证是哪一天（比如 2025年3月10日 或 去年3月10号），我帮您算出下次认证的"
            "到期日；还没认证过的，告诉我开始领取待遇的日期也行。",
            False,
            missing=("date",),
        )

    assert found is not None
    applied = rule_for(scheme, region)
    result = compute_deadline(
        applied,
        today=today,
        last=None if is_start else base,
        start=base if is_start else None,
        day_assumed=found.day_assumed,
    )
    return DeadlineReply(f"{result.explanation}\n{_channel_line(compact)}", True, result)


def _mentions_deadline(text: str) -> bool:
    return bool(re.search(r"到期|截止|截至|过期|超期|逾期", text))


CARD_LIMIT = 150  # characters a small phone shows before the footer
_ASSUMED = re.compile(r"只知道月份，按(\d+月1日)")


def _month_words(key: str) -> str:
    year, month = key.split("-")
    return f"{int(year)}年{int(month)}月"


def deadline_card(result: DeadlineResult) -> str:
    """The calculator's answer as a short card for a chat: 下次截止日 / 还剩几天 or 已超期 /
    要做什么, one per line; when overdue, first how to check whether data matching has already
    certified the person. A footer line says which rule was used.

    The long `result.explanation` stays what the command line and `ask --json` give.
    """
    assumed = next((m.group(1) for m in map(_ASSUMED.match, result.notes) if m), None)
    due = cn_date(result.due)
    lines = [f"下次截止日：{due}" + (f"（只知道月份，先按{assumed}算）" if assumed else "")]
    where = result.region.city or result.region.province if result.region else None
    applied = rule_for(result.scheme, where)
    passive = applied.passive if where else None
    if passive is not None:
        lines.insert(0, f"{passive.who}的一般由社保自动核对，不用办；不是的看下面：")
    if result.status == "overdue":
        since = _month_words(result.suspended_from) if result.suspended_from else ""
        # Where most people are certified without doing anything, only "may be" suspended.
        may = "可能" if passive is not None else ""
        stop = f"，从{since}起{may}暂停发放" if since else ""
        lines.append(f"已超期{-result.days_left}天{stop}（暂停不是取消）")
        lines.append("先查一查：社保可能已用数据比对替您认证了，打12333或用掌上12333查上次认证时间。")
        back = result.if_certified_today
        resume = f"，预计{_month_words(back.resume_month)}起恢复并补发" if back else ""
        lines.append(f"要做什么：没认证上就尽快补认证{resume}。")
    elif result.days_left == 0:
        lines.append("今天就是最后一天")
        lines.append("要做什么：今天就去认证，手机刷脸或去社区都行。")
    else:
        ahead = result.window_ahead()
        if ahead is not None:  # 呼和浩特 on 3月20日: certifying now would count for March
            lines.append(f"还剩{result.days_left}天")
            lines.append(f"要做什么：{cn_date(ahead[0])}起、{due}之前认证一次"
                         "（早于这期开始的不算），手机刷脸或去社区都行。")
        else:
            lines.append(f"还剩{result.days_left}天" + ("，该抓紧了" if result.status == "due_soon"
                                                    else ""))
            lines.append(f"要做什么：{due}之前认证一次，手机刷脸或去社区都行。")
    place = f"{where}，" if where and where not in result.rule_label else ""
    footer = f"{place}按{result.rule_label}推算，以当地社保经办机构规定为准。"
    # Below the card, what the user must know besides (城乡居民 cycles differ most by place;
    # 呼和浩特's first month): the spec requires it in every reply.
    return "\n".join(lines) + "\n\n" + "\n".join([*applied.important, footer])
