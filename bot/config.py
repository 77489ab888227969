"""Settings from the environment (and `.env` when present)."""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import KNOWLEDGE_DIR
from bot.errors import UsageError

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_DATABASE_PATH = Path("data/bot.db")
DEFAULT_TIMEZONE = "Asia/Shanghai"
_TOKEN = re.compile(r"^[0-9]{3,}:[A-Za-z0-9_-]{20,}$")
# http(s)://host[:port]/path, with a port Telegram's client can use.
_BASE_URL = re.compile(r"^https?://([^/\s:\[\]]+|\[[0-9a-fA-F:]+\])(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|"
                       r"6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?(/\S*)?$")


@dataclass(frozen=True)
class Settings:
    """Everything the running bot needs to know about its environment."""

    token: str
    base_url: str = DEFAULT_BASE_URL
    admin_ids: frozenset[int] = field(default_factory=frozenset)
    database_path: Path = DEFAULT_DATABASE_PATH
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    # Broadcast limits (messages per second overall; Telegram allows about 30).
    broadcast_rate: float = 25.0
    # A file holding "now" as an ISO date-time, for tests and demos; None = the real clock.
    clock_file: Path | None = None
    # What /reload re-reads; a copy elsewhere lets tests and operators try edits safely.
    knowledge_dir: Path = KNOWLEDGE_DIR
    # How often the running bot checks its database file and retries failed writes (seconds).
    db_check_seconds: float = 30.0
    # How often the reminder sender looks for reminders that have come due (seconds).
    reminder_tick_seconds: float = 20.0
    # The root logger's level ($LOG_LEVEL) and the webhook's secret token ($WEBHOOK_SECRET).
    log_level: str = "INFO"
    webhook_secret: str | None = None


def _admin_ids(raw: str) -> frozenset[int]:
    ids = set()
    for part in filter(None, (p.strip() for p in raw.split(","))):
        if not re.fullmatch(r"-?[0-9]+", part):
            raise UsageError(f"ADMIN_IDS 应是用逗号分隔的数字用户 ID，无法识别 {part!r}")
        ids.add(int(part))
    return frozenset(ids)


def _optional_path(raw: str) -> Path | None:
    return Path(raw.strip()) if raw.strip() else None


def _environment(dotenv: Path | None) -> dict[str, str]:
    """os.environ, after reading `.env` (which never overrides what is set already)."""
    if dotenv is not None and dotenv.exists():
        from dotenv import load_dotenv

        try:
            load_dotenv(dotenv, override=False, encoding="utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{dotenv} 不是 UTF-8 编码：请用 UTF-8 另存一次") from None
        except OSError as exc:
            raise UsageError(f"读不了 {dotenv}：{exc.strerror}") from None
    return dict(os.environ)


def _number(env: dict[str, str], name: str, default: str, example: str) -> float:
    """A finite number setting (nan and inf are not numbers of seconds or messages)."""
    raw = env.get(name, "").strip() or default
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"{name} 应是{example}：{raw!r}") from None
    if not math.isfinite(value):
        raise UsageError(f"{name} 应是{example}：{raw!r}")
    return value


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def database_path(env: dict[str, str] | None = None,
                  dotenv: Path | None = Path(".env")) -> Path:
    """The database file: $DATABASE_PATH (also from .env), else data/bot.db.

    The one place that knows it, for the bot and the command line alike.
    """
    env = _environment(dotenv) if env is None else env
    return Path(env.get("DATABASE_PATH", "").strip() or DEFAULT_DATABASE_PATH)


def _zone(env: dict[str, str]) -> ZoneInfo:
    zone_name = env.get("BOT_TIMEZONE", "").strip() or DEFAULT_TIMEZONE
    try:
        return ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"BOT_TIMEZONE 不是有效的时区名：{zone_name!r}") from None


def local_zone(env: dict[str, str] | None = None,
               dotenv: Path | None = Path(".env")) -> dt.tzinfo:
    """The bot's time zone ($BOT_TIMEZONE, default Asia/Shanghai), for the command line.

    Without tzdata the default is still exact: China has had no DST since 1991."""
    env = _environment(dotenv) if env is None else env
    try:
        return _zone(env)
    except UsageError:
        if env.get("BOT_TIMEZONE", "").strip():
            raise
        return dt.timezone(dt.timedelta(hours=8))


def local_today(env: dict[str, str] | None = None,
                dotenv: Path | None = Path(".env")) -> dt.date:
    """Today in the bot's time zone: the command line's default for --today."""
    return dt.datetime.now(local_zone(env, dotenv)).date()


def knowledge_dir(env: dict[str, str] | None = None,
                  dotenv: Path | None = Path(".env")) -> Path:
    """The knowledge directory: $KNOWLEDGE_DIR, else the project's `knowledge/`.

    Its `regions/` holds the region data, so rules and places follow it too."""
    env = _environment(dotenv) if env is None else env
    return _optional_path(env.get("KNOWLEDGE_DIR", "")) or KNOWLEDGE_DIR


def load_settings(env: dict[str, str] | None = None,
                  dotenv: Path | None = Path(".env")) -> Settings:
    """Read settings; raises `UsageError` with a one-line message when something is wrong."""
    if env is None:
        env = _environment(dotenv)
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        raise UsageError("缺少 TELEGRAM_BOT_TOKEN：请在环境变量或 .env 文件里设置机器人令牌")
    if not _TOKEN.match(token):
        raise UsageError("TELEGRAM_BOT_TOKEN 格式不对：应类似 123456789:AA… （从 @BotFather 获取）")
    base_url = env.get("TELEGRAM_BASE_URL", "").strip() or DEFAULT_BASE_URL
    if not _BASE_URL.match(base_url):
        raise UsageError("TELEGRAM_BASE_URL 应是 http(s)://主机[:端口]/bot 这样的地址："
                         f"{base_url!r}")
    zone = _zone(env)
    rate = _number(env, "BROADCAST_RATE", "25", "每秒条数，例如 25")
    if rate <= 0:
        raise UsageError("BROADCAST_RATE 必须大于 0")
    check_seconds = _number(env, "DB_CHECK_SECONDS", "30", "秒数，例如 30")
    if not 0.1 <= check_seconds <= 3600:
        raise UsageError("DB_CHECK_SECONDS 应在 0.1 到 3600 秒之间")
    tick = min(max(_number(env, "REMINDER_TICK_SECONDS", "20", "秒数，例如 20"), 0.05), 300.0)
    log_level = (env.get("LOG_LEVEL", "").strip() or "INFO").upper()
    if log_level not in _LOG_LEVELS:
        raise UsageError(f"LOG_LEVEL 应是 {'、'.join(_LOG_LEVELS)} 之一：{log_level!r}")
    secret = env.get("WEBHOOK_SECRET") or None
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise UsageError("WEBHOOK_SECRET 只能用 1 到 256 个英文字母、数字、_ 和 -")
    return Settings(
        token=token,
        base_url=base_url.rstrip("/") if base_url.endswith("//") else base_url,
        admin_ids=_admin_ids(env.get("ADMIN_IDS", "")),
        database_path=database_path(env),
        timezone=zone,
        broadcast_rate=rate,
        clock_file=_optional_path(env.get("BOT_CLOCK_FILE", "")),
        knowledge_dir=knowledge_dir(env),
        db_check_seconds=check_seconds,
        reminder_tick_seconds=tick,
        log_level=log_level,
        webhook_secret=secret,
    )
