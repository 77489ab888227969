"""`python -m bot ask`: answer questions from the command line, as the bot would."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from zoneinfo import ZoneInfo

from bot.answers import answer
from bot.engine import default_engine
from bot.errors import UsageError

CHINA = ZoneInfo("Asia/Shanghai")


def parse_day(value: str, option: str) -> dt.date:
    """A YYYY-MM-DD command-line date, or a one-line usage error."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} 需要 YYYY-MM-DD 格式的日期，收到的是 {value!r}") from None


def china_today() -> dt.date:
    """Today's date in China: the command line's default for --today."""
    return dt.datetime.now(CHINA).date()


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ask", help="回答一个问题（或用 - 从标准输入逐行读取）")
    parser.add_argument("question", help="问题文本，或 - 表示从标准输入每行读一个问题")
    parser.add_argument("--json", action="store_true", help="每个问题输出一行 JSON")
    parser.add_argument("--today", help="把“今天”设为 YYYY-MM-DD（用于相对日期）")
    parser.set_defaults(func=run)


def _questions(arg: str):
    if arg != "-":
        yield arg
        return
    # Bytes, not text: binary junk on stdin must become a declined answer, not a crash.
    for raw in sys.stdin.buffer:
        yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


def run(args: argparse.Namespace) -> int:
    today = parse_day(args.today, "--today") if args.today else china_today()
    engine = default_engine()
    first = True
    for question in _questions(args.question):
        reply = answer(engine, question, today)
        if args.json:
            print(json.dumps(reply.as_json(), ensure_ascii=False), flush=True)
        else:
            if not first:
                print("---")
            print(reply.text, flush=True)
        first = False
    return 0
