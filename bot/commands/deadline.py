"""`python -m bot deadline`: when must this person certify next?

    python -m bot deadline --scheme S [--city C] (--last D | --start D) [--today D] [--json]

Dates are YYYY-MM-DD; Chinese forms (2025年3月10日, 去年3月10号) are accepted too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json

from bot.config import local_today
from bot.deadline.regions import rule_for
from bot.deadline.rules import compute_deadline
from bot.deadline.schemes import UnknownSchemeError, resolve_scheme
from bot.errors import UsageError
from bot.text.dates import DateParseError, parse_date_match


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "deadline",
        help="算下次认证的截止日期",
        description="按待遇类型、所在地和上次认证日期，算出下次认证的截止日期。",
    )
    parser.add_argument("--scheme", required=True,
                        help="待遇类型：enterprise/institution/resident/survivor/injury 或中文名")
    parser.add_argument("--city", help="所在城市或省份，例如 锦州、广东省")
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--last", help="上次认证日期 YYYY-MM-DD")
    when.add_argument("--start", help="还没认证过时：开始领取待遇的日期 YYYY-MM-DD")
    parser.add_argument("--today", help="把“今天”设为 YYYY-MM-DD（默认取中国时间的今天）")
    parser.add_argument("--json", action="store_true", help="输出一行 JSON")
    parser.set_defaults(func=run)


def _date(value: str, option: str, today: dt.date) -> tuple[dt.date, bool]:
    try:
        found = parse_date_match(value, today)
    except DateParseError as exc:
        raise UsageError(f"{option} 的日期有误：{exc}") from None
    assert found.date is not None
    return found.date, found.day_assumed


def run(args: argparse.Namespace) -> int:
    real_today = local_today()
    today = _date(args.today, "--today", real_today)[0] if args.today else real_today
    try:
        scheme = resolve_scheme(args.scheme)
    except UnknownSchemeError as exc:
        raise UsageError(str(exc)) from None
    if not args.last and not args.start:
        raise UsageError(
            "缺少日期：请用 --last 给出上次认证日期，"
            "或用 --start 给出开始领取待遇的日期（YYYY-MM-DD）"
        )
    if args.last:
        last, assumed = _date(args.last, "--last", today)
        if last > today:
            raise UsageError(f"--last 的日期 {last.isoformat()} 晚于今天 {today.isoformat()}，"
                             "上次认证不可能在将来，请核对")
        start = None
    else:
        start, assumed = _date(args.start, "--start", today)
        last = None

    result = compute_deadline(
        rule_for(scheme, args.city), today=today, last=last, start=start, day_assumed=assumed
    )
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        print(result.explanation)
    return 0
