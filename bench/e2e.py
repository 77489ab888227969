"""End-to-end benchmark: message-to-reply latency and throughput of the real bot, side by side
with a minimal echo bot on the same local Bot API server, in one run. Prints numbers only.

    python3 bench/e2e.py [--messages 300] [--burst 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from tests.botapi import BotApiServer, BotProcess  # noqa: E402

USER_BASE = 50_000


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def questions(count: int) -> list[str]:
    data = yaml.safe_load((ROOT / "tests/eval/questions.yaml").read_text(encoding="utf-8"))
    pool = [i["q"] for i in data["in_scope"]] + [i["q"] for i in data["out_of_scope"]]
    return [pool[i % len(pool)] for i in range(count)]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):  # peak resident set size
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(server: BotApiServer, proc: BotProcess, texts: list[str], burst: int) -> dict:
    for i in range(5):  # warm-up
        server.ask(USER_BASE + i, texts[i], timeout=30)
    latencies = []
    for i, text in enumerate(texts):
        user = USER_BASE + 100 + i
        start = time.perf_counter()
        server.ask(user, text, timeout=30)
        latencies.append((time.perf_counter() - start) * 1000)
    mark = server.mark()
    start = time.perf_counter()
    for i in range(burst):
        server.send_text(USER_BASE + 10_000 + i, texts[i % len(texts)])
    server.wait_for("sendMessage", count=burst, since=mark, timeout=300)
    rate = burst / (time.perf_counter() - start)
    return {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
            "mean": statistics.mean(latencies), "rate": rate, "rss": rss_mb(proc.pid)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--burst", type=int, default=200)
    args = parser.parse_args()
    texts = questions(args.messages)
    results = {}
    with tempfile.TemporaryDirectory() as tmp, BotApiServer() as server:
        for name, command in (("echo bot", ["-m", "tests.botapi.echo_bot"]),
                              ("our bot", ["-m", "bot", "run"])):
            server.reset()
            env = {"DATABASE_PATH": str(Path(tmp) / f"{name[:4]}.db")}
            with BotProcess(server, command, env=env) as proc:
                results[name] = measure(server, proc, texts, args.burst)
    print(f"{args.messages} sequential questions, then a burst of {args.burst}")
    header = ("", "p50 ms", "p99 ms", "mean ms", "replies/s", "peak RSS MB")
    print(f"{header[0]:10} {header[1]:>8} {header[2]:>8} {header[3]:>8} {header[4]:>10} "
          f"{header[5]:>12}")
    for name, row in results.items():
        print(f"{name:10} {row['p50']:8.1f} {row['p99']:8.1f} {row['mean']:8.1f} "
              f"{row['rate']:10.1f} {row['rss']:12.0f}")
    ratio = results["our bot"]["p50"] / results["echo bot"]["p50"]
    print(f"p50 ratio (our bot / echo bot): {ratio:.2f}")


if __name__ == "__main__":
    main()
