"""`python -m bot run`: start the Telegram bot (long polling, or a webhook)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import re
import sys

from bot.config import Settings, load_settings
from bot.errors import UsageError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="启动 Telegram 机器人")
    parser.add_argument("--webhook", metavar="URL", help="用 webhook 模式，URL 为公网 HTTPS 地址")
    parser.add_argument("--listen", metavar="HOST:PORT", default="127.0.0.1:8080",
                        help="webhook 模式下监听的地址（默认 127.0.0.1:8080）")
    parser.set_defaults(func=run)


def _listen(value: str) -> tuple[str, int]:
    match = re.fullmatch(r"(.+):([0-9]{1,5})", value)
    if not match or not 0 < int(match.group(2)) < 65536:
        raise UsageError(f"--listen 应写成 HOST:PORT，例如 0.0.0.0:8080：{value!r}")
    host = match.group(1)
    if host.startswith("[") and host.endswith("]"):  # [::]:8080, as URLs write IPv6
        host = host[1:-1]
    return host, int(match.group(2))


def _check_listen(host: str, port: int) -> None:
    """The webhook's address can be listened on: said before anything starts."""
    import socket

    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        raise UsageError(f"webhook 不能在 {host}:{port} 上监听：{exc.strerror or exc}") from None


class _HideToken(logging.Filter):
    """The bot token never reaches the log (python-telegram-bot logs its URLs at DEBUG)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<TOKEN>"), ()
        return True


async def _check_connection(settings: Settings) -> None:
    from telegram import Bot

    async with Bot(settings.token, base_url=settings.base_url) as bot:
        await bot.get_me()


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.webhook and not re.match(r"^https?://", args.webhook):
        raise UsageError(f"--webhook 应是 http(s):// 开头的地址：{args.webhook!r}")
    host, port = _listen(args.listen) if args.webhook else ("", 0)
    if args.webhook:
        _check_listen(host, port)
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Nothing a user typed reaches the log with a number in clear, whatever logs it
    # (python-telegram-bot logs whole updates at DEBUG level).
    from bot.qa.safety import RedactingFilter

    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
        handler.addFilter(_HideToken(settings.token))
    # httpx logs every request URL, which contains the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)

    from bot.db.connection import open_database
    from bot.deadline.region_data import use_knowledge_dir
    from bot.errors import StorageError
    from bot.qa.engine import build_engine

    try:  # before the slow engine: a broken database is reported at once
        open_database(settings.database_path, check=True).close()
    except StorageError as exc:
        raise UsageError(str(exc)) from None
    from bot.tg.app import build_application, run_polling, run_webhook

    use_knowledge_dir(settings.knowledge_dir)  # region data follows the knowledge base
    engine = build_engine(settings.knowledge_dir)
    # The engine is a large, never-changing heap: keep the garbage collector from rescanning it.
    gc.collect()
    gc.freeze()
    try:
        application = build_application(settings, engine)
    except StorageError as exc:
        raise UsageError(str(exc)) from None
    from telegram.error import InvalidToken, NetworkError

    try:
        asyncio.run(_check_connection(settings))  # a clear message instead of PTB's traceback
        if args.webhook:
            run_webhook(application, args.webhook, host, port,
                        settings.webhook_secret)
        else:
            run_polling(application)
    except InvalidToken:
        raise UsageError("Telegram 不认这个 TELEGRAM_BOT_TOKEN：请到 @BotFather 核对令牌") from None
    except NetworkError as exc:
        print(f"error: 连不上 Telegram（{settings.base_url}）：{exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the webhook's address: in use, or no such host here
        raise UsageError(f"webhook 不能在 {args.listen} 上监听：{exc.strerror or exc}") from None
    return 0
