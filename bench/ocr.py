"""Benchmark of reading screenshots (bot/ocr/reader.py). Prints numbers; asserts nothing.

    .venv/bin/python bench/ocr.py [--runs 5]

RSS added by loading the OCR engine (and after the first picture), time per picture at
phone-screenshot size (1080×2340: each rendered test picture on a phone-sized canvas, and one
"busy" screenshot holding all of them), and how many replies are right on the rendered set,
at its own size and at screenshot size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import resource
import statistics
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.ocr import reader as ocr  # noqa: E402
from bot.ocr.picture import NO_TEXT, answer_read  # noqa: E402
from bot.qa.engine import default_engine  # noqa: E402
from bot.qa.safety import FRAUD_WARNING  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "ocr"
SCREEN = (1080, 2340)
TODAY = dt.date(2026, 11, 23)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def encoded(image: Image.Image, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, fmt)
    return out.getvalue()


def phone(pictures: list[Image.Image]) -> Image.Image:
    """A 1080×2340 screenshot: status bar, title bar, the pictures scaled to the width."""
    canvas = Image.new("RGB", SCREEN, (237, 237, 237))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, SCREEN[0], 90), fill=(30, 30, 30))
    draw.rectangle((0, 90, SCREEN[0], 250), fill=(248, 248, 248))
    y = 400
    for picture in pictures:
        scale = (SCREEN[0] - 120) / picture.width
        big = picture.convert("RGB").resize((SCREEN[0] - 120, int(picture.height * scale)))
        canvas.paste(big, (60, y))
        y += big.height + 60
    return canvas


def blank() -> Image.Image:
    image = Image.new("RGB", (800, 600), (200, 220, 240))
    image.paste((90, 140, 60), (100, 300, 700, 600))
    return image


def right(name: str, read: str, text: str, entry: str | None) -> bool:
    """Whether the reply to one rendered picture is what a user needs."""
    if name == "sms_link":
        return FRAUD_WARNING in text
    if name == "face_fail":
        return (entry or "").startswith("face-fail")
    if name == "not_in_scope":
        return entry == "not-in-scope-message"
    if name == "id_number":
        return "[已隐藏]" in read and "11010519491231" not in text
    return text == NO_TEXT  # blank


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    engine = default_engine()
    pictures = {p.stem: Image.open(p) for p in sorted(FIXTURES.glob("*.png"))}
    pictures["blank"] = blank()

    before = rss_mb()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    ocr._load()
    load_s = time.perf_counter() - start
    loaded = rss_mb()
    print(f"load: {load_s:.2f} s, RSS {before:.0f} MB -> {loaded:.0f} MB "
          f"(+{loaded - before:.0f} MB)")

    busy = encoded(phone([p for n, p in pictures.items() if n != "blank"]))
    ocr.read_raw(busy)  # first picture: ONNX Runtime allocates its arenas
    after = rss_mb()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"after the first screenshot: RSS {after:.0f} MB (+{after - before:.0f} MB over "
          f"before loading); peak RSS {peak_before:.0f} MB before loading, {peak:.0f} MB after "
          f"reading (+{peak - before:.0f} MB)")

    for label, sets in (("own size", {n: encoded(p) for n, p in pictures.items()}),
                        ("1080x2340", {n: encoded(phone([p])) for n, p in pictures.items()})):
        times, good = [], 0
        for name, data in sets.items():
            runs = []
            for _ in range(args.runs):
                t = time.perf_counter()
                read = ocr.read_image(data)
                runs.append(time.perf_counter() - t)
            times.append(statistics.median(runs))
            reply = answer_read(engine, read, TODAY).reply
            ok = right(name, read, reply.text, reply.id)
            good += ok
            print(f"  [{label}] {name}: {statistics.median(runs):.2f} s, "
                  f"{'right' if ok else 'WRONG'}")
        print(f"[{label}] {good}/{len(sets)} replies right; median {statistics.median(times):.2f}"
              f" s, max {max(times):.2f} s per picture")

    runs = []
    for _ in range(args.runs):
        t = time.perf_counter()
        lines = ocr.read_raw(busy).splitlines()
        runs.append(time.perf_counter() - t)
    print(f"[busy 1080x2340, {len(lines)} lines] median {statistics.median(runs):.2f} s, "
          f"max {max(runs):.2f} s")


if __name__ == "__main__":
    main()
