"""Reading the text in a picture, on this machine and offline (no Telegram here).

`read_image(data)` checks the limits from the file's header before anything is decoded, runs
the OCR engine (RapidOCR: PP-OCR Chinese models shipped inside its wheel, ONNX Runtime) and
returns the lines in reading order, already redacted: ID, card and phone numbers never leave
this module. The engine is loaded once, on first use, so start-up and typed questions never
pay for it.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import re
import threading
import warnings
from collections.abc import Iterator
from typing import Any

from bot.errors import ImageError, ImageTooLarge
from bot.qa.safety import check_message, redact

MAX_BYTES = 10 * 1024 * 1024  # a phone screenshot is 0.2–3 MB
MAX_PIXELS = 25_000_000  # 25 MP: any phone photo; larger is refused before decoding
MIN_SIDE = 8
FORMATS = frozenset({"PNG", "JPEG", "WEBP", "BMP", "GIF", "MPO"})
# Longest side of the picture (larger ones are scaled down first), and of what the text
# detector sees: lines are found at 960 and then read from the 1600 px picture. RapidOCR's own
# det_limit_side_len is ignored with limit_type "max" (it picks 960/1500/2000 from the size),
# so the scaling for detection is done here.
MAX_SIDE = 1600
DETECT_SIDE = 960
MIN_SCORE = 0.5  # lines the recogniser is less sure of are dropped
# Only the parts of the picture with ink go through the detector: a screenshot is mostly flat
# background, and the detector's time and memory grow with the area it sees. A row has ink
# when it has at least INK_EDGES sharp steps; rows closer than GAP merge into one strip, and
# each strip keeps PAD pixels of margin (all at detection scale) so no line is cut at its edge.
INK_STEP = 32
INK_EDGES = 2
PAD = 16
GAP = 2 * PAD
# Lines recognised one at a time: in an A/B on the rendered set, batches of 6 (RapidOCR's
# default) padded every line to the widest and took about 1.3x the CPU and +60 MB more peak.
REC_BATCH = 1

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)

_engine: Any = None
_trim: Any = None
_load_lock = threading.Lock()
_run_lock = threading.Lock()  # one recognition at a time: 2 cores, bounded memory


def _map_large_buffers() -> None:
    """Have glibc give every buffer of 1 MB or more its own mapping, returned when freed.

    By default glibc raises that threshold (up to 32 MB) after the first large buffers are
    freed, so ONNX Runtime's buffers then come from per-thread heaps and linger there while
    the next ones are taken: on a phone screenshot the peak was ~30 MB higher (+150 MB
    instead of +120 MB over the bot without OCR), for no measurable gain in time.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, 1024 * 1024)


@contextlib.contextmanager
def _threads_that_sleep() -> Iterator[None]:
    """While the engine is made: ONNX Runtime sessions whose idle threads sleep, not spin.

    By default the worker threads spin between operators. On this shared 2-core machine that
    burned CPU the other thread (and every other process) needed: in an A/B under load the
    busy screenshot took 0.8-0.9 s instead of 1.8 s without spinning, the CPU time halved.
    RapidOCR 1.x does not expose the option, so its session options are wrapped here.
    """
    try:
        from rapidocr_onnxruntime.utils import infer_engine

        session = infer_engine.OrtInferSession
        make_options = session.__dict__["_init_sess_opts"].__func__
    except (ImportError, AttributeError, KeyError):  # another RapidOCR: its defaults
        yield
        return

    def options(config: dict) -> Any:
        made = make_options(config)
        made.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return made

    session._init_sess_opts = staticmethod(options)
    try:
        yield
    finally:
        session._init_sess_opts = staticmethod(make_options)


def _load() -> Any:
    """The OCR engine, loaded on first use (about 2 s and ~100 MB)."""
    global _engine
    if _engine is None:
        with _load_lock:
            if _engine is None:
                _map_large_buffers()
                from rapidocr_onnxruntime import RapidOCR

                # No angle classifier: screenshots are upright, and it costs time. Limit type
                # "max": the detector only ever scales down, so it keeps the strips' scale.
                # Two threads: this machine's two cores.
                with _threads_that_sleep():
                    _engine = RapidOCR(use_cls=False, max_side_len=MAX_SIDE,
                                       det_limit_type="max", text_score=MIN_SCORE,
                                       rec_batch_num=REC_BATCH, intra_op_num_threads=2)
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
    if frames > 1 and fmt != "MPO":  # a phone camera's MPO holds a second, smaller picture
        raise ImageError("动图")
    if width * height > MAX_PIXELS:
        raise ImageTooLarge(f"图片像素太多（{width}×{height}）")
    if min(width, height) < MIN_SIDE:
        raise ImageError("图片太小")
    return width, height


def _upright_rgb(image: Any) -> Any:
    """The picture as 8-bit RGB, the right way up (a phone photo's EXIF says how it was
    held), dark text on white where it was on a transparent background."""
    import numpy as np
    from PIL import Image, ImageOps

    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):  # 16/32-bit grey
        values = np.asarray(image, dtype=np.float64)
        top = values.max() or 1.0
        image = Image.fromarray((values * (255.0 / top)).astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P"
                                              and "transparency" in image.info):
        image = image.convert("RGBA")
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image)
    return image.convert("RGB")


def _decode(data: bytes) -> Any:
    """The picture as an RGB array (only after check_image passed)."""
    import numpy as np
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            rgb = _upright_rgb(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageError("图片已损坏") from exc
    # Scaled down to MAX_SIDE here, before the array copies below, so a large picture is
    # held at full size only once (and PIL's filter smooths the downscaling).
    if max(rgb.size) > MAX_SIDE:
        scale = MAX_SIDE / max(rgb.size)
        rgb = rgb.resize((max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))),
                         Image.Resampling.BILINEAR)
    # RapidOCR works in OpenCV's BGR order.
    return np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])


def _runs(mask: Any, gap: int, pad: int, size: int) -> list[tuple[int, int]]:
    """[start, end) of the True runs of a 1-D mask, merged across gaps < gap, padded by pad
    (up to pad beyond the mask's ends: a line at the picture's edge keeps its margin too)."""
    import numpy as np

    where = np.flatnonzero(mask)
    if not where.size:
        return []
    breaks = np.flatnonzero(np.diff(where) > gap)
    starts = np.concatenate(([where[0]], where[breaks + 1]))
    ends = np.concatenate((where[breaks], [where[-1]])) + 1
    return [(max(-pad, int(a) - pad), min(size + pad, int(b) + pad))
            for a, b in zip(starts, ends, strict=True)]


def _strips(small: Any) -> list[tuple[int, int, int, int]]:
    """(top, bottom, left, right) of the parts of the picture that have ink, with their margin
    (which may reach PAD pixels beyond the picture's edges)."""
    import numpy as np

    gray = small.astype(np.int16).sum(axis=2)
    steps = np.abs(np.diff(gray, axis=1)) > INK_STEP * 3
    height, width = gray.shape
    boxes = []
    for top, bottom in _runs(steps.sum(axis=1) >= INK_EDGES, GAP, PAD, height):
        columns = steps[max(0, top):bottom].any(axis=0)
        for left, right in _runs(columns, GAP, PAD, width):
            boxes.append((top, bottom, left, right))
    return boxes


def _detect(engine: Any, picture: Any) -> list[Any]:
    """The text boxes of the picture (in its own pixels), found strip by strip."""
    import cv2
    import numpy as np

    height, width = picture.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(height, width))
    small = picture if scale == 1.0 else cv2.resize(
        picture, (max(1, round(width * scale)), max(1, round(height * scale))),
        interpolation=cv2.INTER_AREA)
    strips = _strips(small)
    if strips:
        # A margin of the picture's own background around it, for text that touches its edge
        # (a tightly cropped line); the strips' coordinates are shifted by PAD into it.
        edge = np.concatenate((small[0], small[-1], small[:, 0], small[:, -1]))
        background = [int(v) for v in np.median(edge, axis=0)]
        small = cv2.copyMakeBorder(small, PAD, PAD, PAD, PAD, cv2.BORDER_CONSTANT,
                                   value=background)
    found = []
    for top, bottom, left, right in strips:
        strip = small[top + PAD:bottom + PAD, left + PAD:right + PAD]
        # The network wants sides that are multiples of 32: pad with the strip's own edge
        # instead of letting the detector stretch it (which would change the scale).
        strip = cv2.copyMakeBorder(strip, 0, -(bottom - top) % 32, 0,
                                   -(right - left) % 32, cv2.BORDER_REPLICATE)
        boxes, _elapsed = engine.text_det(strip)
        del strip
        if boxes is None or not len(boxes):
            continue
        for box in boxes:
            box = box.astype(np.float32)
            box[:, 0] = np.clip((box[:, 0] + left) / scale, 0, width - 1)
            box[:, 1] = np.clip((box[:, 1] + top) / scale, 0, height - 1)
            found.append(box)
    return engine.sorted_boxes(np.array(found)) if found else []


def _recognise(engine: Any, array: Any) -> list:
    """[(box, text, score)] of a picture: strips of ink, detection, then recognition."""
    picture, _ratio_h, _ratio_w = engine.preprocess(array)  # at most MAX_SIDE
    boxes = _detect(engine, picture)
    if not boxes:
        return []
    lines, _elapsed = engine.text_rec(engine.get_crop_img_list(picture, boxes))
    return [(box.tolist(), text, score)
            for box, (text, score, *_rest) in zip(boxes, lines, strict=True)
            if float(score) >= MIN_SCORE]


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
            found = _recognise(engine, array)
        except Exception as exc:  # the engine's own failure on an odd picture
            raise ImageError("图片无法识别") from exc
        finally:
            del array
            _give_back_memory()
    return "\n".join(_reading_order(found or []))


def read_checked(data: bytes) -> tuple[str, tuple[str, ...]]:
    """The redacted text of a picture, and the kinds of numbers that were hidden in it
    ("身份证号", "银行卡号", ...): a group must know the picture itself shows one.

    Raises ImageTooLarge / ImageError (never anything else for bad input)."""
    raw = _mend_broken_numbers(read_raw(data))
    return redact(raw), check_message(raw).sensitive


# A number the picture wraps onto the next line (身份证号110105194912 / 31002X) is one number:
# hidden whole, never shown half and half. A phone number OCR ran into the time beside it
# (1381234567810:23 in a call log) is still a phone number.
_WRAPPED_DIGITS = re.compile(r"(?<=[0-9]{6})[ \t]*\n[ \t]*(?=[0-9][0-9xX])")
_PHONE_BEFORE_TIME = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?=[0-9]{1,2}[:：][0-9]{2})")


_WRAPPED_PHONE = re.compile(r"(?<![0-9])(1[3-9][0-9]{0,8})[ \t]*\n[ \t]*([0-9]{1,9})(?![0-9])")


def _mend_broken_numbers(text: str) -> str:
    text = _WRAPPED_PHONE.sub(lambda m: m.group(1) + m.group(2)
                              if len(m.group(1)) + len(m.group(2)) == 11 else m.group(0), text)
    return _PHONE_BEFORE_TIME.sub("[已隐藏]", _WRAPPED_DIGITS.sub("", text))


def read_image(data: bytes) -> str:
    """The text in a picture, lines in reading order, redacted; "" when there is none.

    Raises ImageTooLarge / ImageError (never anything else for bad input)."""
    return read_checked(data)[0]
