"""`python -m bot ask`: answer questions from the command line, as the bot would."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from bot.config import knowledge_dir, local_today
from bot.deadline.regions import use_knowledge_dir
from bot.errors import UsageError


def parse_day(value: str, option: str) -> dt.date:
    """A YYYY-MM-DD command-line date, or a one-line usage error."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} 需要 YYYY-MM-DD 格式的日期，收到的是 {value!r}") from None


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ask", help="回答一个问题（或用 - 从标准输入逐行读取）")
    parser.add_argument("question", nargs="?",
                        help="问题文本，或 - 表示从标准输入每行读一个问题")
    parser.add_argument("--image", metavar="PATH",
                        help="回答一张图片（短信或报错截图）里的文字，和机器人收到图片时一样")
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


def _read_picture(path: str) -> bytes:
    """The picture file's bytes, refusing a missing or huge file before reading it."""
    from bot.ocr.reader import MAX_BYTES

    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"无法读取图片 {path!r}：{exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise UsageError(f"图片太大：{path!r} 超过 {MAX_BYTES // 1024 // 1024} MB")
    return data


def _answer_image(args: argparse.Namespace, today: dt.date) -> int:
    from bot.errors import ImageError
    from bot.ocr.picture import answer_read
    from bot.ocr.reader import read_image

    data = _read_picture(args.image)
    try:
        read = read_image(data)
    except ImageError as exc:
        raise UsageError(f"无法识别图片 {args.image!r}：{exc}") from None
    directory = knowledge_dir()
    from bot.qa.engine import build_engine

    use_knowledge_dir(directory)
    result = answer_read(build_engine(directory), read, today)
    if args.json:
        print(json.dumps({**result.reply.as_json(), "read": result.read}, ensure_ascii=False),
              flush=True)
    else:
        print(result.reply.text, flush=True)
    return 0


def run(args: argparse.Namespace) -> int:
    today = parse_day(args.today, "--today") if args.today else local_today()
    if args.image is not None:
        if args.question is not None:
            raise UsageError("--image 和问题文本只能给一个")
        return _answer_image(args, today)
    if args.question is None:
        raise UsageError("请给出问题文本、- 或 --image PATH")
    directory = knowledge_dir()
    # Imported here: the matcher loads jieba, which the other sub-commands never need.
    from bot.qa.answers import answer
    from bot.qa.engine import build_engine

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
