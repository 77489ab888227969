"""Command line: `python -m bot ask|deadline|kb|run|...`.

Each sub-command lives in `bot/commands/<name>.py` and exposes `add_parser(subparsers)`,
which registers its arguments and sets `func`, a callable `(args) -> int`. The commands import
the heavy parts (the matcher, the bot) inside `func`, so `deadline` and `--help` start fast.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from bot.commands import ask, broadcast, deadline, kb, reminders, run
from bot.errors import KnowledgeError, UsageError

COMMANDS = ["ask", "deadline", "kb", "run", "reminders", "broadcast"]

# Dates the calculators can work with (a year on either side must stay a valid date).
DATE_MIN, DATE_MAX = dt.date(1900, 1, 1), dt.date(2200, 12, 31)
# Date options of any sub-command, checked here once: --today first, the others relative to it.
DATE_OPTIONS = ("today", "last", "start")


def _checked_date(option: str, value: str, today: dt.date) -> dt.date | None:
    """The date `value` means, or None when it is not one (the command says why)."""
    from bot.errors import DateParseError
    from bot.text.dates import parse_date_match

    try:
        found = parse_date_match(value, today)
    except DateParseError:
        return None
    except (OverflowError, ValueError):  # e.g. 去年 relative to year 1
        found = None
    if found is None or found.date is None or not DATE_MIN <= found.date <= DATE_MAX:
        raise UsageError(f"{option} 的日期超出范围：只能是 {DATE_MIN.isoformat()} 到 "
                         f"{DATE_MAX.isoformat()} 之间的日期，收到的是 {value!r}")
    return found.date


def check_dates(args: argparse.Namespace) -> None:
    """Every date option of every sub-command must lie in DATE_MIN … DATE_MAX."""
    from bot.config import local_today

    today = local_today()
    for name in DATE_OPTIONS:
        value = getattr(args, name, None)
        if isinstance(value, str) and value.strip():
            found = _checked_date(f"--{name}", value, today)
            if name == "today" and found is not None:
                today = found


def _configure(command: str) -> None:
    """Region data follows KNOWLEDGE_DIR for every command, as the knowledge base does."""
    from bot.config import knowledge_dir
    from bot.deadline.region_data import load_region_data, use_knowledge_dir

    use_knowledge_dir(knowledge_dir())
    if command in ("ask", "deadline"):
        load_region_data()  # broken region files: one line now, before anything else is said


class OneLineParser(argparse.ArgumentParser):
    """argparse prints usage plus an error; the contract wants a single line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m bot", description="养老金认证助手")
    subparsers = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    for command in (ask, deadline, kb, run, reminders, broadcast):
        command.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if not getattr(args, "func", None):
            raise UsageError("请给出一个子命令: " + ", ".join(COMMANDS))
        check_dates(args)
        if args.command != "run":  # `run` configures itself from its settings
            _configure(args.command)
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KnowledgeError as exc:  # KNOWLEDGE_DIR missing, or a region file that fails its check
        print(f"error: 知识库文件有 {len(exc.problems)} 处问题，第一处：{exc.problems[0]}"
              "（运行 python -m bot kb check 可以看全部）", file=sys.stderr)
        return 2
    except OverflowError as exc:  # a date or number out of range that no check above caught
        print(f"error: 日期或数字超出了能处理的范围（{exc}）", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
