"""`python -m bot kb check`: validate every knowledge file and print its problems."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.config import knowledge_dir
from bot.deadline.region_data import use_knowledge_dir
from bot.errors import KnowledgeError
from bot.qa.check import check_problems


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("kb", help="检查知识库文件")
    actions = parser.add_subparsers(dest="kb_command", required=True)
    check = actions.add_parser("check", help="校验 knowledge/ 下所有文件，逐行列出问题")
    check.add_argument("--dir", type=Path, default=None,
                       help="知识库目录（默认：KNOWLEDGE_DIR，没设就是项目里的 knowledge/）")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    directory = args.dir or knowledge_dir()
    if not directory.is_dir():
        print(f"{directory}: -: 目录不存在")
        return 2
    # Places named in the question-answer files are looked up in this directory's regions.
    use_knowledge_dir(directory)
    try:
        problems, summary = check_problems(directory)
    except KnowledgeError as exc:  # the region data itself is broken: nothing else can be read
        problems, summary = exc.problems, ""
    for line in problems:
        print(line)
    if problems:
        print(f"共 {len(problems)} 个问题；有问题的文件或设置不会被机器人使用。")
        return 1
    print(f"知识库检查通过：{summary}。")
    return 0
