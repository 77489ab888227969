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


WORKED = [
    # the six worked examples of shared/spec/certification-rules.md (version 2)
    (["--scheme", "enterprise", "--last", "2025-03-10", "--today", "2025-11-01"], None,
     {"due": "2026-03-10", "status": "ok", "days_left": 129, "window": None,
      "suspended_from": None, "if_certified_today": None}),
    (["--scheme", "enterprise", "--last", "2025-03-10", "--today", "2026-03-10"], None,
     {"due": "2026-03-10", "status": "due_soon", "days_left": 0, "window": None,
      "suspended_from": None, "if_certified_today": None}),
    (["--scheme", "enterprise", "--last", "2024-01-31", "--today", "2025-03-20"], None,
     {"due": "2025-01-31", "status": "overdue", "days_left": -48, "window": None,
      "suspended_from": "2025-01",
      "if_certified_today": {"resume_month": "2025-04",
                             "backpay_months": ["2025-01", "2025-02", "2025-03"]}}),
    (["--scheme", "survivor", "--last", "2026-01-15", "--today", "2026-05-10"], None,
     {"due": "2027-01-15", "status": "ok", "days_left": 250, "window": None,
      "suspended_from": None, "if_certified_today": None}),
    (["--scheme", "survivor", "--city", "呼和浩特", "--last", "2026-03-05", "--today",
      "2026-03-20"], {"city": "呼和浩特", "province": "内蒙古"},
     {"due": "2026-04-15", "status": "due_soon", "days_left": 26,
      "window": {"start": "2026-04-01", "end": "2026-04-15"}, "suspended_from": None,
      "if_certified_today": None}),
    (["--scheme", "resident", "--city", "淮南", "--last", "2025-02-01", "--today",
      "2026-03-12"], {"city": "淮南", "province": "安徽"},
     {"due": "2026-02-01", "status": "overdue", "days_left": -39, "window": None,
      "suspended_from": "2026-02",
      "if_certified_today": {"resume_month": "2026-05",
                             "backpay_months": ["2026-02", "2026-03", "2026-04"]}}),
]


@pytest.mark.parametrize(("args", "region", "expected"), WORKED)
def test_worked_examples_as_json(args, region, expected):
    data = run_json(*args)
    assert list(data) == KEYS
    assert data["region"] == region
    for key, value in expected.items():
        assert data[key] == value, key
    assert data["rule"]["type"] in ("rolling", "windows", "calendar_year")
    assert isinstance(data["notes"], list) and all(isinstance(n, str) for n in data["notes"])
    assert "以当地社保经办机构规定为准" in data["explanation"]
    assert "按时" not in data["explanation"]


def test_worked_example_texts():
    ok = run_json("--scheme", "enterprise", "--last", "2025-03-10", "--today", "2025-11-01")
    assert "请在2026年3月10日之前办好" in ok["explanation"]
    last_day = run_json("--scheme", "enterprise", "--last", "2025-03-10", "--today", "2026-03-10")
    assert "今天就去认证" in last_day["explanation"]
    survivor = run_json("--scheme", "survivor", "--last", "2026-01-15", "--today", "2026-05-10")
    assert "比12个月短" in survivor["explanation"]
    assert survivor["rule"] == {"type": "rolling", "months": 12, "suspension": "due_month",
                                "resume_cutoff_day": None, "applied": "全国通用规则"}


def test_chinese_scheme_and_city():
    data = run_json("--scheme", "遗属", "--city", "锦州", "--last", "2026-01-15",
                    "--today", "2026-05-10")
    assert data["scheme"] == "survivor"
    assert data["region"] == {"city": "锦州", "province": "辽宁"}
    assert data["rule"]["type"] == "rolling" and data["rule"]["months"] == 12
    assert data["due"] == "2027-01-15"
    assert "锦州市" in data["explanation"] and "葫芦岛" in data["explanation"]


def test_huludao_city_rule():
    data = run_json("--scheme", "城乡居民", "--city", "葫芦岛市", "--last", "2026-02-01",
                    "--today", "2026-05-01")
    assert data["region"] == {"city": "葫芦岛", "province": "辽宁"}
    assert data["rule"]["type"] == "windows"
    assert data["rule"]["windows"] == [["01-01", "06-30"], ["07-01", "12-31"]]
    assert data["due"] == "2026-12-31"
    assert data["window"] == {"start": "2026-07-01", "end": "2026-12-31"}


def test_passive_city():
    data = run_json("--scheme", "enterprise", "--city", "广州", "--last", "2024-01-31",
                    "--today", "2025-03-20")
    assert data["status"] == "overdue" and data["suspended_from"] == "2025-01"
    assert data["explanation"].startswith("广州本市户籍")
    assert "如果您不是" in data["explanation"] and "已暂停" not in data["explanation"]


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
    assert "2025年1月31日" in text and "已超期48天" in text and "2025年4月" in text
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
