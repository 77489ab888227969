"""End to end: a user sends screenshots to the real bot process through the local Bot API
server; the bot downloads them (getFile + the file URL) and answers the text it reads."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from bot.ocr.picture import UNREADABLE
from bot.ocr.reader import MAX_BYTES
from bot.qa.safety import FRAUD_WARNING
from bot.tg import texts
from tests.botapi import BotApiServer, wait_for_row

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ocr"
ID_PREFIX = "11010519491231"
OCR_TIMEOUT = 60.0  # the first picture loads the OCR engine in the bot process
ADMIN = 4900

pytestmark = pytest.mark.bot(clock="2025-11-01T10:00:00", env={"LOG_LEVEL": "DEBUG"})


def no_traceback(workdir: Path) -> None:
    log = (workdir / "bot.log").read_text(encoding="utf-8")
    assert "Traceback" not in log, log[-3000:]


def test_photo_read_and_answered_while_other_chats_go_on(server: BotApiServer, bot, workdir):
    mark = server.mark()
    sms = server.send_photo(4001, data=(FIXTURES / "sms_link.png").read_bytes(),
                            width=600, height=248)
    (typed,) = server.ask(4002, "刷脸老是失败怎么办", timeout=OCR_TIMEOUT)
    assert "刷脸" in typed["text"]
    (reply,) = server.wait_for_messages(4001, timeout=OCR_TIMEOUT)
    assert reply["text"].startswith("我从图片里看到：“【社保中心】您的养老金认证即将到期")
    assert FRAUD_WARNING in reply["text"]
    # The largest size was fetched and downloaded, and the other chat was not held up.
    (get_file,) = server.wait_for("getFile", since=mark)
    assert get_file.params["file_id"] == sms["photo"][-1]["file_id"]
    sent = [int(c.chat_id) for c in server.calls("sendMessage", since=mark)]
    assert sent.index(4002) < sent.index(4001)


def test_id_number_in_a_document_image_never_echoed_stored_or_logged(server, bot, workdir):
    server.send_document(4003, file_name="截图.png", mime_type="image/png",
                         data=(FIXTURES / "id_number.png").read_bytes())
    (reply,) = server.wait_for_messages(4003, timeout=OCR_TIMEOUT)
    assert reply["text"].startswith("我从图片里看到：") and ID_PREFIX not in reply["text"]
    conn = sqlite3.connect(workdir / "bot.db")
    try:
        (text,) = wait_for_row(conn, "select text from questions where user_id = 4003")
    finally:
        conn.close()
    assert "认证失败" in text and ID_PREFIX not in text
    assert ID_PREFIX not in (workdir / "bot.log").read_text(encoding="utf-8")
    assert not list(workdir.glob("**/*.png"))  # the picture itself is never written down


def test_group_pictures_read_only_when_addressed(server: BotApiServer, bot):
    group = -4100
    server.join_group(group)
    server.set_privacy_mode(False)  # the bot sees every picture; it must pick its own
    try:
        data = (FIXTURES / "face_fail.png").read_bytes()
        mark = server.mark()
        server.send_photo(4004, chat_id=group, data=data, width=600, height=202)
        mention = f"@{server.bot_user['username']}"
        asked = server.send_photo(4004, chat_id=group, data=data, width=600, height=202,
                                  caption=f"{mention} 这是什么意思")
        (reply,) = server.wait_for_messages(group, since=mark, timeout=OCR_TIMEOUT)
        assert reply["text"].startswith("我从图片里看到：“提示 认证失败，请重新认证”")
        assert reply["reply_to_message"]["message_id"] == asked["message_id"]
        assert len(server.calls("getFile", since=mark)) == 1  # the first was never fetched
    finally:
        server.set_privacy_mode(True)


def test_image_over_the_limit_is_never_downloaded(server: BotApiServer, bot, workdir):
    # Telegram reports the size: an 11 MB "picture" is refused before getFile, so the bot
    # never fetches it (the bytes behind it here are a small real PNG).
    mark, fetched = server.mark(), len(server.downloads())
    server.send_document(4006, file_name="大图.png", mime_type="image/png",
                         data=(FIXTURES / "face_fail.png").read_bytes(),
                         file_size=MAX_BYTES + 1024 * 1024)
    (reply,) = server.wait_for_messages(4006, timeout=OCR_TIMEOUT)
    assert reply["text"] == UNREADABLE
    assert not server.calls("getFile", since=mark)
    assert len(server.downloads()) == fetched
    no_traceback(workdir)


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (120, 80), colour) for colour in ("white", "black")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)
    return out.getvalue()


def test_gif_animation_and_animated_sticker_get_a_polite_line(server: BotApiServer, bot,
                                                                workdir):
    server.send_document(4007, file_name="动图.gif", mime_type="image/gif", data=animated_gif())
    (gif,) = server.wait_for_messages(4007, timeout=OCR_TIMEOUT)
    assert gif["text"] == UNREADABLE  # downloaded, seen to be animated, not read
    server.send_document(4007, file_name="动图.gif", mime_type="image/gif", data=animated_gif(),
                         caption="认证要交钱吗")  # its caption is still a question
    (asked,) = server.wait_for_messages(4007, timeout=OCR_TIMEOUT)
    assert "免费" in asked["text"]
    server.send_animation(4007)  # a GIF as Telegram sends it: MP4, not a picture to read
    (animation,) = server.wait_for_messages(4007, timeout=OCR_TIMEOUT)
    assert "文字" in animation["text"]
    server.send_sticker(4007, is_animated=True)
    (sticker,) = server.wait_for_messages(4007, timeout=OCR_TIMEOUT)
    assert "文字" in sticker["text"]
    no_traceback(workdir)


@pytest.mark.parametrize("bot_is_admin", [True, False])
def test_group_picture_with_an_id_number_is_taken_down(server: BotApiServer, bot, workdir,
                                                        bot_is_admin: bool):
    group = -4200 - bot_is_admin
    server.join_group(group)
    server.set_chat_admins(group, [ADMIN], bot_is_admin=bot_is_admin)
    mark = server.mark()
    posted = server.send_photo(4008, chat_id=group, width=600, height=248,
                               data=(FIXTURES / "id_number.png").read_bytes(),
                               caption=f"@{server.bot_user['username']} 这个怎么办")
    notice, answer = server.wait_for_messages(group, count=2, since=mark, timeout=OCR_TIMEOUT)
    deleted = server.calls("deleteMessage", since=mark)
    if bot_is_admin:
        assert notice["text"] == texts.PICTURE_ID_DELETED
        assert [int(c.params["message_id"]) for c in deleted] == [posted["message_id"]]
        assert server.get_message(group, posted["message_id"]) is None
        assert "reply_to_message" not in answer  # the picture it answers is gone
    else:
        assert notice["text"] == texts.PICTURE_ID_CANNOT_DELETE and "请尽快撤回" in notice["text"]
        assert notice["reply_to_message"]["message_id"] == posted["message_id"]
        assert not deleted
        assert answer["reply_to_message"]["message_id"] == posted["message_id"]
    assert answer["text"].startswith("我从图片里看到：")
    assert all(ID_PREFIX not in m["text"] for m in (notice, answer))
    assert ID_PREFIX not in (workdir / "bot.log").read_text(encoding="utf-8")
    no_traceback(workdir)
