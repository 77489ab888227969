"""Answering a picture (a screenshot of an SMS or an app's error): the bot and `ask --image`.

The text read from the picture (already redacted by bot.ocr.reader) is answered exactly as if it had
been typed, safety check first; the reply starts with what was read so the user can correct it.
The picture itself is never stored: only the redacted text goes on, like a typed question.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.errors import ImageError
from bot.ocr.reader import read_image
from bot.qa.answers import CAN_HELP_WITH, Reply, answer
from bot.qa.engine import Engine
from bot.text.normalize import normalize, strip_non_words

READ_PREFIX = "我从图片里看到："
SHOWN_CHARS = 60
PICTURE_QUESTION = "[图片]"
NO_TEXT = ("这张图片里我没看出文字。请直接用文字把问题发给我，比如“刷脸认证失败怎么办？”。\n\n"
           + CAN_HELP_WITH)
UNREADABLE = ("这张图片我打不开（可能太大、已损坏，或是动图）。请直接用文字把问题发给我，"
              "或者发一张普通的截图。\n\n" + CAN_HELP_WITH)
HIDDEN_NOTE = "图片里的证件号、卡号或电话号码我已经隐藏，不会保存。请不要把这些号码发给别人。"


@dataclass
class PictureReply:
    reply: Reply
    read: str  # the redacted text read from the picture ("" when none)


def shown(read: str) -> str:
    """What was read, on one line and shortened for the reply's first line."""
    flat = " ".join(part for part in read.split() if part)
    return flat if len(flat) <= SHOWN_CHARS else flat[:SHOWN_CHARS - 1] + "…"


def polite(text: str) -> Reply:
    """A reply that answers no question: no readable text, or a picture that cannot be read."""
    return Reply(PICTURE_QUESTION, False, None, 0.0, text, "empty")


def answer_read(engine: Engine, read: str, today: dt.date, place: str | None = None,
                caption: str = "") -> PictureReply:
    """The reply to text already read from a picture (and the caption sent with it)."""
    if not strip_non_words(normalize(read)):
        if caption.strip():  # a caption alone is a typed question
            return PictureReply(answer(engine, caption, today, place), "")
        return PictureReply(polite(NO_TEXT), "")
    question = f"{caption.strip()}\n{read}" if caption.strip() else read
    reply = answer(engine, question, today, place, seen=True)
    lines = [f"{READ_PREFIX}“{shown(read)}”"]
    if "[已隐藏]" in read:
        lines.append(HIDDEN_NOTE)
    reply.text = "\n".join(lines) + "\n\n" + reply.text
    return PictureReply(reply, read)


def answer_picture(engine: Engine, data: bytes, today: dt.date, place: str | None = None,
                   caption: str = "") -> PictureReply:
    """Read a picture and answer it; a polite line for a picture that cannot be read."""
    try:
        read = read_image(data)
    except ImageError:
        return PictureReply(polite(UNREADABLE), "")
    return answer_read(engine, read, today, place, caption)
