"""Command line: `python -m bot ask|deadline|kb|run|...`.

Each sub-command lives in `bot/commands/<name>.py` and exposes `add_parser(subparsers)`,
which registers its arguments and sets `func`, a callable `(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from bot.errors import UsageError

COMMANDS = ["ask", "deadline", "kb", "run", "reminders", "broadcast"]


class OneLineParser(argparse.ArgumentParser):
    """argparse prints usage plus an error; the contract wants a single line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m bot", description="养老金认证助手")
    subparsers = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"bot.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bot.commands.{name}":
                raise
            continue  # not built yet
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if not getattr(args, "func", None):
            raise UsageError("请给出一个子命令: " + ", ".join(COMMANDS))
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
