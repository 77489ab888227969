"""`python -m bot deadline` as the spec's command-line contract describes it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bot import PROJECT_DIR

KEYS = ["scheme", "region", "rule", "status", "due", "days_left", "window", "suspended_from",
        "if_certified_today", "notes", "explanation"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "deadline", *args], capture_output=True,
                          text=True, cwd=PROJECT_DIR, timeout=60)


def run_json(*args: str) -> dict:
    result = run(*args, "--json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--scheme", "enterprise", "--last", "2025-03-10", "--today", "2025-11-01"],
         {"due": "2026-03-10", "status": "ok", "days_left": 129, "window": None,
          "suspended_from": None, "if_certified_today": None}),
        (["--scheme", "enterprise", "--last", "2025-03-10", "--today", "2026-03-10"],
         {"due": "2026-03-10", "status": "due_soon", "days_left": 0}),
        (["--scheme", "enterprise", "--last", "2024-01-31", "--today", "2025-03-20"],
         {"due": "2025-01-31", "status": "overdue", "days_left": -48, "suspended_from": "2025-02",
          "if_certified_today": {"resume_month": "2025-05",
                                 "backpay_months": ["2025-02", "2025-03", "2025-04"]}}),
        (["--scheme", "survivor", "--last", "2026-01-15", "--today", "2026-05-10"],
         {"due": "2026-06-30", "status": "ok", "days_left": 51,
          "window": {"start": "2026-04-01", "end": "2026-06-30"}}),
    ],
)
def test_worked_examples_as_json(args, expected):
    data = run_json(*args)
    assert list(data) == KEYS
    assert data["region"] is None
    for key, value in expected.items():
        assert data[key] == value, key
    assert "以当地社保经办机构规定为准" in data["explanation"]


def test_chinese_scheme_and_city():
    data = run_json("--scheme", "遗属", "--city", "锦州", "--last", "2026-01-15",
                    "--today", "2026-05-10")
    assert data["scheme"] == "survivor"
    assert data["region"] == {"city": "锦州", "province": "辽宁"}
    assert data["rule"]["type"] == "rolling" and data["rule"]["months"] == 6
    assert data["due"] == "2026-07-15"
    assert "辽宁省" in data["explanation"]


def test_start_date_and_unknown_city():
    data = run_json("--scheme", "企业退休", "--city", "火星", "--start", "2025-06-01",
                    "--today", "2025-07-01")
    assert data["due"] == "2026-06-01"
    assert data["region"] is None
    assert any("火星" in note for note in data["notes"])


def test_plain_output_is_the_explanation():
    result = run("--scheme", "enterprise", "--last", "2024-01-31", "--today", "2025-03-20")
    assert result.returncode == 0
    text = result.stdout.strip()
    assert "2025年1月31日" in text and "已超期48天" in text and "2025年5月" in text
    assert not text.startswith("{")


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["--scheme", "enterprise", "--last", "2025-02-30"], "2月没有30日"),
        (["--scheme", "enterprise", "--last", "not-a-date"], "--last"),
        (["--scheme", "enterprise", "--last", "2026-05-01", "--today", "2026-04-01"], "晚于今天"),
        (["--scheme", "pension", "--last", "2025-01-01"], "enterprise"),
        (["--scheme", "enterprise"], "缺少日期"),
        (["--last", "2025-01-01"], "--scheme"),
        (["--scheme", "enterprise", "--last", "2025-01-01", "--start", "2024-01-01"], "--start"),
        (["--scheme", "enterprise", "--last", "2025-01-01", "--today", "2026-13-01"], "--today"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, hint):
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and hint in lines[0]
    assert "Traceback" not in result.stderr


def test_unknown_scheme_lists_all_valid_ones():
    result = run("--scheme", "养老", "--last", "2025-01-01")
    assert result.returncode == 2
    for key in ("enterprise", "institution", "resident", "survivor", "injury"):
        assert key in result.stderr
