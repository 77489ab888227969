"""`python -m bot kb check`: validate every knowledge file and print its problems."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot import KNOWLEDGE_DIR
from bot.qa.check import check_problems


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("kb", help="检查知识库文件")
    actions = parser.add_subparsers(dest="kb_command", required=True)
    check = actions.add_parser("check", help="校验 knowledge/ 下所有文件，逐行列出问题")
    check.add_argument("--dir", type=Path, default=KNOWLEDGE_DIR, help="知识库目录")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    if not args.dir.is_dir():
        print(f"{args.dir}: -: 目录不存在")
        return 2
    problems, summary = check_problems(args.dir)
    for line in problems:
        print(line)
    if problems:
        print(f"共 {len(problems)} 个问题；有问题的文件或设置不会被机器人使用。")
        return 1
    print(f"知识库检查通过：{summary}。")
    return 0
