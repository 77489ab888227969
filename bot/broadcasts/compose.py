"""What an admin types: the notice with its link buttons, and the send time; problems raise
`BroadcastError` with a polite Chinese message for the admin."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.errors import BotError, DateParseError
from bot.text.times import parse_send_time

MAX_TEXT_UTF16 = 4000  # Telegram allows 4096; one message per recipient, never split
MAX_BUTTONS = 6
MAX_BUTTON_LABEL = 30
MAX_SCHEDULE_AHEAD = dt.timedelta(days=30)


class BroadcastError(BotError):
    """A notice or send time that cannot be used; the message is polite Chinese for the admin."""


@dataclass(frozen=True)
class Composed:
    text: str
    buttons: tuple[tuple[str, str], ...]


_BUTTON_LINE = re.compile(r"^(?P<label>[^|｜]+?)\s*[|｜]\s*(?P<url>\S+)\s*$")
_URL = re.compile(r"^(https?://[^\s/]+\.[^\s]*|tg://\S+)$", re.IGNORECASE)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_composed(raw: str) -> Composed:
    """Split an admin's message into text and link buttons (lines `按钮文字 | https://…`)."""
    lines = (raw or "").strip().splitlines()
    buttons: list[tuple[str, str]] = []
    # Buttons are the trailing lines of the form "label | url"; anything else is text.
    while lines:
        match = _BUTTON_LINE.match(lines[-1].strip())
        if not match:
            break
        label, url = match.group("label").strip(), match.group("url")
        if not _URL.match(url):
            raise BroadcastError(f"按钮“{label}”的链接不对：要以 https:// 或 http:// 开头。")
        if len(label) > MAX_BUTTON_LABEL:
            raise BroadcastError(f"按钮文字太长（最多 {MAX_BUTTON_LABEL} 个字）：{label[:40]}")
        buttons.insert(0, (label, url))
        lines.pop()
    text = "\n".join(lines).strip()
    if not text:
        raise BroadcastError("通知正文是空的，请先写正文，按钮写在最后几行。")
    if len(buttons) > MAX_BUTTONS:
        raise BroadcastError(f"按钮最多 {MAX_BUTTONS} 个，现在有 {len(buttons)} 个。")
    if utf16_len(text) > MAX_TEXT_UTF16:
        raise BroadcastError(f"正文太长（{len(text)} 字），请控制在 {MAX_TEXT_UTF16} 字以内。")
    return Composed(text, tuple(buttons))


def parse_when(text: str, now: dt.datetime) -> dt.datetime:
    """A send time typed by an admin (see `parse_send_time`), no later than 30 days ahead."""
    try:
        when = parse_send_time(text, now)
    except DateParseError as exc:
        raise BroadcastError(str(exc)) from exc
    if when <= now:
        raise BroadcastError("这个时间已经过去了，请给一个以后的时间。")
    if when - now > MAX_SCHEDULE_AHEAD:
        raise BroadcastError("最多只能提前 30 天安排。")
    return when

