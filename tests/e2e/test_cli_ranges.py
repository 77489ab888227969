"""Out-of-range numbers and dates on the command line: one line on stderr, exit code 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from bot import PROJECT_DIR
from bot.broadcasts.store import ensure_broadcast_tables
from bot.cli import main
from bot.db.connection import open_database
from bot.reminders.store import ensure_reminder_tables

HUGE = "99999999999999999999"
QUESTION = "企业退休，去年3月10号认证的，下次什么时候？"


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("cli") / "bot.db"
    db = open_database(path)
    ensure_broadcast_tables(db)
    ensure_reminder_tables(db)
    db.close()
    return str(path)


BAD = [
    ["broadcast", "status", HUGE],
    ["broadcast", "status", f"-{HUGE}"],
    ["broadcast", "status", "0"],
    ["broadcast", "list", "--limit", HUGE],
    ["broadcast", "list", "--limit", "0"],
    ["reminders", "due", "--today", "9999-12-31"],
    ["reminders", "due", "--today", "0001-01-01"],
    ["deadline", "--scheme", "企业退休", "--last", "9999-12-31", "--today", "9999-12-31"],
    ["deadline", "--scheme", "企业退休", "--last", "0001-01-01", "--today", "2025-01-01"],
    ["deadline", "--scheme", "企业退休", "--start", "去年3月10号", "--today", "1900-01-01"],
    ["ask", "--today", "0001-01-01", QUESTION],
    ["ask", "--today", "9999-12-31", QUESTION],
]


def _with_db(argv: list[str], database: str) -> list[str]:
    if argv[0] in ("broadcast", "reminders"):
        return [*argv, "--db", database]
    return argv


@pytest.mark.parametrize("argv", BAD, ids=" ".join)
def test_out_of_range_input_is_one_line_and_exit_2(argv, database, capsys) -> None:
    assert main(_with_db(argv, database)) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert captured.out == ""


@pytest.mark.parametrize("argv", [BAD[0], BAD[5], BAD[7], BAD[10]], ids=" ".join)
def test_as_a_process_without_traceback(argv, database) -> None:
    result = subprocess.run([sys.executable, "-m", "bot", *_with_db(argv, database)],
                            capture_output=True, text=True, timeout=120, cwd=PROJECT_DIR)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize("argv", [
    ["broadcast", "list", "--limit", "100000"],
    ["reminders", "due", "--today", "2200-12-31"],
    ["reminders", "due", "--today", "1900-01-01"],
], ids=" ".join)
def test_the_edges_of_the_ranges_still_work(argv, database, capsys) -> None:
    assert main(_with_db(argv, database)) == 0, capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["deadline", "--scheme", "企业退休", "--last", "2025-01-01", "--today", "2025-02-01"],
    ["ask", "怎么认证"],
], ids=" ".join)
def test_a_knowledge_dir_without_region_data_is_one_line(argv, tmp_path) -> None:
    env = {**os.environ, "KNOWLEDGE_DIR": str(tmp_path / "nowhere")}
    result = subprocess.run([sys.executable, "-m", "bot", *argv], capture_output=True,
                            text=True, timeout=120, cwd=PROJECT_DIR, env=env)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: 知识库文件有") and "kb check" in line


def test_kb_check_checks_knowledge_dir_and_its_region_data(tmp_path) -> None:
    broken = tmp_path / "knowledge"
    shutil.copytree(PROJECT_DIR / "knowledge", broken)
    (broken / "regions" / "national.yaml").write_text("rules: [\n", encoding="utf-8")
    env = {**os.environ, "KNOWLEDGE_DIR": str(broken)}
    result = subprocess.run([sys.executable, "-m", "bot", "kb", "check"], capture_output=True,
                            text=True, timeout=120, cwd=PROJECT_DIR, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "national.yaml" in result.stdout
