"""Benchmark of reminders. Prints numbers; asserts nothing.

    python3 bench/reminders.py [--subscriptions 100000] [--send 2000] [--paced 200]

With N subscriptions (due dates spread over a year, 1–2 per user, mixed lead sets):
- database bytes per subscription (file size after VACUUM), and per outbox row after a month
  of sends;
- the daily due scan: `due_on` (what `python -m bot reminders due` runs) and `enqueue_due`
  at 09:00 (what the sender runs once a day), per day, plus the idle per-tick cost;
- the CLI's wall time on that database;
- sending against the local Bot API server: unpaced (the sender's own overhead), and at the
  default pace.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.clock import FixedClock  # noqa: E402
from bot.db.connection import open_database  # noqa: E402
from bot.reminders import store as rm  # noqa: E402
from bot.tg.handlers.remind import REMINDER_RATE, ReminderSender  # noqa: E402
from tests.botapi import BotApiServer  # noqa: E402

BASE = dt.date(2026, 1, 1)
CITIES = [None, "锦州", "广州", "武汉", "北京", "成都", "沈阳", "杭州"]
SCHEMES = ["enterprise", "enterprise", "enterprise", "institution", "resident"]
LEADS = [rm.DEFAULT_LEADS] * 8 + [(30, 7, 1), (7, 1)]


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=rm.CHINA)


def populate(path: Path, count: int, seed: int = 5) -> float:
    """`count` subscriptions through the real add_reminder, in one transaction; seconds."""
    rng = random.Random(seed)
    db = open_database(path)
    rm.ensure_reminder_tables(db)
    created = at(BASE, 10)
    start = time.perf_counter()
    with rm.transaction(db):
        for i in range(count):
            due = BASE + dt.timedelta(days=31 + rng.randrange(365))
            rm.add_reminder(db, user_id=1_000_000 + i // 2, chat_id=1_000_000 + i // 2,
                            label="自己" if i % 2 == 0 else "父亲", scheme=rng.choice(SCHEMES),
                            city=rng.choice(CITIES), last=None, due=due, now=created,
                            leads=rng.choice(LEADS))
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def file_bytes(path: Path) -> int:
    db = open_database(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.execute("VACUUM")
    db.close()
    return path.stat().st_size


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def bench_scans(path: Path, days: int) -> None:
    db = open_database(path)
    scan_days = [BASE + dt.timedelta(days=40 + i) for i in range(days)]
    due_times, due_counts = [], []
    for day in scan_days:
        seconds, items = timed(lambda d=day: rm.due_on(db, d), repeat=3)
        due_times.append(seconds)
        due_counts.append(len(items))
    print(f"due_on (the CLI's daily scan), {days} days: median "
          f"{statistics.median(due_times) * 1000:.1f} ms, max {max(due_times) * 1000:.1f} ms, "
          f"{statistics.mean(due_counts):.0f} sends/day")

    enqueue_times, queued = [], []
    # The days before the first scanned day are caught up first (one big catch-up pass).
    catchup, stats = timed(lambda: rm.enqueue_due(db, at(scan_days[0] - dt.timedelta(days=1))))
    print(f"catch-up pass over {(scan_days[0] - BASE).days - 1} days: {catchup*1000:.0f} ms "
          f"({stats.pending} queued, {stats.skipped} skipped as superseded/stale)")
    idle, _ = timed(lambda: rm.enqueue_due(db, at(scan_days[0], 8)), repeat=50)
    print(f"enqueue_due with nothing due (every sender tick): {idle*1e6:.0f} µs")
    db.execute("UPDATE reminder_outbox SET status = 'sent' WHERE status = 'pending'")
    for day in scan_days:
        seconds, stats = timed(lambda d=day: rm.enqueue_due(db, at(d)))
        enqueue_times.append(seconds)
        queued.append(stats.pending)
        db.execute("UPDATE reminder_outbox SET status = 'sent' WHERE status = 'pending'")
    print(f"enqueue_due at 09:00 (the sender's daily scan), {days} days: median "
          f"{statistics.median(enqueue_times) * 1000:.1f} ms, "
          f"max {max(enqueue_times) * 1000:.1f} ms, "
          f"{statistics.mean(queued):.0f} queued/day")
    pending, _ = timed(lambda: rm.pending_outbox(db, at(scan_days[-1]), 100), repeat=20)
    print(f"pending_outbox with an empty queue: {pending*1e6:.0f} µs")
    for sql in ("SELECT * FROM reminders WHERE active = 1 AND next_at <= '2026-02-10 09:00'",
                "SELECT * FROM reminder_outbox WHERE status = 'pending' "
                "AND (retry_at IS NULL OR retry_at <= '2026-02-10 09:00') ORDER BY planned_at",
                "SELECT * FROM reminders WHERE active = 1 AND due IN ('2026-03-01') "
                "AND leads = '30,7,1,-1'"):
        plan = db.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
        print(f"  plan: {' / '.join(row[-1] for row in plan)}")
    db.close()


def bench_cli(path: Path) -> None:
    day = (BASE + dt.timedelta(days=45)).isoformat()
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bot", "reminders", "due", "--today", day,
                        "--db", str(path), "--json"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        runs.append(time.perf_counter() - start)
    print(f"`python -m bot reminders due --today {day} --json`: {min(runs):.2f} s wall "
          "(best of 3, interpreter start-up included)")


def outbox_growth(path: Path, count: int, before: int) -> None:
    db = open_database(path)
    rows = db.execute("SELECT count(*) FROM reminder_outbox").fetchone()[0]
    db.close()
    size = file_bytes(path)
    print(f"after the scans: {rows} outbox rows, file {size / 1e6:.1f} MB: "
          f"{(size - before) / max(rows, 1):.0f} bytes per outbox row, "
          f"{size / count:.0f} bytes per subscription including its outbox so far")


async def raw_sends(server: BotApiServer, count: int) -> None:
    """The floor: bare send_message calls, one after the other, no database."""
    async with server.make_bot() as bot:
        start = time.perf_counter()
        for i in range(count):
            await bot.send_message(3_000_000 + i, "⏰ 认证提醒")
        elapsed = time.perf_counter() - start
    print(f"baseline, {count} bare send_message calls: {elapsed:.2f} s, "
          f"{count / elapsed:.0f} msg/s")


async def send_batch(server: BotApiServer, path: Path, count: int, rate: float | None) -> None:
    db = open_database(path)
    rm.ensure_reminder_tables(db)
    due = BASE + dt.timedelta(days=30)
    with rm.transaction(db):
        for i in range(count):
            rm.add_reminder(db, user_id=2_000_000 + i, chat_id=2_000_000 + i, label="自己",
                            scheme="enterprise", city=CITIES[i % len(CITIES)], last=None,
                            due=due, now=at(BASE, 8), leads=(30,))
    async with server.make_bot() as bot:
        sender = ReminderSender(bot, db, FixedClock(at(BASE)), rate=rate, batch=200)
        start = time.perf_counter()
        stats = await sender.run_once()
        elapsed = time.perf_counter() - start
    label = "unpaced" if rate is None else f"paced at {rate:g}/s"
    print(f"sending {count} reminders {label}: {elapsed:.2f} s, {stats.sent / elapsed:.0f} msg/s "
          f"(sent {stats.sent}, failed {stats.failed}, 429s from server "
          f"{server.stats().get('rate_limited', 0)})")
    db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--send", type=int, default=2000)
    parser.add_argument("--paced", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        seconds = populate(path, args.subscriptions)
        print(f"{args.subscriptions} subscriptions created through add_reminder in {seconds:.1f} s")
        empty = Path(tmp) / "empty.db"
        open_database(empty).close()
        base_size = file_bytes(empty)
        size = file_bytes(path)
        print(f"database: {size/1e6:.1f} MB, {(size - base_size) / args.subscriptions:.0f} bytes "
              "per subscription (indexes included, empty database subtracted)")
        bench_scans(path, args.days)
        outbox_growth(path, args.subscriptions, size)
        bench_cli(path)

        with BotApiServer() as server:
            asyncio.run(raw_sends(server, args.send))
            server.reset()
            asyncio.run(send_batch(server, Path(tmp) / "send.db", args.send, None))
            server.reset()
            server.set_rate_limit(True)  # Telegram-like limits: the paced run must not hit them
            asyncio.run(send_batch(server, Path(tmp) / "paced.db", args.paced, REMINDER_RATE))
    return 0


if __name__ == "__main__":
    sys.exit(main())
