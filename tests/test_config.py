"""Settings from the environment: clear one-line errors for bad values."""

from __future__ import annotations

import subprocess
import sys
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
