"""Load benchmarks of issue 12 against the local Bot API server. Prints numbers; asserts nothing.

    python3 bench/load.py [--users 200] [--per-user 5] [--rounds 2] [--skip-burst]
                          [--storm-mentions 10] [--storm-retry-after 5] [--questions 20]
                          [--gap 1.0] [--skip-storm]

1. burst: `--users` users each send `--per-user` messages, all injected at once (user after
   user, round-robin), to our bot and, separately, to the echo bot (tests/botapi/echo_bot.py),
   each against its own server; the bots take turns for `--rounds` rounds. Latency of a message
   is the time from its injection to the server receiving the reply to it (the k-th reply in a
   chat answers the k-th message: both bots answer one chat in order). Every message must be
   answered; the count is printed.
2. storm: one group mentions our bot `--storm-mentions` times while the server answers the next
   `--storm-mentions` sendMessage calls to that group with 429 (retry_after
   `--storm-retry-after` s, the server's fault injection); meanwhile a private user asks
   `--questions` questions, one every `--gap` s. Their reply latency is printed next to the same
   questions asked idle, before the storm.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.broadcast import QUESTIONS, ask_latency  # noqa: E402
from bench.e2e import percentile  # noqa: E402
from tests.botapi import BotApiServer, BotProcess  # noqa: E402

BOTS = {"our bot": ["-m", "bot", "run"], "echo bot": ["-m", "tests.botapi.echo_bot"]}
BURST_USER = 7_000_000
STORM_GROUP = -1_007_000_001
STORM_MEMBER, STORM_PRIVATE = 6_900_001, 6_900_002


# ------------------------------------------------------------------ 1. burst


def burst(server: BotApiServer, first_user: int, users: int, per_user: int,
          timeout: float = 300) -> tuple[list[float], int, float]:
    """All messages injected at once; returns (latencies in ms, replies, seconds to the last)."""
    chats = list(range(first_user, first_user + users))
    mark = server.mark()
    sent: dict[int, list[float]] = {chat: [] for chat in chats}
    started = time.time()
    for k in range(per_user):
        for chat in chats:
            server.send_text(chat, QUESTIONS[(chat + k) % len(QUESTIONS)])
            sent[chat].append(time.time())
    total = users * per_user
    server.wait_for("sendMessage", count=total, since=mark, timeout=timeout,
                    predicate=lambda c: c.ok and c.chat_id in sent)
    time.sleep(0.5)  # anything sent beyond one reply per message would show in the count
    replies: dict[int, list[float]] = {chat: [] for chat in chats}
    for call in server.calls("sendMessage", since=mark):
        if call.ok and call.chat_id in replies:
            replies[call.chat_id].append(call.time)
    latencies = [(reply - asked) * 1000
                 for chat in chats
                 for asked, reply in zip(sent[chat], replies[chat], strict=False)]
    last = max(t for times in replies.values() for t in times)
    return latencies, sum(len(times) for times in replies.values()), last - started


def bench_burst(users: int, per_user: int, rounds: int, tmp: Path) -> None:
    with contextlib.ExitStack() as stack:
        servers = {}
        for n, (name, command) in enumerate(BOTS.items()):
            server = stack.enter_context(BotApiServer())
            env = {"DATABASE_PATH": str(tmp / f"burst{n}.db")}
            stack.enter_context(BotProcess(server, command, env=env))
            for i in range(3):  # warm-up
                server.ask(BURST_USER - 10 - i, QUESTIONS[i], timeout=30)
            servers[name] = server
        results: dict[str, dict] = {name: {"lat": [], "replies": 0, "seconds": []}
                                    for name in BOTS}
        first = BURST_USER
        for r in range(rounds):
            order = list(BOTS) if r % 2 == 0 else list(BOTS)[::-1]
            for name in order:
                lat, count, seconds = burst(servers[name], first, users, per_user)
                first += users
                results[name]["lat"] += lat
                results[name]["replies"] += count
                results[name]["seconds"].append(seconds)
    total = users * per_user
    print(f"burst: {users} users x {per_user} messages = {total} at once, {rounds} rounds "
          f"per bot (bots take turns)")
    print(f"{'':10} {'answered':>14} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} "
          f"{'max ms':>9} {'last reply s':>13}")
    for name, res in results.items():
        lat = res["lat"]
        seconds = "/".join(f"{s:.1f}" for s in res["seconds"])
        print(f"{name:10} {res['replies']:>6}/{total * rounds:<7} {percentile(lat, 50):9.0f} "
              f"{percentile(lat, 95):9.0f} {percentile(lat, 99):9.0f} {max(lat):9.0f} "
              f"{seconds:>13}")
    ours, echo = results["our bot"]["lat"], results["echo bot"]["lat"]
    print(f"ratio our bot / echo bot: p50 {percentile(ours, 50) / percentile(echo, 50):.2f}, "
          f"p95 {percentile(ours, 95) / percentile(echo, 95):.2f}, "
          f"p99 {percentile(ours, 99) / percentile(echo, 99):.2f}")


# ------------------------------------------------------------------ 2. storm


def bench_storm(mentions: int, retry_after: int, questions: int, gap: float,
                tmp: Path) -> None:
    env = {"DATABASE_PATH": str(tmp / "storm.db")}
    with BotApiServer() as server, BotProcess(server, BOTS["our bot"], env=env):
        for i in range(3):  # warm-up
            ask_latency(server, STORM_PRIVATE - 10 - i, QUESTIONS[i])
        idle = [ask_latency(server, STORM_PRIVATE, QUESTIONS[i % len(QUESTIONS)])
                for i in range(questions)]
        server.add_bot_to_group(STORM_GROUP)
        server.fail_next("sendMessage", 429, retry_after=retry_after, chat_id=STORM_GROUP,
                         times=mentions)
        mark = server.mark()
        mention = f"@{server.bot_user['username']}"
        started = time.time()
        for i in range(mentions):
            server.send_text(STORM_MEMBER, f"{mention} {QUESTIONS[i % len(QUESTIONS)]}",
                             chat_id=STORM_GROUP)
        server.wait_for("sendMessage", lambda c: c.error_code == 429, chat_id=STORM_GROUP,
                        since=mark, timeout=30)
        busy = []
        for i in range(questions):
            busy.append(ask_latency(server, STORM_PRIVATE, QUESTIONS[i % len(QUESTIONS)]))
            time.sleep(gap)
        asked_for = time.time() - started
        # the storm is over once every injected 429 has been served
        server.wait_for("sendMessage", lambda c: c.error_code == 429, chat_id=STORM_GROUP,
                        since=mark, count=mentions, timeout=mentions * retry_after * 2 + 30)
        time.sleep(retry_after + 1)  # a last retry after the last 429
        storm_seconds = max(c.time for c in server.calls("sendMessage", chat_id=STORM_GROUP,
                                                         since=mark)) - started
        group_calls = server.calls("sendMessage", chat_id=STORM_GROUP, since=mark)
        delivered = sum(1 for c in group_calls if c.ok)
        refused = sum(1 for c in group_calls if c.error_code == 429)
    print(f"storm: {mentions} mentions in one group, its next {mentions} sendMessage calls "
          f"answered 429 retry_after={retry_after}; the group's sends span {storm_seconds:.1f} s "
          f"(429s served {refused}, group replies delivered {delivered}/{mentions})")
    print(f"private chat, {questions} questions: idle p50 {percentile(idle, 50):.1f} ms "
          f"p95 {percentile(idle, 95):.1f} ms max {max(idle):.1f} ms; during the storm "
          f"(first {asked_for:.1f} s) p50 {percentile(busy, 50):.1f} ms "
          f"p95 {percentile(busy, 95):.1f} ms max {max(busy):.1f} ms")
    print(f"private reply delayed by the storm: at most {max(busy) - min(idle):.0f} ms "
          f"(slowest reply during the storm minus fastest idle one)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--per-user", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--storm-mentions", type=int, default=10)
    parser.add_argument("--storm-retry-after", type=int, default=5)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--gap", type=float, default=1.0,
                        help="seconds between the private questions during the storm")
    parser.add_argument("--skip-burst", action="store_true")
    parser.add_argument("--skip-storm", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if not args.skip_burst:
            bench_burst(args.users, args.per_user, args.rounds, tmp)
        if not args.skip_storm:
            bench_storm(args.storm_mentions, args.storm_retry_after, args.questions, args.gap,
                        tmp)


if __name__ == "__main__":
    main()
