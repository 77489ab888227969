"""Reading screenshots: limits before decoding, the reply to what was read, `ask --image`.

The pictures in tests/fixtures/ocr were rendered from text (tests/fixtures/ocr/make.py). One
OCR engine is loaded for the whole session (`ocr` fixture); limit tests need none.
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from bot import PROJECT_DIR
from bot.errors import ImageError, ImageTooLarge
from bot.ocr import reader as ocr
from bot.ocr.picture import NO_TEXT, READ_PREFIX, UNREADABLE, answer_picture
from bot.qa.safety import FRAUD_WARNING

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ocr"
ID_NUMBER = "11010519491231002X"


def picture(name: str) -> bytes:
    return (FIXTURES / f"{name}.png").read_bytes()


def png(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kwargs)
    return out.getvalue()


@pytest.fixture(scope="session")
def ocr_engine():
    """The OCR engine, loaded once for every test that reads a picture."""
    return ocr._load()


# ---------------------------------------------------------------- limits (no OCR engine needed)

def test_huge_file_refused_before_decoding():
    with pytest.raises(ImageTooLarge):
        ocr.check_image(b"\x89PNG" + bytes(ocr.MAX_BYTES))


def test_too_many_pixels_refused_from_the_header():
    data = png(Image.new("1", (6000, 5000)))  # 30 MP, a few KB on disk
    assert len(data) < 100_000
    with pytest.raises(ImageTooLarge):
        ocr.check_image(data)


@pytest.mark.parametrize("data", [
    b"", b"not a picture at all", b"%PDF-1.4\n" + bytes(500), b"\xff\xd8\xff\xe0" + bytes(3000),
])
def test_not_an_image(data):
    with pytest.raises(ImageError):
        ocr.check_image(data)


def test_animated_gif_refused():
    frames = [Image.new("RGB", (64, 64), color) for color in ("red", "blue")]
    data = png(frames[0], "GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(ImageError):
        ocr.check_image(data)


def test_truncated_picture_is_a_polite_line(engine, today):
    data = picture("face_fail")[:600]  # the header is fine, the pixels are cut off
    reply = answer_picture(engine, data, today).reply
    assert reply.text == UNREADABLE and reply.kind == "empty"


def test_oversize_is_a_polite_line(engine, today):
    reply = answer_picture(engine, png(Image.new("1", (6000, 5000))), today).reply
    assert reply.text == UNREADABLE


# ---------------------------------------------------------------- reading and answering

def test_sms_with_a_link_gets_the_fraud_warning(engine, today, ocr_engine):
    result = answer_picture(engine, picture("sms_link"), today)
    assert "http://xx.cn" in result.read.replace(" ", "")
    text = result.reply.text
    assert text.startswith(READ_PREFIX + "“【社保中心】您的养老金认证即将到期")
    assert FRAUD_WARNING in text
    assert text.index(FRAUD_WARNING) < len(text.split("\n\n")[0]) + 3  # right under what was read


def test_app_error_dialog_gets_the_face_fail_answer(engine, today, ocr_engine):
    reply = answer_picture(engine, picture("face_fail"), today).reply
    assert reply.text.startswith(READ_PREFIX + "“提示 认证失败，请重新认证”")
    # Read as typed, the dialog is a short, bare message: the face-fail topic must come first,
    # as the answer or, when the bot is unsure, as the first button.
    first = reply.id if reply.kind == "answer" else reply.suggestion_ids[0]
    assert first.startswith("face-fail")


def test_not_in_scope_message(engine, today, ocr_engine):
    result = answer_picture(engine, picture("not_in_scope"), today)
    assert "不在本次认证范围" in result.read
    assert result.reply.id == "not-in-scope-message"


def test_photo_without_text_gets_the_polite_line(engine, today, ocr_engine):
    blank = Image.new("RGB", (800, 600), (200, 220, 240))
    blank.paste((90, 140, 60), (100, 300, 700, 600))  # a lawn under a sky
    result = answer_picture(engine, png(blank, "JPEG"), today)
    assert result.reply.text == NO_TEXT and result.read == ""


def test_id_number_never_echoed_stored_or_logged(engine, today, ocr_engine, caplog):
    caplog.set_level(logging.DEBUG)
    result = answer_picture(engine, picture("id_number"), today)
    assert "[已隐藏]" in result.read
    everything = [result.read, result.reply.text, result.reply.question,
                  json.dumps(result.reply.as_json(), ensure_ascii=False), caplog.text]
    assert not any(ID_NUMBER[:14] in part for part in everything)
    assert "已经隐藏" in result.reply.text


def phone_screenshot(*names: str) -> Image.Image:
    """The pictures on a 1080×2340 screen: dark status bar, then a flat grey chat background."""
    screen = Image.new("RGB", (1080, 2340), (237, 237, 237))
    screen.paste((30, 30, 30), (0, 0, 1080, 90))
    y = 400
    for name in names:
        shot = Image.open(FIXTURES / f"{name}.png").convert("RGB")
        shot = shot.resize((960, shot.height * 960 // shot.width))
        screen.paste(shot, (60, y))
        y += shot.height + 700  # far apart: two separate strips
    return screen


def test_only_the_parts_with_ink_go_to_the_detector():
    import numpy as np

    screen = np.asarray(phone_screenshot("face_fail", "not_in_scope"))
    small = screen[::2, ::2]
    strips = ocr._strips(small)
    # Two bands of rows, one per picture: the flat status bar and background are skipped.
    assert len({(top, bottom) for top, bottom, _left, _right in strips}) == 2
    area = sum((bottom - top) * (right - left) for top, bottom, left, right in strips)
    assert area < small.shape[0] * small.shape[1] / 4
    assert ocr._strips(np.full((600, 800, 3), 200, dtype=np.uint8)) == []


def test_phone_screenshot_reads_what_the_picture_says(ocr_engine):
    # Strips are found at detection scale and read from the larger picture: same lines.
    read = ocr.read_raw(png(phone_screenshot("face_fail", "not_in_scope"))).splitlines()
    assert read == ocr.read_raw(picture("face_fail")).splitlines() + \
        ocr.read_raw(picture("not_in_scope")).splitlines()


@pytest.mark.parametrize("name", ["face_fail", "sms_link", "id_number", "not_in_scope"])
def test_text_touching_the_edge_is_read_whole(name, ocr_engine):
    # A picture cropped tight around its text: the detector still gets a margin around it.
    import numpy as np

    full = Image.open(FIXTURES / f"{name}.png").convert("RGB")
    pixels = np.asarray(full).astype(int)
    background = np.median(pixels.reshape(-1, 3), axis=0)
    ys, xs = np.nonzero(np.abs(pixels - background).sum(axis=2) > 150)
    tight = full.crop((int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1))

    def plain(text: str) -> str:  # the recogniser may read "，" as ", " on a smaller margin
        return text.replace(" ", "").replace(",", "，")

    assert plain(ocr.read_raw(png(tight))) == plain(ocr.read_raw(png(full)))


def test_reading_order_joins_boxes_on_one_line():
    found = [([[300, 10], [400, 10], [400, 40], [300, 40]], "右边", 0.9),
             ([[10, 60], [200, 60], [200, 90], [10, 90]], "第二行", 0.9),
             ([[10, 12], [200, 12], [200, 42], [10, 42]], "左边", 0.9)]
    assert ocr._reading_order(found) == ["左边 右边", "第二行"]


# ---------------------------------------------------------------- the command line

def ask(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "ask", *args], capture_output=True,
                          cwd=PROJECT_DIR, timeout=120)


def test_ask_image_json_adds_what_was_read():
    result = ask("--json", "--today", "2026-11-23", "--image", str(FIXTURES / "sms_link.png"))
    assert result.returncode == 0, result.stderr.decode()
    obj = json.loads(result.stdout.decode())
    assert set(obj) == {"question", "matched", "id", "score", "answer", "detail",
                        "suggestions", "read"}
    assert "养老金认证即将到期" in obj["read"] and FRAUD_WARNING in obj["answer"]


@pytest.mark.parametrize("kind", ["missing", "corrupt", "too many pixels"])
def test_ask_image_bad_file_is_one_line_exit_2(tmp_path, kind):
    path = tmp_path / "picture.png"
    if kind == "corrupt":
        path.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    elif kind == "too many pixels":
        path.write_bytes(png(Image.new("1", (6000, 5000))))
    result = ask("--image", str(path))
    assert result.returncode == 2
    assert result.stdout == b""
    assert len(result.stderr.decode().strip().splitlines()) == 1
    assert "Traceback" not in result.stderr.decode()


def test_ask_without_image_does_not_load_ocr():
    code = ("import sys; from bot.cli import main; main(['ask', '刷脸失败怎么办']); "
            "print('onnxruntime' in sys.modules, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True,
                            cwd=PROJECT_DIR, timeout=120)
    assert result.returncode == 0 and result.stderr.decode().strip() == "False"


def _face_fail() -> Image.Image:
    return Image.open(FIXTURES / "face_fail.png").convert("RGB")


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned: a viewer rotates it back
    out = io.BytesIO()
    _face_fail().rotate(90, expand=True).save(out, "JPEG", exif=exif.tobytes(), quality=95)
    return out.getvalue()


def _grey16() -> bytes:
    import numpy as np

    grey = np.asarray(_face_fail().convert("L"), dtype=np.uint16) * 257
    return _png(Image.fromarray(grey))


def _on_transparent() -> bytes:
    ink = _face_fail().convert("L").point(lambda v: 255 if v < 128 else 0)
    picture = Image.new("RGBA", ink.size, (0, 0, 0, 0))
    picture.paste((0, 0, 0, 255), mask=ink)
    return _png(picture)


def _camera_mpo() -> bytes:
    out = io.BytesIO()
    first = _face_fail()
    first.save(out, "MPO", save_all=True, append_images=[first.resize((160, 60))])
    return out.getvalue()


@pytest.mark.parametrize("make", [_rotated_jpeg, _grey16, _on_transparent, _camera_mpo],
                         ids=["exif-rotated", "16-bit grey", "transparent", "camera MPO"])
def test_pictures_as_phones_make_them_are_read(make):
    assert "认证失败" in ocr.read_image(make())


@pytest.mark.parametrize(("lines", "hidden"), [
    ("身份证号110105194912\n31002X）请核对", "110105194912"),  # an ID wrapped onto the next line
    ("紧急联系人电话138\n12345678", "12345678"),
    ("1381234567810:23 未接来电", "13812345678"),
])
def test_numbers_the_picture_breaks_are_hidden_whole(lines, hidden):
    mended = ocr._mend_broken_numbers(lines)
    from bot.qa.safety import redact

    assert hidden not in redact(mended).replace("\n", "").replace(" ", "")


@pytest.mark.parametrize("page", [
    "国家社会保险公共服务平台\n请输入银行卡号\n请输入银行卡密码\n提交认证",
    "掌上12333\n认证需缴纳手续费38元\n微信扫码支付",
])
def test_a_screenshot_of_a_page_that_wants_money_or_a_card_is_a_scam(engine, today, page):
    from bot.ocr.picture import answer_read

    assert FRAUD_WARNING in answer_read(engine, page, today).reply.text


def test_an_official_page_that_wants_an_id_number_and_a_code_is_not(engine, today):
    from bot.ocr.picture import answer_read

    page = "电子社保卡\n请输入身份证号\n请输入验证码\n开始认证"
    assert FRAUD_WARNING not in answer_read(engine, page, today).reply.text
