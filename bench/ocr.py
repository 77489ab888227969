"""Benchmark of reading screenshots (bot/ocr/reader.py). Prints numbers; asserts nothing.

    .venv/bin/python bench/ocr.py [--runs 5] [--against OLD_OCR.py]

RSS added by loading the OCR engine (and after the first picture), time per picture at
phone-screenshot size (1080×2340: each rendered test picture on a phone-sized canvas, and one
"busy" screenshot holding all of them), and how many replies are right on the rendered set,
at its own size and at screenshot size. Each time is the median of the runs, wall clock and
CPU (all threads: steadier than the wall clock on a shared machine); "peak" is the highest RSS
while one picture was being read (Linux: VmHWM, reset before each read), over the RSS before
the engine was loaded. The load average is printed first and last.

--against takes another version of bot/ocr/reader.py (`git show <commit>:bot/ocr/reader.py
> old.py`; before the package move it was bot/ocr.py) and only compares the two in this
process, reads interleaved in random order so the machine's load falls on both alike: CPU per
picture, the ratio, the peak over the RSS just before each
read, and whether both read the same text.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import io
import os
import random
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


def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> None:
    """Start VmHWM (the peak RSS) again from the current RSS (Linux: clear_refs 5)."""
    # Where it cannot be reset, the peak is the process's own, over its whole life.
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def timed(read, data: bytes, runs: int) -> tuple[float, float, float, object]:
    """Median wall and CPU seconds of `runs` reads, the highest peak RSS, the last result."""
    walls, cpus, peak, result = [], [], 0.0, None
    for _ in range(runs):
        reset_peak()
        wall, cpu = time.perf_counter(), time.process_time()
        result = read(data)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        peak = max(peak, rss_mb("VmHWM"))
    return statistics.median(walls), statistics.median(cpus), peak, result


def load_average() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


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


def compare(path: Path, pictures: dict[str, Image.Image], runs: int) -> None:
    """This bot/ocr/reader.py against another version of it, reads interleaved (see --against)."""
    spec = importlib.util.spec_from_file_location("ocr_against", path)
    assert spec is not None and spec.loader is not None
    other = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(other)
    readers = {"against": other.read_raw, "this": ocr.read_raw}
    sets = {"busy": encoded(phone([p for n, p in pictures.items() if n != "blank"]))}
    sets |= {f"1080x2340 {n}": encoded(phone([p])) for n, p in pictures.items()}
    sets |= {f"own size {n}": encoded(p) for n, p in pictures.items()}
    cpu: dict[tuple[str, str], list[float]] = {}
    peak: dict[tuple[str, str], float] = {}
    text: dict[tuple[str, str], str] = {}
    for run in range(runs + 1):  # run 0 warms both engines up and is not counted
        for name, data in sets.items():
            for who in random.sample(list(readers), len(readers)):
                ocr._give_back_memory()
                rss = rss_mb()
                reset_peak()
                start = time.process_time()
                text[(who, name)] = readers[who](data)
                if run:
                    cpu.setdefault((who, name), []).append(time.process_time() - start)
                    peak[(who, name)] = max(peak.get((who, name), 0.0), rss_mb("VmHWM") - rss)
    ratios = []
    for name in sets:
        old, new = (statistics.median(cpu[(who, name)]) for who in ("against", "this"))
        ratios.append(new / old)
        same = "same text" if text[("against", name)] == text[("this", name)] else "TEXT DIFFERS"
        print(f"{name}: CPU {old:.2f} s -> {new:.2f} s (x{new / old:.2f}), peak over the RSS "
              f"before the read +{peak[('against', name)]:.0f} -> +{peak[('this', name)]:.0f} MB,"
              f" {same}")
    print(f"mean CPU ratio x{statistics.mean(ratios):.2f}; {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--against", type=Path, help="another version of bot/ocr/reader.py")
    args = parser.parse_args()
    print(f"start: {load_average()} ({os.cpu_count()} cores)")
    if args.against:
        pictures = {p.stem: Image.open(p) for p in sorted(FIXTURES.glob("*.png"))}
        compare(args.against, pictures | {"blank": blank()}, args.runs)
        return
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
    reset_peak()
    ocr.read_raw(busy)  # the first picture: ONNX Runtime sets up its buffers
    first_peak = rss_mb("VmHWM")
    after = rss_mb()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"after the first screenshot: RSS {after:.0f} MB (+{after - before:.0f} MB over "
          f"before loading); peak while reading it {first_peak:.0f} MB "
          f"(+{first_peak - before:.0f} MB); process peak {peak_before:.0f} MB before loading, "
          f"{peak:.0f} MB after (+{peak - before:.0f} MB)")

    for label, sets in (("own size", {n: encoded(p) for n, p in pictures.items()}),
                        ("1080x2340", {n: encoded(phone([p])) for n, p in pictures.items()})):
        times, peaks, good = [], [], 0
        for name, data in sets.items():
            wall, cpu, peak, read = timed(ocr.read_image, data, args.runs)
            times.append(wall)
            peaks.append(peak)
            reply = answer_read(engine, read, TODAY).reply
            ok = right(name, read, reply.text, reply.id)
            good += ok
            print(f"  [{label}] {name}: {wall:.2f} s (CPU {cpu:.2f} s), peak +{peak - before:.0f}"
                  f" MB, {'right' if ok else 'WRONG'}")
        print(f"[{label}] {good}/{len(sets)} replies right; median {statistics.median(times):.2f}"
              f" s, max {max(times):.2f} s per picture; peak +{max(peaks) - before:.0f} MB")

    wall, cpu, peak, text = timed(ocr.read_raw, busy, args.runs)
    print(f"[busy 1080x2340, {len(text.splitlines())} lines] median {wall:.2f} s "
          f"(CPU {cpu:.2f} s), peak +{peak - before:.0f} MB")
    print(f"end: {load_average()}")


if __name__ == "__main__":
    main()
