"""The weekly check-in rides on the week's first reminder through the real scheduler: one
message per due reminder, the check-in inside the Monday one only, for opted-in users only."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.app import build_dialogue
from bot.config import Settings
from bot.core.ports import Profile, UserKey
from bot.core.types import Incoming
from bot.storage.store import SqlStore

from .conftest import WED_1800, FakeSender, MakeScheduler, seed

MON_1800 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


async def test_check_in_goes_with_the_first_reminder_of_the_week_only(
    store: SqlStore, sender: FakeSender, make_scheduler: MakeScheduler, settings: Settings
) -> None:
    await seed(store, 2, due_at=MON_1800)
    await store.save_profile(Profile(UserKey("telegram", "u0"), checkin=True), ["checkin"])
    dialogue = build_dialogue(store, settings)
    sched = make_scheduler(store, sender, dialogue=dialogue)

    await sched.tick(MON_1800)
    sent = {a.chat_id: r for a, r in sender.sent}
    assert len(sender.sent) == 2  # one message each: the check-in is inside the nudge
    assert "Weekly check-in 1/3" in sent["u0"].text
    assert "check-in" not in sent["u1"].text and len(sent["u1"].buttons) == 4

    await sched.tick(WED_1800)
    assert len(sender.sent) == 4
    assert all("check-in" not in r.text for _, r in sender.sent[2:])

    # The delivered buttons work in a later turn, with no flow waiting for them.
    [three] = [b for b in sent["u0"].buttons if b.label == "3"]
    msg = Incoming("telegram", "u0", "u0", action=three.action, received_at=WED_1800)
    [life] = await dialogue.handle(msg)
    assert life.text.startswith("2/3")
    [got] = await store.checkins_since(UserKey("telegram", "u0"), date(2026, 11, 23))
    assert got.pain == 3 and got.week == date(2026, 11, 23)
