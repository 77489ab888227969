"""Our bot with answering replaced, for `bench/e2e.py --decompose`: what everything else costs.

    python3 bench/stub_bot.py echo    # replies with the question itself, no buttons
    python3 bench/stub_bot.py reply   # replies with a fixed answer-sized text and 有用/没用

Everything else is the real bot (`python -m bot run`): handlers, storage, dispatch, sending.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bot.tg.handlers.chat as chat
from bot.cli import main
from bot.qa.answers import Reply
from bot.qa.engine import Engine

# About the length of a real answer with its source line and local-rules note.
FIXED_ANSWER = ("1. 打开手机上的国家社会保险公共服务平台或当地人社App。\n"
                "2. 找到“待遇资格认证”，按提示刷脸。\n"
                "3. 认证完成后在同一页面查看结果，家人也可以用自己的手机帮老人办。\n" * 3
                + "\n各地规定有差别，以当地社保经办机构的规定为准。\n来源：示例")


def stub(kind: str):
    def answer(engine: Engine, message: str, today: dt.date) -> Reply:
        if kind == "echo":  # a decline without suggestions gets no buttons
            return Reply(message, False, None, 0.0, message, "decline")
        return Reply(message, True, "channels-overview", 0.9, FIXED_ANSWER, "answer")
    return answer


if __name__ == "__main__":
    chat.answer = stub(sys.argv[1] if len(sys.argv) > 1 else "echo")
    sys.exit(main(["run"]))
