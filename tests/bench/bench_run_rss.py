"""Benchmark `backbot run` itself: RSS of the real bot process over 10,000 Telegram messages.

Usage: python tests/bench/bench_run_rss.py [--messages 10000] [--users 2000]

Starts the loopback fake Bot API (tests/fakes/telegram_api.py) in this process, then the real
bot as a subprocess (`python -m bot run`, this checkout's code) with TELEGRAM_TOKEN set to the
fake's token, TELEGRAM_API_URL pointed at the fake and a temporary SQLite DATABASE_URL. Users
chat like people do: each of `--users` users sends its next message only once the bot has
answered the last one (or after --reply-timeout seconds without an answer), all users at once.
Texts are the dev question set (tests/data/dev_questions.jsonl) mixed with /today, /done and
/pain 3. The bot runs exactly as deployed, send budget included (Telegram's ~30 messages/s per
token, 1/s per chat), so updates/s is bounded by that budget, not by the bot's CPU.

Prints the bot process's RSS (VmRSS in /proc/PID/status) idle and after each checkpoint (1,000,
5,000 and 10,000 messages by default, each read once every reply so far has been sent and the
bot has gone quiet), its peak (VmHWM), and updates/s per stage. Figures only, no asserts; not
collected by pytest (not named test_*). Linux only (/proc).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fakes.telegram_api import JSON, FakeTelegramAPI  # noqa: E402

DEV_SET = ROOT / "tests" / "data" / "dev_questions.jsonl"
COMMANDS = ("/today", "/done", "/pain 3")
COMMAND_SHARE = 0.3  # of the messages; the rest are questions from the dev set
QUIET_S = 2.0  # a checkpoint's RSS is read once nothing was sent for this long


class CountingFake(FakeTelegramAPI):
    """The fake Bot API, telling each chat's waiter when the bot sent that chat something."""

    def __init__(self) -> None:
        super().__init__(poll_cap=1.0)
        self.sent_to: dict[int, int] = defaultdict(int)
        self.arrived: dict[int, asyncio.Event] = {}
        self.last_send = time.perf_counter()

    async def _record(self, method: str, params: JSON, text: str | None, photo: bool) -> JSON:
        msg = await super()._record(method, params, text, photo)
        chat = int(params["chat_id"])
        self.sent_to[chat] += 1
        self.last_send = time.perf_counter()
        event = self.arrived.get(chat)
        if event is not None:
            event.set()
        # Nobody reads the fake's logs here: keep this process small over 10,000 messages.
        self.sent.clear()
        self.calls.clear()
        return msg


def rss_kb(pid: int) -> tuple[int, int]:
    """VmRSS and VmHWM (peak) of a process, in kB."""
    got = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                got[key] = int(value.split()[0])
    return got["VmRSS"], got["VmHWM"]


def conversation(messages: int, users: int, seed: int = 7) -> list[tuple[int, str]]:
    """(user, text) in send order: message i is user i % users's next one."""
    rng = random.Random(seed)
    questions = [json.loads(line)["text"] for line in DEV_SET.read_text().splitlines() if line]
    out = []
    for i in range(messages):
        user = 500_000 + i % users
        text = rng.choice(COMMANDS) if rng.random() < COMMAND_SHARE else rng.choice(questions)
        out.append((user, text))
    return out


def start_bot(fake: FakeTelegramAPI, workdir: Path) -> tuple[subprocess.Popen[bytes], Any]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DISCORD_", "DATABASE_", "HEALTH_"))
    }
    env.update(
        TELEGRAM_TOKEN=fake.token,
        TELEGRAM_API_URL=fake.url,
        DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
        PYTHONPATH=str(ROOT),  # this checkout's `bot`, not an installed one
    )
    log = open(workdir / "bot.log", "wb")  # noqa: SIM115 (closed by the caller)
    # cwd is the temporary directory: no .env there, and the database lands there too.
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=workdir, env=env, stdout=log, stderr=log
    )
    return bot, log


async def send(fake: CountingFake, user: int, text: str, wait_s: float) -> tuple[bool, float]:
    """One user message; wait for the bot's first message back. (answered, seconds)."""
    event = fake.arrived.setdefault(user, asyncio.Event())
    event.clear()
    t0 = time.perf_counter()
    if text.startswith("/"):
        name, _, args = text[1:].partition(" ")
        fake.command(user, name, args)
    else:
        fake.private_message(user, text)
    try:
        await asyncio.wait_for(event.wait(), wait_s)
    except TimeoutError:
        return False, time.perf_counter() - t0
    return True, time.perf_counter() - t0


async def stage(
    fake: CountingFake, plan: list[tuple[int, str]], wait_s: float
) -> tuple[int, list[float]]:
    """Every user of `plan` sends its messages in order, all users at once."""
    per_user: dict[int, list[str]] = defaultdict(list)
    for user, text in plan:
        per_user[user].append(text)
    unanswered = 0
    latencies: list[float] = []

    async def chat(user: int, texts: list[str]) -> None:
        nonlocal unanswered
        for text in texts:
            answered, seconds = await send(fake, user, text, wait_s)
            unanswered += not answered
            if answered:
                latencies.append(seconds)

    await asyncio.gather(*(chat(u, ts) for u, ts in per_user.items()))
    return unanswered, latencies


async def quiet(fake: CountingFake, seconds: float = QUIET_S, limit: float = 120.0) -> None:
    """Wait until the bot has sent nothing for `seconds` (its last replies are out)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and time.perf_counter() - fake.last_send < seconds:  # noqa: ASYNC110
        await asyncio.sleep(0.2)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def main_async(args: argparse.Namespace) -> None:
    plan = conversation(args.messages, args.users)
    checkpoints = sorted({c for c in args.checkpoints if 0 < c < args.messages} | {args.messages})
    with tempfile.TemporaryDirectory(prefix="backbot-rss-") as tmp:
        async with CountingFake() as fake:
            bot, log = start_bot(fake, Path(tmp))
            try:
                t0 = time.perf_counter()
                await fake.wait_for_call("getUpdates", timeout=120)
                ready = time.perf_counter() - t0
                await asyncio.sleep(2.0)  # let start-up settle
                idle, _ = rss_kb(bot.pid)
                print(f"`backbot run` RSS bench: {args.messages} messages from {args.users} users")
                print("  real bot process, real PTB + aiohttp, fake Bot API over loopback,")
                print("  SQLite store, Telegram send budget ON (~30 messages/s per token)")
                print(f"  start-up   : {ready:.2f} s to the first getUpdates")
                print(f"  idle       : RSS {idle / 1024:.1f} MB")
                done = 0
                for point in checkpoints:
                    s0 = time.perf_counter()
                    unanswered, lat = await stage(fake, plan[done:point], args.reply_timeout)
                    seconds = time.perf_counter() - s0
                    await quiet(fake)
                    rss, peak = rss_kb(bot.pid)
                    ms = [x * 1000 for x in lat]
                    print(
                        f"  {point:>6,} msgs: RSS {rss / 1024:6.1f} MB (peak {peak / 1024:.1f}),"
                        f" {point - done} in {seconds:.1f} s = {(point - done) / seconds:.1f}"
                        f" updates/s, first reply p50 {percentile(ms, 0.5):.0f} ms"
                        f" p99 {percentile(ms, 0.99):.0f} ms, {unanswered} unanswered"
                    )
                    done = point
                sent = sum(fake.sent_to.values())
                print(f"  replies    : {sent} messages sent to {len(fake.sent_to)} chats")
                if bot.poll() is not None:
                    print(f"  the bot exited early with {bot.returncode}: see its log")
            finally:
                bot.terminate()
                try:
                    bot.wait(30)
                except subprocess.TimeoutExpired:
                    bot.kill()
                log.close()
                if args.keep_log:
                    tail = (Path(tmp) / "bot.log").read_text(errors="replace").splitlines()
                    print("\n".join(["  bot log (last 20 lines):", *tail[-20:]]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument(
        "--checkpoints", type=int, nargs="*", default=[1_000, 5_000], help="RSS read after these"
    )
    # 2,000 users at ~30 messages/s: a user waits a minute or more for each answer.
    parser.add_argument("--reply-timeout", type=float, default=600.0, help="seconds per message")
    parser.add_argument("--keep-log", action="store_true", help="print the bot log's tail")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
