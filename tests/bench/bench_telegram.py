"""Benchmark the Telegram adapter end to end: real PTB Application, real core, loopback fake API.

Usage: python tests/bench/bench_telegram.py [--messages 2000] [--users 200]

Queues every message in the fake Bot API before the bot starts, then measures from the first
update handed out by getUpdates to the last update fully processed (replies sent). Latency per
update is "handed out by getUpdates" → "PTB finished it" (all its replies were accepted by the
fake), so it includes the time an update waits behind the others in this burst. PTB's
send budget is off here (rate_limit=False): Telegram's real limits (~30 msg/s) would
otherwise be the only thing measured. Not collected by pytest (not named test_*).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.adapters.base import from_function
from bot.adapters.telegram import TelegramAdapter
from bot.app import build_dialogue, settle
from bot.config import Settings
from bot.core.types import Incoming, Reply
from tests.fakes.telegram_api import FakeTelegramAPI

logger = logging.getLogger(__name__)

MESSAGES = (
    "how long should I hold a plank",
    "what should I avoid with back pain",
    "are deadlifts bad for my back",
    "how often should I train my back",
    "back workout at home with no equipment",
    "/today",
    "hi",
    "thanks!",
    "who are you",
    "how do I do a bird dog",
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def baseline(texts: list[tuple[int, str]]) -> float:
    """The same core called directly, one message after another: updates per second."""
    dialogue = build_dialogue()
    incomings = [Incoming("telegram", str(u), str(u), text=t, display_name="Ann") for u, t in texts]
    start = time.perf_counter()
    for incoming in incomings:
        await dialogue.handle(incoming)
    return len(incomings) / (time.perf_counter() - start)


def queue(fake: FakeTelegramAPI, texts: list[tuple[int, str]]) -> list[int]:
    ids = []
    for user, text in texts:
        if text.startswith("/"):
            ids.append(fake.command(user, text[1:])["update_id"])
        else:
            ids.append(fake.private_message(user, text)["update_id"])
    return ids


def serve_fake(texts: list[tuple[int, str]], conn: Connection) -> None:
    """Child process: the fake Bot API, the burst queued up front; then commands from the pipe."""

    async def serve() -> None:
        async with FakeTelegramAPI() as fake:
            conn.send((fake.url, fake.token, queue(fake, texts)))
            loop = asyncio.get_running_loop()
            while True:
                command, payload = await loop.run_in_executor(None, conn.recv)
                if command == "queue":
                    conn.send(queue(fake, payload))
                elif command == "results":
                    conn.send((fake.handed_out, len(fake.sent)))
                else:
                    return

    asyncio.run(serve())


async def end_to_end(
    texts: list[tuple[int, str]], conn: Connection, singles: int
) -> dict[str, Any]:
    """The adapter in this process; the fake Telegram in another, as the real one would be."""
    dialogue = build_dialogue()
    silent = 0

    async def handler(incoming: Incoming) -> list[Reply]:
        nonlocal silent
        replies = await dialogue.handle(incoming)
        silent += not replies
        return replies

    done: dict[int, float] = {}
    waiting: set[int] = set()
    changed = asyncio.Event()

    async def finished(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        # Group 1 runs after the adapter's handler (group 0) has sent every reply.
        # perf_counter is CLOCK_MONOTONIC on Linux: the same clock in the fake's process.
        done[update.update_id] = time.perf_counter()
        waiting.discard(update.update_id)
        if not waiting:
            changed.set()

    async def wait_done(ids: list[int]) -> None:
        # O(1) per update: checking every id on each update cost the adapter's process ~9%.
        waiting.update(i for i in ids if i not in done)
        deadline = time.monotonic() + 300
        while waiting and time.monotonic() < deadline:
            changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), 1.0)

    url, token, burst = conn.recv()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_token=token, telegram_api_url=url, telegram_webhook_url=None
    )
    adapter = TelegramAdapter(settings, from_function(handler), rate_limit=False)
    adapter.application.add_handler(TypeHandler(Update, finished), group=1)
    settle()  # as `backbot run` does before its platforms start
    cpu = time.process_time()
    await adapter.start()
    try:
        await wait_done(burst)
        cpu = time.process_time() - cpu  # this process only: adapter + core, not the fake
        # Then one message at a time from fresh users: latency when nothing is queued.
        one_by_one = []
        for i in range(singles):
            conn.send(("queue", [(90_000 + i, MESSAGES[i % len(MESSAGES)])]))
            one_by_one += conn.recv()
            await wait_done(one_by_one[-1:])
    finally:
        await adapter.stop()
    conn.send(("results", None))
    handed_out, sent = conn.recv()
    conn.send(("stop", None))
    finished_burst = [done[u] for u in burst if u in done]
    return {
        "processed": len(finished_burst),
        "seconds": max(finished_burst) - min(handed_out[u] for u in burst),
        "latencies": [done[u] - handed_out[u] for u in burst if u in done],
        "single_latencies": [done[u] - handed_out[u] for u in one_by_one if u in done],
        "sent": sent,
        "cpu": cpu,
        "silent": silent,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--singles", type=int, default=200, help="one-at-a-time messages after")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    # User u sends messages u, u+users, ...: every user gets the mix, interleaved with others.
    texts = [
        (10_000 + i % args.users, MESSAGES[(i // args.users + i) % len(MESSAGES)])
        for i in range(args.messages)
    ]
    # The fake runs in its own process (forked before any event loop exists), so the adapter
    # gets this process's core to itself, as it would against the real Telegram.
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.get_context("fork").Process(target=serve_fake, args=(texts, theirs))
    child.start()
    direct = asyncio.run(baseline(texts))
    r = asyncio.run(end_to_end(texts, ours, args.singles))
    child.join(10)
    rate = r["processed"] / r["seconds"]
    ms = [x * 1000 for x in r["latencies"]]
    single = [x * 1000 for x in r["single_latencies"]]
    print(f"telegram adapter bench: {args.messages} messages from {args.users} users, 2 cores")
    print("  send budget OFF (rate_limit=False): Telegram's limits would be all we measured")
    print("  fake Bot API in a separate process; adapter + real core in this one")
    print(f"  burst      : {r['processed']} updates in {r['seconds']:.2f} s = {rate:.0f} updates/s")
    print(
        f"  latency    : p50 {statistics.median(ms):.0f} ms, p99 {percentile(ms, 0.99):.0f} ms"
        " (handed out by getUpdates → all replies sent; includes queueing behind the burst)"
    )
    if single:
        print(
            f"  one by one : p50 {statistics.median(single):.1f} ms, "
            f"p99 {percentile(single, 0.99):.1f} ms over {len(single)} single messages"
        )
    per_update = r["cpu"] / r["processed"] * 1000
    print(
        f"  cpu        : {per_update:.2f} ms of this process's CPU per update (adapter + core)"
        f" = {1000 / per_update:.0f} updates/s on a core of its own"
    )
    print(f"  replies    : {r['sent']} messages sent; core said nothing to {r['silent']} updates")
    print(f"  baseline   : dialogue.handle called directly, sequentially: {direct:.0f} updates/s")
    print(f"  ratio      : adapter path runs at {rate / direct:.3f}x the direct handler rate")


if __name__ == "__main__":
    main()
