"""Fairness benchmark: while one chat is rate-limited, how long do the other chats wait?

Usage: python tests/bench/bench_fairness.py [--others 10] [--rounds 3] [--retry-after 2]

The real PTB Application (rate limiting ON, as `backbot run` builds it) and the real core run
against the loopback fake Bot API. The fake answers the first send to one chat with 429
`retry_after` (for that chat only). Meanwhile `--others` users each send a message every
1.5 s (under Telegram's 1 message/s per chat) and the limited user keeps writing too.

Printed: the other chats' reply delay (update handed out by getUpdates → all its replies
accepted by the fake), p50 and worst (target: worst < 200 ms), and whether the limited chat got
every reply, in the order its user wrote. Not collected by pytest (not named test_*).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import statistics
import sys
import time
from pathlib import Path

from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.adapters.base import from_function
from bot.adapters.telegram import TelegramAdapter
from bot.app import build_dialogue
from bot.config import Settings
from bot.core.types import Incoming, Reply
from tests.fakes.telegram_api import FakeTelegramAPI

LIMITED = 7000
MESSAGES = ("hi", "how long should I hold a plank", "thanks!", "who are you", "/today")


async def run(others: int, rounds: int, retry_after: int) -> dict[str, object]:
    dialogue = build_dialogue()
    order: dict[int, list[int]] = {}  # chat -> update ids in the order its user sent them

    async def answer(incoming: Incoming) -> list[Reply]:
        return await dialogue.handle(incoming)

    done: dict[int, float] = {}
    changed = asyncio.Event()
    chat_of: dict[int, int] = {}

    async def finished(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        done[update.update_id] = time.perf_counter()  # group 1: after every reply was sent
        changed.set()

    async with FakeTelegramAPI() as fake:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            telegram_token=fake.token,
            telegram_api_url=fake.url,
            telegram_webhook_url=None,
        )
        adapter = TelegramAdapter(settings, from_function(answer))
        adapter.application.add_handler(TypeHandler(Update, finished), group=1)
        await adapter.start()

        def say(user: int, i: int) -> None:
            text = MESSAGES[(user + i) % len(MESSAGES)]
            if text.startswith("/"):
                u = fake.command(user, text[1:])
            else:
                u = fake.private_message(user, text)
            order.setdefault(user, []).append(u["update_id"])
            chat_of[u["update_id"]] = user

        try:
            fake.rate_limit_chat(LIMITED, times=1, retry_after=retry_after)
            say(LIMITED, 0)
            await asyncio.sleep(0.05)  # its reply meets the 429 first
            users = [LIMITED + 1 + k for k in range(others)]
            for r in range(rounds):
                for k, user in enumerate(users):
                    say(user, r)
                    await asyncio.sleep(1.5 / len(users) * (k < len(users) - 1))
                say(LIMITED, r + 1)
                await asyncio.sleep(1.5 / len(users))
            deadline = time.monotonic() + 60
            while len(done) < len(chat_of) and time.monotonic() < deadline:
                changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), 1.0)
            await asyncio.sleep(0.2)
        finally:
            with contextlib.suppress(Exception):
                await adapter.stop()
        delays = [
            done[u] - fake.handed_out[u] for u, c in chat_of.items() if c != LIMITED and u in done
        ]
        limited_ids = order[LIMITED]
        limited_done = [done.get(u) for u in limited_ids]
        in_order = all(t is not None for t in limited_done) and limited_done == sorted(
            t for t in limited_done if t is not None
        )
        return {
            "delays": delays,
            "others_total": sum(1 for c in chat_of.values() if c != LIMITED),
            "limited_updates": len(limited_ids),
            "limited_answered": sum(t is not None for t in limited_done),
            "limited_in_order": in_order,
            "limited_replies": len(fake.messages_to(LIMITED)),
            "limited_429s": len(fake.rate_limited),
            "limited_wait": (
                max(t for t in limited_done if t is not None) - fake.handed_out[limited_ids[0]]
                if limited_done[0] is not None
                else float("nan")
            ),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--others", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--retry-after", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    r = asyncio.run(run(args.others, args.rounds, args.retry_after))
    ms = sorted(x * 1000 for x in r["delays"])  # type: ignore[attr-defined]
    print(f"fairness bench: 1 chat answered 429 retry_after={args.retry_after}s, ")
    print(f"  {args.others} other chats x {args.rounds} messages, real PTB + core vs fake Bot API")
    print(
        f"  other chats: {len(ms)}/{r['others_total']} answered, reply delay p50 "
        f"{statistics.median(ms):.0f} ms, worst {ms[-1]:.0f} ms (target worst < 200 ms)"
    )
    print(
        f"  limited chat: {r['limited_answered']}/{r['limited_updates']} updates answered, "
        f"{r['limited_replies']} messages, in order: {r['limited_in_order']}, "
        f"429s answered: {r['limited_429s']}, last reply {r['limited_wait']:.2f} s after its first"
    )


if __name__ == "__main__":
    main()
