"""`python -m bot reminders due`: what the reminder sender would send on a given day.

    python -m bot reminders due [--today YYYY-MM-DD] [--db PATH] [--json]

The database defaults to $DATABASE_PATH (also read from .env) or data/bot.db, as for `run`;
it must exist.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
from pathlib import Path

from bot.config import local_today
from bot.deadline.schemes import SCHEMES
from bot.errors import DateParseError, StorageError, UsageError
from bot.text.dates import parse_date_match

STATUS_WORDS = {"planned": "待发送", "pending": "排队中", "sending": "发送中", "sent": "已发送",
                "failed": "发送失败", "skipped": "已跳过",
                "unknown": "不确定（网络中断，可能已送达，不再重发）"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("reminders", help="查看认证提醒",
                                   description="查看提醒计划（数据来自机器人的数据库）。")
    actions = parser.add_subparsers(dest="action", parser_class=type(parser))
    due = actions.add_parser("due", help="列出某一天要发的提醒")
    due.add_argument("--today", help="哪一天，YYYY-MM-DD（默认取中国时间的今天）")
    due.add_argument("--db", help="数据库文件（默认 $DATABASE_PATH 或 data/bot.db）")
    due.add_argument("--json", action="store_true", help="输出一行 JSON")
    due.set_defaults(func=run_due)
    parser.set_defaults(func=_need_action)


def _need_action(args: argparse.Namespace) -> int:
    raise UsageError("请给出操作，例如：python -m bot reminders due --today 2026-03-01")


def _day(value: str | None) -> dt.date:
    today = local_today()
    if not value:
        return today
    try:
        found = parse_date_match(value, today)
    except DateParseError as exc:
        raise UsageError(f"--today 的日期有误：{exc}") from None
    assert found.date is not None
    return found.date


def _database(value: str | None) -> Path:
    from bot.config import database_path

    path = Path(value) if value else database_path()
    if not path.is_file():
        raise UsageError(f"数据库 {path} 不存在：请用 --db 指定，或先运行机器人")
    return path


def run_due(args: argparse.Namespace) -> int:
    day = _day(args.today)
    path = _database(args.db)

    from bot.config import local_zone
    from bot.db.connection import open_database
    from bot.reminders.agenda import due_on
    from bot.reminders.plans import use_timezone
    from bot.reminders.store import ensure_reminder_tables

    use_timezone(local_zone())  # as the running bot does, from BOT_TIMEZONE
    try:
        db = open_database(path)
        ensure_reminder_tables(db)
        items = due_on(db, day)
    except (StorageError, sqlite3.Error, ValueError) as exc:  # a corrupt or foreign file
        raise UsageError(f"无法读取数据库 {path}：{exc}") from None
    if args.json:
        print(json.dumps({"date": day.isoformat(), "count": len(items),
                          "items": [item.to_json() for item in items]}, ensure_ascii=False))
        return 0
    print(f"{day.isoformat()} 要发的提醒：{len(items)} 条")
    for item in items:
        status = STATUS_WORDS.get(item.status, item.status)
        if item.kind == "group":
            print(f"{item.at:%H:%M}  群提醒 #{item.ref_id}  群 {item.chat_id}  {status}  "
                  f"{(item.text or '')[:30]}")
            continue
        scheme = SCHEMES[item.scheme].short if item.scheme in SCHEMES else item.scheme
        what = "稍后提醒" if item.lead is None else _lead(item.lead)
        print(f"{item.at:%H:%M}  个人 #{item.ref_id}  用户 {item.chat_id}  {item.label}  "
              f"{scheme}  {item.city or '全国'}  截止 {item.due.isoformat()}（{what}）  {status}")
    return 0


def _lead(lead: int) -> str:
    from bot.reminders.texts import describe_lead

    return describe_lead(lead)
