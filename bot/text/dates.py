"""Chinese dates as users type them: 2025年3月10号, 25.3.10, 去年三月, 上个月15号, 前天 …

"today" is always a parameter. Only the Gregorian calendar is understood; lunar dates (农历, 正月,
初十) are recognised and refused politely, because a wrong conversion would move a deadline.

Decisions worth knowing:
- A month without a day (25年3月, 去年三月, 3月份) is taken as the 1st of that month and the match
  says `day_assumed=True`; the 1st is the earliest possible day, so the due date we derive is never
  later than the real one. Callers must tell the user the day was assumed.
- A month and day without a year (3月10号) is this year's, or last year's if this year's is still
  ahead; a bare day (15号) is this month's, or last month's if still ahead. Explicit future dates
  (明年3月, 2030-1-1) are returned as they are: whether the future is allowed is the caller's call.
- Two-digit years are 20xx (or 19xx when 20xx would be more than a year ahead).
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from bot.errors import DateParseError
from bot.text.normalize import quoted


@dataclass(frozen=True)
class DateMatch:
    date: date | None  # None when `error` is set
    start: int
    end: int
    text: str
    day_assumed: bool = False
    error: str | None = None


EXAMPLE = "比如 2025年3月10日、2025-3-10 或 去年3月10号"
_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
           "七": 7, "八": 8, "九": 9}
_CN_NUM = "〇零一二两三四五六七八九十廿卅"
_REL_YEAR = {"大前年": -3, "前年": -2, "去年": -1, "上一年": -1, "上年": -1, "今年": 0,
             "本年": 0, "当年": 0, "明年": 1, "后年": 2}
_REL_MONTH = {"上上个月": -2, "上上月": -2, "上个月": -1, "上月": -1, "这个月": 0, "这月": 0,
              "本月": 0, "当月": 0, "下个月": 1, "下月": 1}
_REL_DAY = {"大前天": -3, "前天": -2, "昨天": -1, "昨日": -1, "今天": 0, "今日": 0, "明天": 1,
            "明日": 1, "后天": 2}
_LUNAR_MONTHS = {"正", "腊", "冬"}

_CN_DIGIT = "[〇零一二三四五六七八九]"
_YEAR_ABS = rf"(?P<y>\d{{4}}|\d{{2}}|{_CN_DIGIT}{{4}}|{_CN_DIGIT}{{2}})年"
_YEAR_REL = "(?P<yr>" + "|".join(sorted(_REL_YEAR, key=len, reverse=True)) + ")"
_MONTH = rf"(?P<m>\d{{1,2}}|[{_CN_NUM}]{{1,3}}|元|正|腊|冬)月份?"
_DAY = rf"(?P<d>\d{{1,2}}(?!\d)|[{_CN_NUM}]{{1,3}}|初[一二三四五六七八九十])(?P<dsuf>[日号])?"
_MONTH_REL = "(?P<mr>" + "|".join(sorted(_REL_MONTH, key=len, reverse=True)) + ")"
_DAY_REL = "(?P<dr>" + "|".join(sorted(_REL_DAY, key=len, reverse=True)) + ")"
_UNITS = "万千百元块角分%个岁年月天周次"

# Each pattern names the groups it fills; resolution happens in `_resolve`.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("ymd", re.compile(rf"(?<![0-9{_CN_NUM}]){_YEAR_ABS}的?(?:{_MONTH}(?:{_DAY})?)")),
    ("rel_ymd", re.compile(rf"{_YEAR_REL}的?(?:{_MONTH}(?:{_DAY})?)")),
    ("rel_edge", re.compile(rf"{_YEAR_REL}年?(?P<edge>年底|年末|底|年初|初)")),
    ("numeric", re.compile(r"(?<!\d)(?<!\d\.)(?P<y>\d{4}|\d{2})(?P<sep>[./-])(?P<m>\d{1,2})"
                           rf"(?P=sep)(?P<d>\d{{1,2}})(?!\d|\.\d|[{_UNITS}])")),
    ("compact", re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<m>0[1-9]|1[0-2])"
                           r"(?P<d>0[1-9]|[12]\d|3[01])(?!\d)")),
    ("md", re.compile(rf"(?<![0-9{_CN_NUM}年]){_MONTH}(?:{_DAY})?")),
    ("rel_md", re.compile(rf"{_MONTH_REL}的?(?:{_DAY})?")),
    ("day", re.compile(rf"(?<![0-9{_CN_NUM}月]){_DAY}")),
    ("rel_day", re.compile(_DAY_REL)),
    ("md_numeric", re.compile(r"(?<![\d/-])(?<!\d\.)(?P<m>\d{1,2})(?P<sep>[./])(?P<d>\d{1,2})"
                              rf"(?!\d|[./]\d|[{_UNITS}])")),
]
# Free text shows these patterns without a confirming context only when the context is strong:
# "3月" alone could be a rule (每年1月至6月), "15日" could be a duration (15日内).
_CERT_AFTER = re.compile(r"^(?:份|左右|那会儿?|时候|的时候|初|底)?(?:的|时|那天)?"
                         r"(?:认证|刷脸|刷的脸|验证|年审|核验|审核|办|弄|做|认的|刷的|去)")
_EVERY_BEFORE = ("每", "每个", "每年", "每月")
_NOT_A_DAY_AFTER = set("楼线院床房室栋门口位窗")
_LUNAR_RE = re.compile("农历|阴历|旧历|老历|正月|腊月|冬月|初[一二三四五六七八九十]")


def cn_number(text: str) -> int | None:
    """'12' / '十二' / '三十一' / '廿五' / '二〇二五' → int; None when it is not a number."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if all(ch in _DIGITS for ch in text):
        if len(text) == 1:
            return _DIGITS[text]
        return int("".join(str(_DIGITS[ch]) for ch in text))  # 二〇二五, 二五
    head, rest = text[0], text[1:]
    if head in "廿卅":
        base = 20 if head == "廿" else 30
        if not rest:
            return base
        tail = cn_number(rest)
        return base + tail if tail is not None and tail < 10 else None
    if "十" in text:
        left, _, right = text.partition("十")
        tens = 1 if not left else _DIGITS.get(left) if len(left) == 1 else None
        ones = 0 if not right else _DIGITS.get(right) if len(right) == 1 else None
        if tens is None or ones is None:
            return None
        return tens * 10 + ones
    return None


def shift_month(year: int, month: int, step: int = 1) -> tuple[int, int]:
    """(year, month) `step` months later (earlier when negative)."""
    index = year * 12 + month - 1 + step
    return index // 12, index % 12 + 1


def _make(year: int, month: int, day: int) -> date:
    if not 1 <= month <= 12:
        raise DateParseError(f"没有{month}月，请再核对一下月份。")
    last = calendar.monthrange(year, month)[1] if 1 <= year <= 9999 else 31
    if not 1 <= day <= 31 or day > last:
        if month == 2 and day == 29:
            raise DateParseError(f"{year}年不是闰年，2月没有29日，请再核对一下日期。")
        raise DateParseError(f"{month}月没有{day}日，请再核对一下日期。")
    return date(year, month, day)


def _year_from(text: str, today: date) -> int:
    value = cn_number(text)
    if value is None:
        raise DateParseError(f"没看懂年份“{text}”，请写成四位数的年份，{EXAMPLE}。")
    if len(text) == 2:
        value += 2000
        if value > today.year + 1:
            value -= 100
    if not 1900 <= value <= today.year + 50:
        raise DateParseError(f"年份{value}看起来不对，请再核对一下。")
    return value


def _number(text: str | None, what: str) -> int:
    value = cn_number(text or "")
    if value is None:
        raise DateParseError(f"没看懂这里的{what}“{text}”，{EXAMPLE}。")
    return value


def _month_value(text: str) -> int:
    if text in _LUNAR_MONTHS:
        raise DateParseError(_LUNAR_MESSAGE)
    if text == "元":
        return 1
    return _number(text, "月份")


_LUNAR_MESSAGE = "抱歉，我还不会换算农历日期，请告诉我公历（阳历）的日期，" + EXAMPLE + "。"


def _not_after(today: date, year: int, month: int, day: int | None) -> tuple[int, int]:
    """Year for a month(+day) given without one: this year unless that is still ahead."""
    candidate = (month, day or 1)
    return (year, month) if candidate <= (today.month, today.day) else (year - 1, month)


def _resolve(kind: str, groups: dict[str, str | None], today: date) -> tuple[date, bool]:
    """Turn one pattern's groups into (date, day_assumed); raises DateParseError."""
    if groups.get("d", "") and str(groups.get("d")).startswith("初"):
        raise DateParseError(_LUNAR_MESSAGE)
    if kind in ("ymd", "numeric", "compact", "rel_ymd"):
        if kind == "rel_ymd":
            year = today.year + _REL_YEAR[str(groups["yr"])]
        else:
            year = _year_from(str(groups["y"]), today)
        month = _month_value(str(groups["m"]))
        if groups.get("d"):
            return _make(year, month, _number(groups["d"], "日子")), False
        return _make(year, month, 1), True
    if kind == "rel_edge":
        year = today.year + _REL_YEAR[str(groups["yr"])]
        month = 12 if str(groups["edge"]).endswith(("底", "末")) else 1
        return _make(year, month, 1), True
    if kind in ("md", "md_numeric"):
        month = _month_value(str(groups["m"]))
        day = _number(groups["d"], "日子") if groups.get("d") else None
        if not 1 <= month <= 12:
            raise DateParseError(f"没有{month}月，请再核对一下月份。")
        year, month = _not_after(today, today.year, month, day)
        if day is None:
            return _make(year, month, 1), True
        try:
            return _make(year, month, day), False
        except DateParseError:
            if month == 2 and day == 29:  # 2月29号 without a year: the latest leap year
                leap = next(y for y in range(year, year - 8, -1) if calendar.isleap(y))
                return date(leap, 2, 29), False
            raise
    if kind == "rel_md":
        year, month = shift_month(today.year, today.month, _REL_MONTH[str(groups["mr"])])
        if groups.get("d"):
            return _make(year, month, _number(groups["d"], "日子")), False
        return _make(year, month, 1), True
    if kind == "day":
        day = _number(groups["d"], "日子")
        if not 1 <= day <= 31:
            raise DateParseError(f"一个月里没有{day}号，请再核对一下日期。")
        year, month = today.year, today.month
        if day > today.day:
            year, month = shift_month(year, month, -1)
        return _make(year, month, day), False
    if kind == "rel_day":
        return today + timedelta(days=_REL_DAY[str(groups["dr"])]), False
    raise AssertionError(kind)


def _accept_in_free_text(kind: str, m: re.Match[str], text: str) -> bool:
    groups = m.groupdict()
    before = text[max(0, m.start() - 2) : m.start()]
    after = text[m.end() :]
    if kind in ("md", "day", "md_numeric") and before.endswith(_EVERY_BEFORE):
        return False  # 每年3月、每月15号: a rule, not a date
    if kind == "md" and not groups.get("d"):
        if before.endswith(("至", "到", "~", "-", "—")):
            return False  # 1月至6月: the end of a range
        # a bare month needs 份 or a certification word right after it: 3月份 / 3月认证的
        return m.group(0).endswith("份") or bool(_CERT_AFTER.match(after))
    if kind == "day":
        if after[:1] and after[:1] in _NOT_A_DAY_AFTER:
            return False  # 3号楼, 1号线
        if groups.get("dsuf") == "日":
            return bool(_CERT_AFTER.match(after))  # 15日内 is a duration
        return groups.get("dsuf") == "号"
    if kind == "rel_md" and not groups.get("d"):
        return bool(_CERT_AFTER.match(after))
    return True


def _candidates(text: str, strict: bool) -> list[tuple[int, int, str, re.Match[str]]]:
    found = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if m.end() == m.start():
                continue
            if kind == "day" and not m.group("dsuf"):
                continue  # a bare number is never a day
            if not strict and not _accept_in_free_text(kind, m, text):
                continue
            found.append((m.start(), -(m.end() - m.start()), kind, m))
    found.sort(key=lambda item: (item[0], item[1]))
    return found


def _prepare(text: str) -> str:
    # The caller may pass raw user text: fold full-width digits and drop spaces inside dates.
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def scan_date(text: str, today: date, *, strict: bool = False) -> DateMatch | None:
    """The first date in `text` (leftmost, longest), or None. A date that is recognised but
    impossible or lunar comes back with `error` set instead of raising."""
    prepared = _prepare(text)
    lunar_word = bool(_LUNAR_RE.search(prepared))
    for start, _neg_len, kind, m in _candidates(prepared, strict):
        end = start - _neg_len
        try:
            if lunar_word:
                raise DateParseError(_LUNAR_MESSAGE)
            value, assumed = _resolve(kind, m.groupdict(), today)
        except DateParseError as exc:
            return DateMatch(None, start, end, prepared[start:end], error=str(exc))
        return DateMatch(value, start, end, prepared[start:end], day_assumed=assumed)
    if lunar_word:
        return DateMatch(None, 0, len(prepared), prepared, error=_LUNAR_MESSAGE)
    return None


_TRIM = "。.，,！!？?、；;：: "


# Words around a date typed as the answer to "上次认证是哪一天？": 去年三月份吧, 是3月10号认证的.
# (左右 is not one of them: an approximate date stays a question for the user.)
_LEAD_FILLER = re.compile(r"^(?:我|俺|好像|大概|大约|应该|可能|估计|记得|差不多|是|在|就)+")
_TAIL_FILLER = re.compile(r"(?:的时候|那会儿?|那时候?|那天|时|的|认证|刷脸|刷的脸|认的|刷的|"
                          r"办的|弄的|做的|去的|了|吧|吗|啊|呀|呢|哦|嗯|好像|"
                          r"[。.，,！!？?~～、 ])+$")


def parse_date_match(text: str, today: date) -> DateMatch:
    """The whole of `text` must be one date (a few words around it are allowed: 去年三月份吧);
    raises DateParseError otherwise."""
    prepared = _prepare(text).strip(_TRIM)
    trimmed = _TAIL_FILLER.sub("", _LEAD_FILLER.sub("", prepared))
    if trimmed and trimmed != prepared:
        try:
            return parse_date_match(trimmed, today)
        except DateParseError:
            pass  # the words were part of it after all: judge the whole text below
    if not prepared:
        raise DateParseError(f"请告诉我一个日期，{EXAMPLE}。")
    if re.fullmatch(_YEAR_ABS + "?|" + _YEAR_REL + "年?", prepared):
        raise DateParseError(f"只看到年份，还请告诉我是几月几号，{EXAMPLE}。")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", prepared):  # the ISO form the command line shows
        try:
            return DateMatch(date.fromisoformat(prepared), 0, len(prepared), prepared)
        except ValueError:
            pass  # fall through to the friendlier messages below
    found = scan_date(prepared, today, strict=True)
    if found is None:
        raise DateParseError(f"抱歉，没看懂“{quoted(text)}”这个日期，{EXAMPLE}。")
    if found.error:
        raise DateParseError(found.error)
    if found.start != 0 or found.end != len(prepared):
        raise DateParseError(f"抱歉，没看懂“{quoted(text)}”这个日期，{EXAMPLE}。")
    return found


def parse_date(text: str, today: date) -> date:
    found = parse_date_match(text, today)
    assert found.date is not None
    return found.date


def find_date(text: str, today: date) -> date | None:
    """The first readable date in free text, or None (also None for impossible or lunar ones;
    use `scan_date` to tell those apart)."""
    found = scan_date(text, today)
    return found.date if found else None
