"""The dialogue core, read as chat transcripts against the shipped knowledge base."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.core.answers import Tuning
from bot.core.flood import FloodGate
from bot.core.ports import UserKey
from bot.core.types import Incoming, Kind
from bot.errors import StorageUnavailable
from bot.storage.memory import MemoryStore
from tests.conftest import NOON, Chat, unsigned


async def test_red_flag_comes_before_faq_advice(chat: Chat, kb) -> None:
    [reply] = await chat.say("what should I avoid with back pain? also I can't control my bladder")
    assert reply.kind is Kind.RED_FLAG and reply.urgency == "emergency"
    assert reply.text.startswith(kb.safety.levels["emergency"].header)
    # triage never offers exercise: only the when-to-see-a-doctor entry
    assert [unsigned(b.action) for b in reply.buttons] == ["faq:when_see_doctor"]


async def test_red_flag_inside_a_command_argument(chat: Chat) -> None:
    [reply] = await chat.say("/ask my back hurts and I have a fever and chills")
    assert reply.kind is Kind.RED_FLAG
    assert reply.topic == "fever"


async def test_red_flag_interrupts_onboarding(chat: Chat) -> None:
    await chat.say("/start")
    reply, back = await chat.say("numb between my legs since this morning")
    assert reply.kind is Kind.RED_FLAG
    # The setup question stays within reach, buttons and all, and still takes an answer.
    assert back.topic == "level" and "Beginner" in [b.label for b in back.buttons]
    [level, _] = await chat.say("beginner")
    assert level.text == "Level: beginner."


async def test_negated_symptom_is_not_a_red_flag(chat: Chat) -> None:
    replies = await chat.say("no numbness or bladder problems, just a dull ache after deadlifts")
    assert replies[0].kind is not Kind.RED_FLAG


async def test_faq_answer_is_short_and_sourced(chat: Chat) -> None:
    [reply] = await chat.say("how long should i hold a plank")
    assert reply.kind is Kind.FAQ
    assert reply.topic == "plank_hold_time"
    # The last line names each source as a link; what a phone shows is the names, not the URLs.
    last = reply.text.splitlines()[-1]
    assert re.match(r"Sources?: \[[^]]+\]\(https://", last), last
    shown = re.sub(r"\[([^]]+)\]\(https?://[^)]+\)", r"\1", reply.text)
    assert len(shown) < 900


async def test_typos_and_synonyms_still_find_the_answer(chat: Chat) -> None:
    [reply] = await chat.say("are dedlifts bad for my lumbar??")
    assert reply.topic == "deadlift_safe_back"


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("deadlift", "deadlift"),
        ("plank", "plank"),
        ("pull ups", "pull_up"),
        ("how to deadlift", "deadlift"),
        ("side planks", "side_plank"),
        ("good mornings?", "good_morning"),
        # names that mention another body part are still ours, not "we don't cover knees"
        ("knee to chest", "knee_to_chest"),
        ("opposite arm leg raise", "bird_dog"),
    ],
)
async def test_a_bare_exercise_name_opens_its_how_to(chat: Chat, text: str, topic: str) -> None:
    # One word shared by many phrasings must not crowd the exercise itself out of the shortlist.
    [reply] = await chat.say(text)
    assert reply.topic == topic and "1." in reply.text


async def test_every_exercise_name_and_alias_opens_its_how_to(make_chat, kb) -> None:
    chat = make_chat(flood=FloodGate(limit=10_000))  # hundreds of messages, one user
    wrong = []
    for x in kb.exercises.values():
        for name in (x.name, *x.aliases):
            [reply] = await chat.say(name)
            # "Good morning" on its own is a greeting; "good mornings" is the exercise (above).
            if reply.topic != x.id and name.lower() != "good morning":
                wrong.append((name, x.id, reply.topic))
    assert wrong == []


async def test_a_question_about_an_exercise_is_not_its_name(chat: Chat) -> None:
    [reply] = await chat.say("why do side planks")
    assert reply.topic == "side_plank_benefits"


async def test_exercise_how_to(chat: Chat) -> None:
    [reply] = await chat.say("how do I do a bird dog")
    assert reply.kind is Kind.FAQ and reply.topic == "bird_dog"
    assert "1." in reply.text
    # several cues read as one line with their own breaks, not run together
    cue = next(line for line in reply.text.splitlines() if line.startswith("Cue"))
    assert "; " in cue and ". " not in cue


async def test_out_of_scope_is_honest(chat: Chat) -> None:
    [reply] = await chat.say("what's the weather in Paris tomorrow")
    assert reply.kind is Kind.OUT_OF_SCOPE
    assert "I cover back training" in reply.text


async def test_an_unclear_back_question_asks_to_rephrase(chat: Chat) -> None:
    # About the back but matching nothing: not "I only cover back training".
    [reply] = await chat.say("what about my spine and the moon")
    assert reply.kind is Kind.OUT_OF_SCOPE and reply.topic == "unclear"
    assert "another way" in reply.text and "I cover back training" not in reply.text


@pytest.mark.parametrize(
    "text", ["knee pain when squatting", "how do i get a six pack", "neck pain after sleeping"]
)
async def test_other_body_parts_are_out_of_scope_even_with_pain_words(
    chat: Chat, text: str
) -> None:
    [reply] = await chat.say(text)
    assert reply.kind is Kind.OUT_OF_SCOPE


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("on all fours, lift the opposite arm and leg, how do I do that one?", "bird_dog"),
        ("lying face down lifting arms and legs off the floor, how do i do it", "superman"),
    ],
)
async def test_a_close_description_of_our_exercise_beats_an_off_topic_word(
    chat: Chat, text: str, topic: str
) -> None:
    [reply] = await chat.say(text)
    assert reply.topic == topic


@pytest.mark.parametrize(
    "text", ["neck and lower back pain after sleeping", "shoulder press with a sore lumbar"]
)
async def test_a_back_word_keeps_a_mixed_message_ours(chat: Chat, text: str) -> None:
    [reply] = await chat.say(text)
    assert reply.kind is Kind.FAQ


async def test_suggestion_buttons_lead_to_answers(make_chat) -> None:
    # Thresholds set so nothing is answered outright: every match becomes a suggestion.
    chat = make_chat(tuning=Tuning(answer_at=1.01, suggest_at=0.2))
    [reply] = await chat.say("plank")
    assert reply.kind is Kind.SUGGEST and 1 <= len(reply.buttons) <= 3
    [answer] = await chat.press(reply.buttons[0].label)
    assert answer.kind is Kind.FAQ and answer.topic == reply.topic


async def test_smalltalk(chat: Chat) -> None:
    [reply] = await chat.say("hi")
    assert reply.kind is Kind.SMALLTALK


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("good evening coach, hope the day treated you well", "greeting"),
        ("cheers, that was a big help 🙏", "thanks"),
        ("hey, are you a bot or a real person?", "who_are_you"),
        ("is your name really backbot or what", "who_are_you"),
        ("what should I call you?", "who_are_you"),
        ("haha you're really clever", "joke_or_chitchat"),
    ],
)
async def test_longer_small_talk(chat: Chat, text: str, topic: str) -> None:
    [reply] = await chat.say(text)
    assert (reply.kind, reply.topic) == (Kind.SMALLTALK, topic)


@pytest.mark.parametrize(
    "text",
    [
        "good morning! my lower back is stiff when I wake up",
        "thanks, and how long is a plank hold?",
    ],
)
async def test_a_greeting_in_front_of_a_question_does_not_hide_it(chat: Chat, text: str) -> None:
    [reply] = await chat.say(text)
    assert reply.kind is Kind.FAQ


@pytest.mark.parametrize("text", ["back pain", "my lower back hurts", "sore back again"])
async def test_a_bare_back_pain_message_asks_what_would_help(chat: Chat, text: str) -> None:
    [reply] = await chat.say(text)
    assert reply.topic == "back_hurts" and "diagnose" in reply.text
    topics = [unsigned(b.action).removeprefix("faq:") for b in reply.buttons]
    assert topics == [
        "relieve_back_pain",
        "exercise_when_pain",
        "avoid_with_back_pain",
        "when_see_doctor",
    ]
    [answer] = await chat.press(reply.buttons[3].label)
    assert answer.kind is Kind.FAQ and answer.topic == "when_see_doctor"


async def test_back_pain_with_a_red_flag_is_not_small_talk(chat: Chat) -> None:
    [reply] = await chat.say("back pain and I can't feel my groin")
    assert reply.kind is Kind.RED_FLAG


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "😀😀😀",
        "\x00\x07\x1b[31m",
        "a" * 10_000,
        "x" * 9_000 + " plank",
        "¿Cómo estás?",
        "🤷",
    ],
)
async def test_odd_input_gets_one_friendly_reply(chat: Chat, text: str) -> None:
    replies = await chat.say(text)
    assert len(replies) == 1
    assert replies[0].text.strip()


@pytest.mark.parametrize("text", ["help", "what are the commands?", "how do I use this"])
async def test_help_in_words(chat: Chat, text: str) -> None:
    [reply] = await chat.say(text)
    assert "/today" in reply.text and "/remind" in reply.text


async def test_unknown_command(chat: Chat) -> None:
    [reply] = await chat.say("/frobnicate now")
    assert "/frobnicate" in reply.text and "/today" in reply.text


async def test_group_messages_need_a_mention(chat: Chat) -> None:
    assert await chat.say("how long should I hold a plank", is_group=True) == []
    replies = await chat.say("how long should I hold a plank", is_group=True, mentioned=True)
    assert replies[0].topic == "plank_hold_time"
    assert (await chat.say("/help", is_group=True))[0].text


async def test_flood_gets_one_slow_down(make_chat) -> None:
    clock = [0.0]
    chat = make_chat(flood=FloodGate(limit=12, window=10), monotonic=lambda: clock[0])
    answered = []
    for i in range(30):
        clock[0] = i * 0.2
        answered.append(await chat.say("hi"))
    non_empty = [r for r in answered if r]
    assert len(non_empty) == 13
    assert sum(r[0].topic == "flood" for r in non_empty) == 1
    clock[0] = 30.0
    assert await chat.say("hi")


async def test_workout_is_deterministic_per_user_and_date(make_chat) -> None:
    a, b = make_chat("a"), make_chat("a")
    a.now = b.now = NOON
    assert (await a.say("/today"))[0].text == (await b.say("/today"))[0].text
    sessions = set()
    for d in range(3):
        a.now = NOON + timedelta(days=d)
        [w] = await a.say("/today")
        assert w.kind is Kind.WORKOUT
        sessions.add(w.topic)
    assert len(sessions) == 3  # rotates A/B/C


async def test_workout_honours_level_equipment_and_pain(chat: Chat, store, kb) -> None:
    chat.now = NOON
    await chat.say("/start")
    await chat.press("Advanced")
    await chat.press("Dumbbells")
    await chat.press("None")
    await chat.press("No reminders")
    profile = await store.get_profile(UserKey("test", "u1"))
    assert (profile.level, profile.equipment, profile.onboarded) == ("advanced", "dumbbells", True)
    [w] = await chat.say("/today")
    plan_id = w.topic.split(":")[0]
    plan = next(p for p in kb.plans if p.id == plan_id)
    assert (plan.level, plan.equipment) == ("advanced", "dumbbells")
    await chat.say("/pain 7")
    [w] = await chat.say("what's my workout today")
    assert w.kind is Kind.WORKOUT and "gentle" in w.text.lower()
    assert next(p for p in kb.plans if p.id == w.topic.split(":")[0]).gentle


async def test_onboarding_resumes_after_restart(store, make_chat) -> None:
    first = make_chat()
    await first.say("/start")
    await first.press("Beginner")
    # A new Dialogue over the same store: the conversation continues at the equipment step.
    second = make_chat()
    replies = await second.say("gym")
    assert replies[0].text.startswith("Equipment: gym")
    assert replies[-1].topic == "pain"


async def test_a_question_during_onboarding_is_answered_then_setup_resumes(chat: Chat) -> None:
    await chat.say("/start")
    answer, back = await chat.say("how long should I hold a plank?")
    assert answer.kind is Kind.FAQ
    assert back.text.startswith("Back to setup") and "level" in back.text
    assert [b.label for b in back.buttons][-1] == "Skip setup"
    await chat.press("Beginner")
    assert "equipment" in chat.text


async def test_onboarding_can_be_skipped(chat: Chat, store) -> None:
    await chat.say("/start")
    await chat.press("Skip")
    profile = await store.get_profile(UserKey("test", "u1"))
    assert profile.onboarded and profile.level == "beginner"


async def test_onboarding_reminders_ask_time_zone(chat: Chat, store) -> None:
    chat.now = NOON
    await chat.say("/start")
    await chat.press("Beginner")
    await chat.press("Nothing")
    await chat.press("Mild")
    await chat.press("Yes")
    replies = await chat.say("mars")
    assert replies[0].topic == "timezone_unknown"
    replies = await chat.say("Berlin")
    assert "Europe/Berlin" in chat.text
    sched = await store.get_reminder(UserKey("test", "u1"))
    assert sched.active and sched.timezone == "Europe/Berlin" and sched.next_due_at > NOON


async def test_pain_score_validation(chat: Chat, store) -> None:
    for bad in ("eleven", "-3", "lots"):
        [reply] = await chat.say(f"/pain {bad}")
        assert "0" in reply.text and "10" in reply.text and reply.topic == "pain_ask"
    [reply] = await chat.say("4")
    assert reply.text.startswith("Pain 4/10")
    assert [
        p.score for p in await store.pain_since(UserKey("test", "u1"), NOON - timedelta(days=999))
    ] == [4]


async def test_pain_in_words(chat: Chat) -> None:
    [reply] = await chat.say("pain is 6 today")
    assert reply.text.startswith("Pain 6/10")


async def test_a_pain_score_alone_is_logged_but_a_symptom_with_it_is_triaged(chat: Chat) -> None:
    # The learned model scores short messages noisily; a message that is only a pain score is
    # a log entry, never a screening question. Anything more with it is triaged as usual.
    [reply] = await chat.say("pain 7/10")
    assert reply.text.startswith("Pain 7/10")
    [reply] = await chat.say("pain is 6 today and my groin feels numb")
    assert reply.kind is Kind.RED_FLAG and reply.urgency == "emergency"


async def test_persistent_high_pain_suggests_a_professional(chat: Chat) -> None:
    chat.now = NOON - timedelta(days=14)
    await chat.say("/pain 7")
    chat.now = NOON
    [reply] = await chat.say("/pain 8")
    assert "physiotherapist" in reply.text


async def test_done_logs_once_per_day(chat: Chat) -> None:
    chat.now = NOON
    [r1] = await chat.say("/done")
    [r2] = await chat.say("did it")
    assert r1.text.startswith("Logged") and "1/3" in r1.text
    assert "already logged" in r2.text


async def test_progress_sends_a_chart(chat: Chat) -> None:
    for d in range(10):
        chat.now = NOON - timedelta(days=d * 2)
        await chat.say("/done")
    chat.now = NOON
    [reply] = await chat.say("/progress")
    assert reply.kind is Kind.PROGRESS and reply.ephemeral
    assert reply.image is not None and reply.image.startswith(b"\x89PNG\r\n\x1a\n")


async def test_forget_deletes_everything_after_confirmation(chat: Chat, store) -> None:
    await chat.say("/start")
    await chat.press("Beginner")
    await chat.say("/done")
    await chat.say("/pain 3")
    await chat.say("/remind mon 7am")
    await chat.say("/forget")
    await chat.press("Cancel")
    assert await store.get_profile(UserKey("test", "u1")) is not None
    await chat.say("/forget")
    [reply] = await chat.press("Yes")
    assert "deleted" in reply.text
    key = UserKey("test", "u1")
    assert await store.get_profile(key) is None
    assert await store.get_reminder(key) is None
    assert await store.session_days(key, NOON.date() - timedelta(days=999)) == []


async def test_reminder_requests(chat: Chat, store) -> None:
    chat.now = NOON
    [reply] = await chat.say("remind me tuesdays and thursdays at 7am")
    assert reply.kind is Kind.REMINDER
    assert "Tue, Thu at 07:00" in reply.text
    [reply] = await chat.say("when is my next reminder")
    assert "next: Thu 26 Nov 07:00" in reply.text
    [reply] = await chat.say("/stop")
    assert not (await store.get_reminder(UserKey("test", "u1"))).active
    [reply] = await chat.say("/remind at 25:00")
    assert reply.topic == "parse_error"


async def test_settings_change_one_thing(chat: Chat, store) -> None:
    await chat.say("/settings")
    await chat.press("Equipment")
    [reply] = await chat.press("Gym")
    assert "Saved" in reply.text
    assert (await store.get_profile(UserKey("test", "u1"))).equipment == "gym"


async def test_expired_button_is_handled(chat: Chat) -> None:
    [reply] = await chat.dialogue.handle(Incoming("test", "u1", "u1", action="nonsense:42"))
    assert "expired" in reply.text


async def test_onboarding_custom_reminder_days_then_time_zone(chat: Chat, store) -> None:
    chat.now = NOON
    await chat.say("/start")
    await chat.press("Intermediate")
    await chat.press("Gym")
    await chat.press("None")
    await chat.press("Other days")
    replies = await chat.say("tue thu 7am")
    assert "Tue, Thu at 07:00" in replies[0].text
    assert replies[-1].topic == "timezone"
    *_, last = await chat.say("+2")
    assert last.topic == "checkin"  # the weekly check-in rides on reminders: asked last
    await chat.press("No thanks")
    key = UserKey("test", "u1")
    sched = await store.get_reminder(key)
    assert sched.days == (1, 3) and sched.timezone == "Etc/GMT-2"
    profile = await store.get_profile(key)
    assert profile.onboarded and not profile.checkin


class BrokenStore(MemoryStore):
    """A store whose database went away: every call fails."""

    def __getattribute__(self, name: str):
        if name in {
            "get_profile",
            "save_profile",
            "get_conversation",
            "save_conversation",
            "claim_turn",
            "release_turn",
            "log_session",
            "session_days",
            "log_pain",
            "pain_since",
            "get_reminder",
            "save_reminder",
            "forget",
        }:

            async def fail(*_a, **_k):
                raise StorageUnavailable("cannot reach the database at DATABASE_URL=sqlite://…")

            return fail
        return super().__getattribute__(name)


async def test_database_down_mid_conversation_still_answers_and_reports_writes() -> None:
    from bot.app import build_dialogue

    chat = Chat(build_dialogue(BrokenStore()))
    [answer] = await chat.say("how long should I hold a plank")
    assert answer.kind is Kind.FAQ
    [workout] = await chat.say("/today")
    assert workout.kind is Kind.WORKOUT
    [done] = await chat.say("/done")
    assert done.topic == "storage_error" and "try again" in done.text


async def test_settings_turn_on_reminders_then_move_time_zone(chat: Chat, store) -> None:
    chat.now = NOON
    await chat.say("/settings")
    await chat.press("Reminders")
    [reply] = await chat.press("Yes")
    assert reply.kind is Kind.REMINDER and "Mon, Wed, Fri at 18:00 UTC" in reply.text
    key = UserKey("test", "u1")
    utc_due = (await store.get_reminder(key)).next_due_at
    await chat.say("/settings")
    await chat.press("Time zone")
    [reply] = await chat.say("Tokyo")
    assert "Asia/Tokyo" in reply.text and "Saved" in reply.text
    sched = await store.get_reminder(key)
    # Same local days and time in the new zone: 18:00 in Tokyo is 09:00 UTC.
    assert sched.timezone == "Asia/Tokyo" and sched.next_due_at != utc_due
    assert sched.next_due_at.hour == 9


async def test_pain_question_during_onboarding_resumes_onboarding(chat: Chat) -> None:
    await chat.say("/start")
    await chat.press("Beginner")
    await chat.say("/pain lots")
    replies = await chat.say("3")
    assert replies[0].text.startswith("Pain 3/10")
    assert replies[-1].topic == "equipment"  # back where the user left setup
    replies = await chat.press("Gym")
    assert replies[0].text.startswith("Equipment: gym")


@pytest.mark.parametrize(
    "text",
    [
        "show my streak",
        "how am I doing this week",
        "am I on track?",
        "how's my week looking",
        "show my chart",
        "how many days in a row have I trained",
        "how've I been doing, on track or slacking?",
    ],
)
async def test_progress_phrasings(chat: Chat, text: str) -> None:
    [reply] = await chat.say(text)
    assert reply.kind is Kind.PROGRESS


@pytest.mark.parametrize(
    "text",
    [
        "what's my workout today",
        "workout pls",
        "send me today's exercises",
        "what am I doing today?",
        "workout of the day?",
        "what have you got lined up for me this evening",
        "wat am i doin 2day",
    ],
)
async def test_workout_phrasings(chat: Chat, text: str) -> None:
    [reply] = await chat.say(text)
    assert reply.kind is Kind.WORKOUT


async def test_a_pain_question_mentioning_today_is_not_a_workout_request(chat: Chat) -> None:
    [reply] = await chat.say("what should I avoid today with my back pain")
    assert reply.kind is not Kind.WORKOUT


async def test_what_do_i_do_after_a_question_is_not_a_workout_request(chat: Chat) -> None:
    [reply] = await chat.say("felt a sharp twinge in my back in the middle of a set, what do i do")
    assert reply.kind is Kind.FAQ and reply.topic == "pain_during_exercise"
    [reply] = await chat.say("what should i do today")
    assert reply.kind is Kind.WORKOUT
