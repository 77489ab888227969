"""`python -m bot ask`: the command-line contract."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bot import PROJECT_DIR


def ask(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "ask", *args], input=stdin,
                          capture_output=True, cwd=PROJECT_DIR, timeout=120)


def test_json_one_question():
    result = ask("--json", "在微信上怎么做养老金认证")
    assert result.returncode == 0, result.stderr.decode()
    obj = json.loads(result.stdout.decode())
    assert set(obj) == {"question", "matched", "id", "score", "answer", "detail", "suggestions"}
    assert obj["question"] == "在微信上怎么做养老金认证"
    assert 0.0 <= obj["score"] <= 1.0


def test_stdin_many_questions_including_bad_input():
    lines = ["刷脸老是失败怎么办", "", "x" * 10_000, "今天晚饭吃什么"]
    data = "\n".join(lines).encode() + b"\n\xff\xfe\x00\x01junk\n"
    result = ask("--json", "-", stdin=data)
    assert result.returncode == 0, result.stderr.decode()
    objects = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(objects) == 5
    assert objects[1]["matched"] is False  # empty line
    assert objects[2]["matched"] is False  # 10 KB of junk
    assert objects[3]["matched"] is False  # out of scope
    assert objects[4]["matched"] is False  # binary junk
    assert all(o["answer"] for o in objects)


def test_plain_output_names_source_and_local_rules():
    result = ask("集中认证取消了是不是就不用认证了")
    text = result.stdout.decode()
    assert result.returncode == 0
    assert "依据：" in text and "以当地社保经办机构的规定为准" in text


@pytest.mark.parametrize("args", [["--today", "2025-02-30", "问题"], ["--today", "昨天", "问题"],
                                  [], ["--bogus", "问题"]])
def test_bad_arguments_exit_2_with_one_line(args):
    result = ask(*args)
    assert result.returncode == 2
    err = result.stderr.decode().strip()
    assert err and "\n" not in err and "Traceback" not in err


def test_ask_loads_neither_storage_nor_pkg_resources():
    """`ask` needs no database, and jieba finds its files without setuptools' slow module."""
    probe = ("import runpy, sys; sys.argv = ['bot', 'ask', '怎么认证']\n"
             "try:\n    runpy.run_module('bot', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print(sorted(m for m in ('sqlite_utils', 'pkg_resources') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, cwd=PROJECT_DIR,
                            timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().splitlines()[-1] == "[]"
