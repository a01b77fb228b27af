"""SendBudget on its own: replies before reminders on the token's bucket, and pauses that
end when the injected sleep says so."""

from __future__ import annotations

import asyncio

from bot.adapters.sending import PlatformLimits, Priority, SendBudget
from bot.errors import RateLimited


async def test_a_reply_overtakes_a_queue_of_reminders() -> None:
    """Twenty reminders wait for an empty bucket; a reply arriving after them goes after at
    most the one reminder already waiting inside the bucket."""
    budget = SendBudget(PlatformLimits(50.0, None))  # 50/s: a token every 20 ms once empty
    for _ in range(50):
        await budget.turn("warm-up")  # empty the bucket
    order: list[str] = []

    async def take(name: str, priority: Priority) -> None:
        await budget.turn(name, priority)
        order.append(name)

    bulk = [asyncio.create_task(take(f"r{i}", Priority.BULK)) for i in range(20)]
    await asyncio.sleep(0)  # every reminder is queued first
    reply = asyncio.create_task(take("reply", Priority.REPLY))
    await asyncio.gather(reply, *bulk)
    assert order.index("reply") <= 1
    assert [n for n in order if n != "reply"] == [f"r{i}" for i in range(20)]


async def test_send_retries_after_the_chat_pause_and_gives_up_after_max_waits() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    budget = SendBudget(PlatformLimits(None), sleep=sleep)
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise RateLimited(1.5)
        return "sent"

    assert await budget.send("7", flaky) == "sent"
    assert (calls, slept, budget.global_pauses) == (3, [1.5, 1.5], 0)

    async def never() -> str:
        raise RateLimited(0.5)

    try:
        await budget.send("8", never, max_waits=2)
    except RateLimited as e:
        assert e.retry_after == 0.5
    else:
        raise AssertionError("an endless 429 must surface")
    await asyncio.sleep(0)  # the last 429 still pauses the chat for whoever sends next
    assert slept.count(0.5) == 3 and not budget.paused("7")
