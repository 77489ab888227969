"""python-telegram-bot's AIORateLimiter against our own limiter, on one bulk send (issue 12).
Prints numbers; asserts nothing.

    python3 bench/limiters.py [--messages 2000] [--groups 10] [--per-group 20]
                              [--repeat-chats 5] [--per-repeat-chat 20] [--our-rate 25]
                              [--only ours|ptb]

Both drive a `telegram.Bot` over python-telegram-bot's HTTP stack against the local Bot API
server (`tests/botapi/server.py`) with its Telegram-like limiter on (30/s overall, 1/s per chat
with a burst of 3, 20/min per group): whatever a limiter lets through too fast is answered
429, as Telegram would. The same messages, in the same order, go out through each:

- `--groups` groups get `--per-group` messages each (20/min per group applies);
- `--repeat-chats` private chats get `--per-repeat-chat` each (1/s per chat applies);
- the rest go to distinct private chats (only the overall 30/s applies).

They are interleaved evenly, as a broadcast to many recipients interleaves them.

- ptb: `ExtBot(rate_limiter=AIORateLimiter(max_retries=3))` with its defaults (30/s overall,
  20/min per group); every message is handed to it at once, as its documentation intends.
- ours: `bot.delivery.pacing.RateLimiter` (overall budget `--our-rate`, the bot's default
  BROADCAST_RATE being 25/s; 1/s per chat; 20/min per group) driven the way `Broadcaster`
  drives it: wait for the next message's turn, take it, keep up to `default_concurrency` in
  flight; a 429 pauses everything for the time asked and the message is sent again.

Numbers come from the server's receive times: messages/s (delivered over the span from the
first request to the last delivery), the most requests in any 1 s, the most to one private
chat in any 1 s, the most to one group in any 60 s, and the 429s sent.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram import Bot  # noqa: E402
from telegram.error import RetryAfter  # noqa: E402
from telegram.ext import AIORateLimiter, ExtBot  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from bot.broadcasts.runner import default_concurrency  # noqa: E402
from bot.delivery.pacing import RateLimiter, retry_after_seconds  # noqa: E402
from tests.botapi import BotApiServer  # noqa: E402

FIRST_USER, FIRST_REPEAT, FIRST_GROUP = 5_000_000, 5_900_000, -1_005_000_000
RETRIES = 3


def workload(total: int, groups: int, per_group: int, repeat_chats: int,
             per_repeat: int) -> list[int]:
    """Chat ids, one per message, the repeated chats spread evenly through the distinct ones."""
    repeated = [FIRST_GROUP - g for g in range(groups) for _ in range(per_group)]
    repeated += [FIRST_REPEAT + c for c in range(repeat_chats) for _ in range(per_repeat)]
    # round-robin over the repeated chats, so the same chat comes back as late as possible
    by_chat: dict[int, list[int]] = defaultdict(list)
    for chat in repeated:
        by_chat[chat].append(chat)
    ordered = [chats[i] for i in range(max(map(len, by_chat.values()), default=0))
               for chats in by_chat.values() if i < len(chats)]
    distinct = [FIRST_USER + n for n in range(max(0, total - len(ordered)))]
    out: list[int] = []
    step = len(distinct) / max(1, len(ordered))
    for k, chat in enumerate(ordered):
        out.extend(distinct[round(k * step):round((k + 1) * step)])
        out.append(chat)
    out.extend(distinct[round(len(ordered) * step):])
    return out


def request() -> HTTPXRequest:
    # Enough connections for what either limiter keeps in flight; waiting for one is not a
    # failure (a pool timeout would count as a lost message).
    return HTTPXRequest(connection_pool_size=16, pool_timeout=60,
                        httpx_kwargs={"verify": False})


async def send_ptb(server: BotApiServer, chats: list[int]) -> int:
    """Everything handed to AIORateLimiter at once; returns the messages it gave up on."""
    bot = ExtBot(server.token, base_url=server.base_url, request=request(),
                 rate_limiter=AIORateLimiter(max_retries=RETRIES))
    async with bot:
        results = await asyncio.gather(*(bot.send_message(chat, f"#{n}")
                                         for n, chat in enumerate(chats)),
                                       return_exceptions=True)
    return sum(isinstance(r, BaseException) for r in results)


async def send_ours(server: BotApiServer, chats: list[int], rate: float) -> int:
    """The Broadcaster's way: next message's turn, take it, up to `concurrency` in flight."""
    limiter = RateLimiter(rate, time.monotonic())
    slots = asyncio.Semaphore(default_concurrency(rate))
    failed = 0

    async def deliver(bot: Bot, n: int, chat: int) -> None:
        nonlocal failed
        try:
            for _attempt in range(RETRIES + 1):
                try:
                    await bot.send_message(chat, f"#{n}")
                    return
                except RetryAfter as exc:  # flood control is bot-wide: everything waits
                    limiter.pause(time.monotonic() + retry_after_seconds(exc))
                    while (wait := limiter.delay(chat, time.monotonic())) > 0:
                        await asyncio.sleep(wait)
                    limiter.take(chat, time.monotonic())
            failed += 1
        finally:
            slots.release()

    async with Bot(server.token, base_url=server.base_url, request=request()) as bot:
        tasks = []
        for n, chat in enumerate(chats):
            while (wait := limiter.delay(chat, time.monotonic())) > 0:
                await asyncio.sleep(wait)
            limiter.take(chat, time.monotonic())
            await slots.acquire()
            tasks.append(asyncio.create_task(deliver(bot, n, chat)))
        await asyncio.gather(*tasks)
    return failed


def most_in_window(times: list[float], window: float) -> int:
    times, best, start = sorted(times), 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def measure(server: BotApiServer, mark: int, failed: int, seconds: float) -> dict:
    calls = server.calls("sendMessage", since=mark)
    delivered = [c for c in calls if c.ok]
    per_chat: dict[int, list[float]] = defaultdict(list)
    for c in calls:
        per_chat[int(c.chat_id)].append(c.time)
    span = max(c.time for c in delivered) - min(c.time for c in calls) if delivered else 0
    return {
        "delivered": len(delivered), "gave_up": failed, "seconds": seconds,
        "rate": len(delivered) / span if span else float("nan"),
        "max_1s": most_in_window([c.time for c in calls], 1.0),
        "max_chat_1s": max((most_in_window(t, 1.0) for chat, t in per_chat.items()
                            if chat > 0), default=0),
        "max_group_60s": max((most_in_window(t, 60.0) for chat, t in per_chat.items()
                              if chat < 0), default=0),
        "429s": sum(1 for c in calls if c.error_code == 429),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--per-group", type=int, default=20)
    parser.add_argument("--repeat-chats", type=int, default=5)
    parser.add_argument("--per-repeat-chat", type=int, default=20)
    parser.add_argument("--our-rate", type=float, default=25.0)
    parser.add_argument("--only", choices=("ours", "ptb"))
    args = parser.parse_args()
    chats = workload(args.messages, args.groups, args.per_group, args.repeat_chats,
                     args.per_repeat_chat)
    print(f"{len(chats)} messages: {args.groups} groups x {args.per_group}, "
          f"{args.repeat_chats} private chats x {args.per_repeat_chat}, the rest to distinct "
          f"private chats; server limiter on (30/s overall, 1/s per chat burst 3, 20/min per "
          f"group)")
    runs = {"ours": lambda s: send_ours(s, chats, args.our_rate),
            "ptb": lambda s: send_ptb(s, chats)}
    names = {"ours": f"ours ({args.our_rate:g}/s)", "ptb": "AIORateLimiter"}
    print(f"{'':>18} {'delivered':>9} {'gave up':>7} {'msg/s':>6} {'max/1s':>6} "
          f"{'chat/1s':>7} {'group/60s':>9} {'429s':>5} {'wall s':>7}")
    for key, run in runs.items():
        if args.only and key != args.only:
            continue
        with BotApiServer(rate_limit=True) as server:
            mark = server.mark()
            started = time.monotonic()
            failed = asyncio.run(run(server))
            r = measure(server, mark, failed, time.monotonic() - started)
        print(f"{names[key]:>18} {r['delivered']:>9} {r['gave_up']:>7} {r['rate']:>6.1f} "
              f"{r['max_1s']:>6} {r['max_chat_1s']:>7} {r['max_group_60s']:>9} "
              f"{r['429s']:>5} {r['seconds']:>7.1f}")


if __name__ == "__main__":
    main()
