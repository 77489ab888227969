"""Reading the text in a picture, on this machine and offline (no Telegram here).

`read_image(data)` checks the limits from the file's header before anything is decoded, runs
the OCR engine (RapidOCR: PP-OCR Chinese models shipped inside its wheel, ONNX Runtime) and
returns the lines in reading order, already redacted: ID, card and phone numbers never leave
this module. The engine is loaded once, on first use, so start-up and typed questions never
pay for it.
"""

from __future__ import annotations

import ctypes
import io
import threading
import warnings
from typing import Any

from bot.errors import ImageError, ImageTooLarge
from bot.qa.safety import redact

MAX_BYTES = 10 * 1024 * 1024  # a phone screenshot is 0.2–3 MB
MAX_PIXELS = 25_000_000  # 25 MP: any phone photo; larger is refused before decoding
MIN_SIDE = 8
FORMATS = frozenset({"PNG", "JPEG", "WEBP", "BMP", "GIF", "MPO"})
# Longest side of the picture (larger ones are scaled down first), and of what the text
# detector sees: lines are found at 960 and then read from the full-size picture.
MAX_SIDE = 1600
DETECT_SIDE = 960
MIN_SCORE = 0.5  # lines the recogniser is less sure of are dropped

_engine: Any = None
_trim: Any = None
_load_lock = threading.Lock()
_run_lock = threading.Lock()  # one recognition at a time: 2 cores, bounded memory


def _load() -> Any:
    """The OCR engine, loaded on first use (about 2 s and ~100 MB)."""
    global _engine
    if _engine is None:
        with _load_lock:
            if _engine is None:
                from rapidocr_onnxruntime import RapidOCR

                # No angle classifier: screenshots are upright, and it costs time.
                _engine = RapidOCR(use_cls=False, max_side_len=MAX_SIDE,
                                   det_limit_side_len=DETECT_SIDE, det_limit_type="max",
                                   text_score=MIN_SCORE)
    return _engine


def _give_back_memory() -> None:
    """Return the freed buffers of one recognition to the system (glibc keeps ~170 MB of them
    otherwise: RSS would stay at +300 MB instead of the engine's +130 MB)."""
    global _trim
    if _trim is None:
        try:
            _trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _trim = False
    if _trim:
        _trim(0)


def loaded() -> bool:
    """Whether the OCR engine has been loaded in this process."""
    return _engine is not None


def check_image(data: bytes) -> tuple[int, int]:
    """(width, height) from the header, or ImageError: size, format, frames, pixel count."""
    if len(data) > MAX_BYTES:
        raise ImageTooLarge(f"图片太大（{len(data) // 1024 // 1024} MB，上限 "
                            f"{MAX_BYTES // 1024 // 1024} MB）")
    if not data:
        raise ImageError("空文件")
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as image:  # reads the header only
                fmt, (width, height) = image.format, image.size
                frames = getattr(image, "n_frames", 1)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ImageError("不是能打开的图片") from exc
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge("图片像素太多") from exc
    if fmt not in FORMATS:
        raise ImageError(f"不支持的图片格式 {fmt}")
    if frames > 1:
        raise ImageError("动图")
    if width * height > MAX_PIXELS:
        raise ImageTooLarge(f"图片像素太多（{width}×{height}）")
    if min(width, height) < MIN_SIDE:
        raise ImageError("图片太小")
    return width, height


def _decode(data: bytes) -> Any:
    """The picture as an RGB array (only after check_image passed)."""
    import numpy as np
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            rgb = image.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageError("图片已损坏") from exc
    # RapidOCR works in OpenCV's BGR order.
    return np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])


def _reading_order(found: list) -> list[str]:
    """Lines top to bottom; boxes on the same line left to right."""
    boxes = []
    for box, text, _score in found:
        ys = [p[1] for p in box]
        xs = [p[0] for p in box]
        boxes.append((min(ys), max(ys), min(xs), text.strip()))
    boxes.sort()
    lines: list[list[tuple[float, str]]] = []
    bottom = None
    for top, low, left, text in boxes:
        if not text:
            continue
        if lines and bottom is not None and top < bottom - (low - top) / 2:
            lines[-1].append((left, text))  # overlaps the previous line: same line
            bottom = max(bottom, low)
        else:
            lines.append([(left, text)])
            bottom = low
    return [" ".join(t for _x, t in sorted(line)) for line in lines]


def read_raw(data: bytes) -> str:
    """The text of a picture, NOT redacted: for read_image and the benchmark only."""
    check_image(data)
    with _run_lock:  # decoded inside: at most one 25 MP picture in memory at a time
        array = _decode(data)  # a corrupt picture fails here, before the engine is loaded
        engine = _load()
        try:
            found, _elapsed = engine(array)
        except Exception as exc:  # the engine's own failure on an odd picture
            raise ImageError("图片无法识别") from exc
        finally:
            del array
            _give_back_memory()
    return "\n".join(_reading_order(found or []))


def read_image(data: bytes) -> str:
    """The text in a picture, lines in reading order, redacted; "" when there is none.

    Raises ImageTooLarge / ImageError (never anything else for bad input)."""
    return redact(read_raw(data))
