"""Settings from the environment: clear one-line errors for bad values."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bot import PROJECT_DIR
from bot.config import DEFAULT_BASE_URL, load_settings
from bot.errors import UsageError

TOKEN = "123456789:AAbbCCddEEffGGhhIIjjKKllMMnn"


def test_defaults():
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.database_path == Path("data/bot.db")
    assert str(settings.timezone) == "Asia/Shanghai"
    assert settings.admin_ids == frozenset()


def test_all_values():
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "ADMIN_IDS": "1, 2,3",
                              "TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot",
                              "DATABASE_PATH": "/tmp/x.db", "BOT_TIMEZONE": "UTC"})
    assert settings.admin_ids == {1, 2, 3}
    assert settings.base_url == "http://127.0.0.1:9/bot"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "缺少 TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "abc"}, "格式不对"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "ADMIN_IDS": "1,x"}, "ADMIN_IDS"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_TIMEZONE": "Mars/Base"}, "BOT_TIMEZONE"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": "ftp://x"}, "TELEGRAM_BASE_URL"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "BROADCAST_RATE": "fast"}, "BROADCAST_RATE"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "BROADCAST_RATE": "nan"}, "BROADCAST_RATE"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "REMINDER_TICK_SECONDS": "inf"}, "REMINDER_TICK"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": "http://127.0.0.1:99999/bot"},
         "TELEGRAM_BASE_URL"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_SECRET": "my secret!"}, "WEBHOOK_SECRET"),
    ],
)
def test_bad_settings(env, message):
    with pytest.raises(UsageError, match=message):
        load_settings(env)


@pytest.mark.parametrize(
    ("env", "args"),
    [({"TELEGRAM_BOT_TOKEN": "not-a-token"}, []),
     ({"TELEGRAM_BOT_TOKEN": TOKEN}, ["--webhook", "x", "--listen", "1.2.3.4"])],
)
def test_run_command_fails_in_one_line(env, args, tmp_path):
    result = subprocess.run([sys.executable, "-m", "bot", "run", *args], capture_output=True,
                            text=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin", **env,
                                                          "PYTHONPATH": str(PROJECT_DIR)},
                            timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_database_path_is_decided_in_one_place(tmp_path) -> None:
    from pathlib import Path

    from bot.config import DEFAULT_DATABASE_PATH, database_path

    assert database_path({}, dotenv=None) == DEFAULT_DATABASE_PATH == Path("data/bot.db")
    assert database_path({"DATABASE_PATH": " x/y.db "}, dotenv=None) == Path("x/y.db")
    settings = load_settings({"TELEGRAM_BOT_TOKEN": "123456789:" + "A" * 30})
    assert settings.database_path == DEFAULT_DATABASE_PATH


READERS = ("environ", "getenv", "putenv", "environb")


def _environment_readers(path: Path) -> list[str]:
    """`function` names in `path` that read os.environ / os.getenv / os.putenv."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = where
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = child.name
            attribute = isinstance(child, ast.Attribute) and child.attr in READERS
            bare = isinstance(child, ast.Name) and child.id in READERS
            imported = isinstance(child, ast.ImportFrom) and child.module == "os" and any(
                a.name in READERS for a in child.names)
            if attribute or bare or imported:
                found.append(name)
            visit(child, name)

    visit(tree, "<module>")
    return found


# The engine's own cache directory (BOT_CACHE_DIR, XDG_CACHE_HOME) is not a bot setting.
ALLOWED_READERS = {"bot/qa/engine.py": {"cache_dir"}}


def test_only_config_reads_the_environment() -> None:
    readers = {}
    for path in sorted((PROJECT_DIR / "bot").rglob("*.py")):
        where = path.relative_to(PROJECT_DIR).as_posix()
        if where == "bot/config.py":
            continue
        names = set(_environment_readers(path)) - ALLOWED_READERS.get(where, set())
        if names:
            readers[where] = sorted(names)
    assert readers == {}
    # and nothing of the bot's goes through the engine's environment-reading default
    users = [p.relative_to(PROJECT_DIR).as_posix() for p in (PROJECT_DIR / "bot").rglob("*.py")
             if p.name != "engine.py" and ("default_engine" in p.read_text(encoding="utf-8")
                                           or "configured_knowledge_dir" in p.read_text(
                                               encoding="utf-8"))]
    assert users == []


def test_the_scan_finds_environment_reads(tmp_path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom os import getenv\nX = os.environ['A']\n"
                      "def f():\n    return os.getenv('B')\n", encoding="utf-8")
    assert _environment_readers(sample) == ["<module>", "<module>", "f"]


def test_time_zone_and_knowledge_dir_settings(tmp_path) -> None:
    from bot.config import knowledge_dir, local_zone

    assert str(local_zone({}, dotenv=None)) == "Asia/Shanghai"
    assert str(local_zone({"BOT_TIMEZONE": "UTC"}, dotenv=None)) == "UTC"
    with pytest.raises(UsageError, match="BOT_TIMEZONE"):
        local_zone({"BOT_TIMEZONE": "Mars/Base"}, dotenv=None)
    assert knowledge_dir({"KNOWLEDGE_DIR": str(tmp_path)}, dotenv=None) == tmp_path
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "KNOWLEDGE_DIR": str(tmp_path),
                              "LOG_LEVEL": "DEBUG", "WEBHOOK_SECRET": "s3"})
    assert (settings.knowledge_dir, settings.log_level, settings.webhook_secret) \
        == (tmp_path, "DEBUG", "s3")


@pytest.fixture
def edited_knowledge(tmp_path) -> Path:
    """A copy of the knowledge base whose 海口 residents certify every 3 months, not 6."""
    import shutil

    from bot import KNOWLEDGE_DIR

    copy = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, copy)
    hainan = copy / "regions" / "provinces" / "hainan.yaml"
    text = hainan.read_text(encoding="utf-8")
    assert "        months: 6\n" in text
    hainan.write_text(text.replace("        months: 6\n", "        months: 3\n", 1),
                      encoding="utf-8")
    return copy


def _resident_haikou_months() -> int:
    from bot.deadline.place_names import lookup_region
    from bot.deadline.regions import rule_for

    return rule_for("resident", lookup_region("海口")).rule.months


def test_knowledge_dir_moves_the_region_data(edited_knowledge) -> None:
    from bot import KNOWLEDGE_DIR
    from bot.deadline.region_data import regions_dir, use_knowledge_dir

    assert _resident_haikou_months() == 6
    try:
        use_knowledge_dir(load_settings({"TELEGRAM_BOT_TOKEN": TOKEN,
                                         "KNOWLEDGE_DIR": str(edited_knowledge)}).knowledge_dir)
        assert regions_dir() == edited_knowledge / "regions"
        assert _resident_haikou_months() == 3
    finally:
        use_knowledge_dir(KNOWLEDGE_DIR)
    assert _resident_haikou_months() == 6


def test_knowledge_dir_moves_the_region_data_of_the_command_line(edited_knowledge,
                                                                 tmp_path) -> None:
    import json

    def months(extra: dict[str, str]) -> int:
        result = subprocess.run(
            [sys.executable, "-m", "bot", "deadline", "--scheme", "resident", "--city", "海口",
             "--last", "2025-03-10", "--today", "2025-04-01", "--json"],
            capture_output=True, text=True, cwd=tmp_path, timeout=60,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_DIR), **extra})
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)["rule"]["months"]

    assert months({}) == 6
    assert months({"KNOWLEDGE_DIR": str(edited_knowledge)}) == 3


def test_reminder_times_follow_bot_timezone() -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    import bot.reminders.plans as plans

    try:
        plans.use_timezone(ZoneInfo("Europe/Berlin"))
        assert plans.at_send_hour(dt.date(2026, 3, 2)).utcoffset() == dt.timedelta(hours=1)
        assert plans.from_stamp("2026-07-01T09:00").utcoffset() == dt.timedelta(hours=2)
    finally:
        plans.use_timezone(plans.CHINA)
    assert plans.at_send_hour(dt.date(2026, 3, 2)).utcoffset() == dt.timedelta(hours=8)


@pytest.mark.parametrize(("base", "files"), [
    ("https://api.telegram.org/bot", "https://api.telegram.org/file/bot"),
    ("http://botapi:8081/bot", "http://botapi:8081/file/bot"),  # a host named bot…
])
def test_file_url_replaces_only_the_last_bot(base, files):
    from bot.tg.app import file_url

    assert file_url(base) == files



def test_log_level_in_lower_case_is_fine():
    assert load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "LOG_LEVEL": "debug"}).log_level == "DEBUG"


def test_a_dotenv_not_in_utf8_is_one_line(tmp_path):
    (tmp_path / ".env").write_bytes("TELEGRAM_BOT_TOKEN=机器人\n".encode("gbk"))
    result = subprocess.run([sys.executable, "-m", "bot", "deadline", "--scheme", "企业退休",
                             "--last", "2025-03-10", "--today", "2025-11-01"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_DIR)})
    assert result.returncode == 2 and "UTF-8" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_cache_directory_that_cannot_be_made_falls_back_to_a_temporary_one(monkeypatch):
    from bot.qa.engine import cache_dir

    monkeypatch.setenv("BOT_CACHE_DIR", "/dev/null/cache")  # under a file: never a directory
    directory = cache_dir()
    assert directory.is_dir() and str(directory).startswith(tempfile.gettempdir())
