"""`python -m bot ask`: answer questions from the command line, as the bot would."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from bot.answers import answer
from bot.config import knowledge_dir, local_today
from bot.engine import build_engine
from bot.errors import UsageError
from bot.regions import use_knowledge_dir


def parse_day(value: str, option: str) -> dt.date:
    """A YYYY-MM-DD command-line date, or a one-line usage error."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} 需要 YYYY-MM-DD 格式的日期，收到的是 {value!r}") from None


def china_today() -> dt.date:
    """Today in the bot's time zone (China by default): the command line's default for --today."""
    return local_today()


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
    directory = knowledge_dir()
    use_knowledge_dir(directory)  # region data follows the knowledge base
    engine = build_engine(directory)
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
