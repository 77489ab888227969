"""Broadcast benchmark against the local Bot API server. Prints numbers; asserts nothing.

    python3 bench/broadcast.py [--recipients 10000] [--limited-recipients N] [--questions 20]
                               [--skip-core] [--skip-unlimited] [--skip-limited]

Three measurements, each with freshly seeded subscribers:
1. core: the sender alone (outbox writes, pacing, bookkeeping) with a no-op send function,
   in this process: the overhead per message that is not Telegram's.
2. unlimited: the real `python -m bot run` with the limit lifted (BROADCAST_RATE=1e6, no
   server limiter): messages per second end to end and the bot's CPU time per message.
3. limited: the default 25/s against the server's Telegram-like limiter (30/s overall, 1/s per
   chat, 20/min per group): the achieved rate over the whole broadcast, the 429s the server had
   to send, and the reply latency of users asking questions while it runs, against idle.
   10,000 recipients at 25/s take 400 s; --limited-recipients makes a shorter run, and
   --busy-window S measures the reply latency over the first S seconds of the full-size
   broadcast only (issue 12's "while a 10,000-recipient broadcast runs vs idle", in ~S s):

       python3 bench/broadcast.py --skip-core --skip-unlimited --busy-window 120 --questions 40
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.broadcasts.audience import Audience  # noqa: E402
from bot.broadcasts.compose import Composed  # noqa: E402
from bot.broadcasts.runner import Broadcaster  # noqa: E402
from bot.broadcasts.store import create_broadcast, ensure_broadcast_tables  # noqa: E402
from bot.db.connection import open_database  # noqa: E402
from tests.botapi import BotApiServer, BotProcess  # noqa: E402

ADMIN = 9001
FIRST_USER = 3_000_000
QUESTIONS = ["怎么认证", "刷脸失败怎么办", "错过了认证时间怎么办", "怎么帮家里老人代认证",
             "养老金认证要钱吗", "在外地怎么认证", "认证用什么APP", "多久认证一次"]
TEXT = "各位老人：本月社区集中上门认证，行动不便的请提前登记。\n登记 | https://example.gov.cn/form"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def seed(path: Path, count: int) -> list[int]:
    users = list(range(FIRST_USER, FIRST_USER + count))
    db = open_database(path)
    db.conn.executemany(
        "insert into users (user_id, chat_id, first_name, first_seen, last_seen, active) "
        "values (?, ?, 'x', '2026-01-01T00:00:00', '2026-01-01T00:00:00', 1)",
        [(u, u) for u in users])
    db.close()
    return users


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------ 1. the sender alone


def bench_core(count: int, tmp: Path) -> dict:
    path = tmp / "core.db"
    seed(path, count)
    db = open_database(path)
    ensure_broadcast_tables(db)
    now = dt.datetime(2026, 11, 23, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    started = time.perf_counter()
    broadcast_id = create_broadcast(db, created_by=ADMIN, origin_chat_id=ADMIN,
                                    composed=Composed("x", ()), audience=Audience("users"),
                                    audience_label="all", now=now)
    outbox_seconds = time.perf_counter() - started

    async def send(recipient, message) -> int:
        return 1

    async def run() -> float:
        broadcaster = Broadcaster(db, broadcast_id, send, rate=1e9, now=lambda: now)
        cpu, wall = time.process_time(), time.perf_counter()
        result = await broadcaster.run()
        assert result.progress.sent == count, result
        return time.process_time() - cpu, time.perf_counter() - wall

    cpu, wall = asyncio.run(run())
    db.close()
    return {"outbox_ms": outbox_seconds * 1000, "us_per_message": wall / count * 1e6,
            "cpu_us_per_message": cpu / count * 1e6}


# ------------------------------------------------------------------ driving the real bot


def start_broadcast(server: BotApiServer) -> int:
    """The admin's taps: /broadcast → all subscribers → text → 立即发送. Returns the mark."""
    (menu,) = server.ask(ADMIN, "/broadcast", timeout=30)
    mark = server.mark()
    server.press_button(ADMIN, menu, "bc:a:users")
    server.wait_for("editMessageText", since=mark, timeout=30)
    _preview, summary = server.ask(ADMIN, TEXT, count=2, timeout=60)
    mark = server.mark()
    server.press_button(ADMIN, summary, "bc:go")
    return mark


def wait_report(server: BotApiServer, timeout: float) -> dict:
    (report,) = server.wait_for_messages(ADMIN, since=0, timeout=timeout,
                                         predicate=lambda m: "发送报告" in m["text"])
    return report


def broadcast_calls(server: BotApiServer, users: list[int], mark: int) -> list:
    first, last = users[0], users[-1]
    return [c for c in server.calls("sendMessage", since=mark)
            if c.ok and isinstance(c.chat_id, int) and first <= c.chat_id <= last]


def ask_latency(server: BotApiServer, user: int, text: str) -> float:
    started = time.perf_counter()
    server.ask(user, text, timeout=30)
    return (time.perf_counter() - started) * 1000


def bench_unlimited(count: int, tmp: Path) -> dict:
    users = seed(tmp / "unlimited.db", count)
    env = {"DATABASE_PATH": str(tmp / "unlimited.db"), "ADMIN_IDS": str(ADMIN),
           "BROADCAST_RATE": "1000000"}
    with BotApiServer() as server, BotProcess(server, ["-m", "bot", "run"], env=env) as proc:
        cpu_before = cpu_seconds(proc.pid)
        mark = start_broadcast(server)
        started = time.perf_counter()
        wait_report(server, timeout=600)
        wall = time.perf_counter() - started
        cpu = cpu_seconds(proc.pid) - cpu_before
        calls = broadcast_calls(server, users, mark)
    return {"sent": len(calls), "seconds": wall, "rate": count / wall,
            "wall_ms_per_message": wall / count * 1000, "cpu_ms_per_message": cpu / count * 1000}


def bench_limited(count: int, questions: int, tmp: Path, window: float | None = None) -> dict:
    """window: ask the busy questions over the broadcast's first `window` seconds, then stop
    (the rest of the broadcast is not waited for); None: over its first 80%, then wait for the
    report."""
    users = seed(tmp / "limited.db", count)
    env = {"DATABASE_PATH": str(tmp / "limited.db"), "ADMIN_IDS": str(ADMIN)}
    with BotApiServer() as server, BotProcess(server, ["-m", "bot", "run"], env=env):
        for i in range(3):  # warm-up
            ask_latency(server, 1_000 + i, QUESTIONS[i])
        idle = [ask_latency(server, 2_000 + i, QUESTIONS[i % len(QUESTIONS)])
                for i in range(questions)]
        server.set_rate_limit(True)  # Telegram-like limits from here to the end
        limited_before = server.stats()["rate_limited"]
        mark = start_broadcast(server)
        started = time.perf_counter()
        server.wait_for_messages(users[0], since=mark, timeout=30)
        expected = count / 25
        # questions spread over the first 80% of the broadcast (or the window), evenly
        gap = max(0.5, (window or expected * 0.8) / max(1, questions))
        busy = []
        for i in range(questions):
            busy.append(ask_latency(server, 4_000 + i, QUESTIONS[i % len(QUESTIONS)]))
            time.sleep(gap)
        report = None if window else wait_report(server, timeout=expected * 2 + 60)
        wall = time.perf_counter() - started
        calls = broadcast_calls(server, users, mark)
        span = calls[-1].time - calls[0].time if len(calls) > 1 else float("nan")
        rate = (len(calls) - 1) / span
        stats = server.stats()
    return {"sent": len(calls), "seconds": wall, "rate": rate, "target": 25.0,
            "rate_limited": stats["rate_limited"] - limited_before,
            "idle_p50": percentile(idle, 50), "idle_p95": percentile(idle, 95),
            "busy_p50": percentile(busy, 50), "busy_p95": percentile(busy, 95),
            "idle_mean": statistics.mean(idle), "busy_mean": statistics.mean(busy),
            "report": report["text"] if report else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--limited-recipients", type=int, default=None,
                        help="recipients of the 25/s run (default: --recipients)")
    parser.add_argument("--questions", type=int, default=20,
                        help="questions asked idle and during the 25/s broadcast")
    parser.add_argument("--busy-window", type=float, default=None, metavar="SECONDS",
                        help="25/s part: ask the busy questions over the broadcast's first "
                             "SECONDS, then stop without waiting for it to finish")
    parser.add_argument("--skip-core", action="store_true")
    parser.add_argument("--skip-unlimited", action="store_true")
    parser.add_argument("--skip-limited", action="store_true")
    args = parser.parse_args()
    limited_count = args.limited_recipients or args.recipients
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if not args.skip_core:
            core = bench_core(args.recipients, tmp)
            print(f"core sender, {args.recipients} recipients, no-op send: outbox written in "
                  f"{core['outbox_ms']:.0f} ms; {core['us_per_message']:.0f} µs/message wall, "
                  f"{core['cpu_us_per_message']:.0f} µs/message CPU")
        if not args.skip_unlimited:
            u = bench_unlimited(args.recipients, tmp)
            print(f"limit lifted, real bot, {u['sent']} delivered in {u['seconds']:.1f} s: "
                  f"{u['rate']:.0f} messages/s, {u['wall_ms_per_message']:.2f} ms/message wall, "
                  f"bot CPU {u['cpu_ms_per_message']:.2f} ms/message")
        if not args.skip_limited:
            lim = bench_limited(limited_count, args.questions, tmp, args.busy_window)
            share = lim["rate"] / lim["target"] * 100
            done = (f"{lim['sent']} of {limited_count}" if args.busy_window
                    else f"{lim['sent']}")
            print(f"default limit, {done} delivered in {lim['seconds']:.1f} s: "
                  f"achieved {lim['rate']:.2f}/s = {share:.1f}% of {lim['target']:.0f}/s; "
                  f"429s from the server's limiter: {lim['rate_limited']}")
            ratio = lim["busy_p50"] / lim["idle_p50"]
            print(f"reply latency, {args.questions} questions: idle p50 {lim['idle_p50']:.1f} ms "
                  f"p95 {lim['idle_p95']:.1f} ms; during the broadcast p50 "
                  f"{lim['busy_p50']:.1f} ms p95 {lim['busy_p95']:.1f} ms "
                  f"(p50 ratio {ratio:.2f}x)")
            if lim["report"]:
                print("final report: " + lim["report"].replace("\n", " | "))


if __name__ == "__main__":
    main()
