"""End-to-end benchmark: message-to-reply latency and throughput of the real bot, side by side
with a minimal echo bot, in one run. Both run at once, each against its own local Bot API
server, and are asked the same questions in turn. Prints numbers only.

    python3 bench/e2e.py [--messages 300] [--burst 200] [--decompose]

--decompose adds two more copies of our bot with answering replaced (bench/stub_bot.py): one
echoing the question without buttons, one sending a fixed answer-sized reply with 有用/没用. The
steps between the four rows show what the handlers, the reply and the answering each cost.
"""

from __future__ import annotations

import argparse
import contextlib
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


def interleaved_latency(pairs: list[tuple[BotApiServer, str]], texts: list[str],
                        ) -> dict[str, list[float]]:
    """Ask each bot the same questions in turn (order alternating), so that both see the same
    machine conditions: on a shared machine, runs minutes apart are not comparable."""
    latencies: dict[str, list[float]] = {name: [] for _, name in pairs}
    for i, text in enumerate(texts):
        order = pairs if i % 2 == 0 else pairs[::-1]
        for server, name in order:
            start = time.perf_counter()
            server.ask(USER_BASE + 100 + i, text, timeout=30)
            latencies[name].append((time.perf_counter() - start) * 1000)
    return latencies


def burst_rate(server: BotApiServer, texts: list[str], burst: int) -> float:
    mark = server.mark()
    start = time.perf_counter()
    for i in range(burst):
        server.send_text(USER_BASE + 10_000 + i, texts[i % len(texts)])
    server.wait_for("sendMessage", count=burst, since=mark, timeout=300)
    return burst / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--decompose", action="store_true")
    args = parser.parse_args()
    texts = questions(args.messages)
    bots = [("echo bot", ["-m", "tests.botapi.echo_bot"])]
    if args.decompose:
        bots += [("ours, echo", ["bench/stub_bot.py", "echo"]),
                 ("ours, fixed reply", ["bench/stub_bot.py", "reply"])]
    bots.append(("our bot", ["-m", "bot", "run"]))
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        pairs, procs = [], {}
        for name, command in bots:
            server = stack.enter_context(BotApiServer())
            env = {"DATABASE_PATH": str(Path(tmp) / f"{len(procs)}.db")}
            procs[name] = stack.enter_context(BotProcess(server, command, env=env))
            pairs.append((server, name))
        for server, _ in pairs:  # warm-up
            for i in range(5):
                server.ask(USER_BASE + i, texts[i], timeout=30)
        latencies = interleaved_latency(pairs, texts)
        rates = {name: burst_rate(server, texts, args.burst) for server, name in pairs}
        rss = {name: rss_mb(proc.pid) for name, proc in procs.items()}
    print(f"{args.messages} questions asked of each bot in turn, "
          f"then a burst of {args.burst} each")
    header = ("", "p50 ms", "p99 ms", "mean ms", "replies/s", "peak RSS MB")
    print(f"{header[0]:18} {header[1]:>8} {header[2]:>8} {header[3]:>8} {header[4]:>10} "
          f"{header[5]:>12} {'p50 / echo':>11}")
    echo_p50 = percentile(latencies["echo bot"], 50)
    for name, values in latencies.items():
        p50 = percentile(values, 50)
        print(f"{name:18} {p50:8.2f} {percentile(values, 99):8.1f} "
              f"{statistics.mean(values):8.2f} {rates[name]:10.1f} {rss[name]:12.0f} "
              f"{p50 / echo_p50:11.2f}")
    ratio = percentile(latencies["our bot"], 50) / echo_p50
    print(f"p50 ratio (our bot / echo bot): {ratio:.2f}")


if __name__ == "__main__":
    main()
