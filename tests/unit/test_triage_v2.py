"""Triage v2, as a user meets it: the examples of the issue, the three levels, the screening
question, triage on every path, reminders paused after a see-a-doctor reply."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta

import pytest

from bot.core.flood import FloodGate
from bot.core.ports import UserKey
from bot.core.safety import Triage, sentences
from bot.core.types import Kind
from bot.storage.memory import MemoryStore
from tests.conftest import NOON, Chat

EMERGENCY_WORDS = re.compile(r"\b(999|A&E)\b")
SAME_DAY_WORDS = re.compile(r"\b(111|GP today)\b")


def kind_of(replies: Sequence[object]) -> tuple[str, str | None]:
    first = replies[0]
    return str(first.kind), first.urgency  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text",
    [
        "lower back pain, it's hard to pee",
        "I can't control my bladder and my back hurts, what does that mean?",
        "what are these symptoms: numb groin and back pain",
        "/ask since my back flared my groin area feels like cotton wool",
    ],
)
async def test_missed_emergencies_now_get_the_emergency_answer(chat: Chat, text: str) -> None:
    replies = await chat.say(text)
    assert kind_of(replies) == ("red_flag", "emergency"), chat.text[:200]
    assert EMERGENCY_WORDS.search(replies[0].text)
    assert not SAME_DAY_WORDS.search(replies[0].text)  # no other level's instruction
    assert "walk" not in replies[0].text.lower()  # no exercise advice


@pytest.mark.parametrize(
    "text",
    [
        "my legs are wobbly after squats and my back is a bit tender",
        "how do I fold down the back seats in my car, the lever is stuck and I have tried "
        "everything for weeks now",
        "Rip, quick one: I tweaked my back doing squats yesterday and it's sore, should I deload?",
        "I strained my lower back lifting a sofa last week, it's just sore, there's no pain or "
        "numbness going down into my legs at all, when can I train again",
        # "up" in "wake me up" is not being up at night with pain
        "Care worker on nights, home at 7am with my back aching from lifting residents. Any "
        "gentle stretches before I sleep that won't wake me up?",
        # "cabin fever" is being stuck indoors, not a temperature
        "Six weeks after my back operation and the physio says walk daily. I've got terrible "
        "cabin fever stuck at home. How far should I be walking by now?",
        # the chest as a shape or a muscle group, not a symptom
        "I train mostly chest and arms. My upper back looks narrow compared to my chest and my "
        "lower back gets tight after rows. How many sets of rows should I do a week?",
    ],
)
async def test_false_emergencies_are_gone(chat: Chat, text: str) -> None:
    replies = await chat.say(text)
    assert replies[0].kind not in (Kind.RED_FLAG, Kind.SCREEN), chat.text[:200]


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("my back hurts and I can't feel my saddle area", "emergency"),
        ("back pain with a fever and chills since yesterday", "urgent"),
        ("my back hurts and I've lost a lot of weight without trying", "soon"),
    ],
)
async def test_each_level_says_only_its_own_instruction(chat: Chat, kb, text: str, level: str):
    [reply] = await chat.say(text)
    assert reply.kind is Kind.RED_FLAG and reply.urgency == level
    header = kb.safety.levels[level].header
    assert reply.text.startswith(header)  # what to do and how soon, first
    body = reply.text
    if level != "emergency":
        assert not EMERGENCY_WORDS.search(body), body
    if level != "urgent":
        assert not SAME_DAY_WORDS.search(body), body
    assert "https://" in body  # sources, linked


async def test_both_legs_escalate_leg_weakness_to_an_emergency(chat: Chat) -> None:
    replies = await chat.say("both my legs have gone weak and numb since my back went yesterday")
    assert kind_of(replies) == ("red_flag", "emergency")
    replies = await chat.say("my left leg has gone weak since my back went, foot keeps dragging")
    assert kind_of(replies) == ("red_flag", "urgent")


async def test_a_red_flag_is_never_dropped_by_the_flood_gate(make_chat) -> None:
    chat = make_chat(flood=FloodGate(limit=3, window=10.0))
    for _ in range(5):
        await chat.say("how long should I hold a plank")
    assert await chat.say("thanks") == []  # flooded: ordinary messages are dropped
    replies = await chat.say("my back hurts and I can't control my bladder")
    assert kind_of(replies) == ("red_flag", "emergency")


async def test_a_red_flag_in_the_middle_of_setup_leaves_the_flow_waiting(chat: Chat) -> None:
    await chat.say("/start")
    replies = await chat.say("I can't feel my groin and my back hurts")
    assert kind_of(replies) == ("red_flag", "emergency")
    replies = await chat.say("beginner")  # the setup question still takes its answer
    assert "Saved" in chat.text or "equipment" in chat.text.lower()


async def test_quoted_speech_and_long_messages_are_triaged(chat: Chat) -> None:
    replies = await chat.say("my dad can't control his bladder and his back is bad")
    assert kind_of(replies) == ("red_flag", "emergency")
    assert replies[0].text.startswith("🚨 Call 999 for them now")  # told what to do for him
    story = "I have been training for years and love deadlifts. " * 190
    replies = await chat.say(story + "Since Tuesday I can't control my bladder and my back hurts.")
    assert len(story) > 9_000 and kind_of(replies) == ("red_flag", "emergency")


async def test_non_english_text_with_english_symptom_words(chat: Chat) -> None:
    replies = await chat.say("me duele la espalda and I can't control my bladder desde ayer")
    assert kind_of(replies) == ("red_flag", "emergency")


def test_sentences_are_split_linearly_and_long_runs_are_cut() -> None:
    assert sentences("My back hurts. I can't pee!\nHelp") == [
        "My back hurts.",
        "I can't pee!",
        "Help",
    ]
    parts = sentences("word " * 5_000)
    assert all(len(p) <= 400 for p in parts) and len(parts) > 40


# ---------------------------------------------------------------------------- screening


class FixedScorer:
    """A model that is unsure about everything (0.5) pointing at a fever."""

    def __init__(self, score: float = 0.5) -> None:
        self.value = score

    def score_sentences(self, sentences: Sequence[str]) -> tuple[float, str | None]:
        return self.value, "fever"


async def test_unsure_model_asks_the_screening_question_then_answers(make_chat) -> None:
    chat = make_chat(triage_model=FixedScorer())
    replies = await chat.say(
        "my back feels odd and I am worried about it, how long to hold a plank?"
    )
    assert replies[0].kind is Kind.SCREEN and "Yes, one of these" in [
        b.label for b in replies[0].buttons
    ]
    replies = await chat.press("No, none")
    assert replies[0].topic == "screen_no"
    assert any(r.topic == "plank_hold_time" for r in replies), chat.text[:300]
    # asked once per conversation topic, not on every message
    replies = await chat.say("my back still feels a bit odd, how many sets of rows?")
    assert replies[0].kind is not Kind.SCREEN


async def test_screening_yes_leads_to_the_right_level(make_chat) -> None:
    chat = make_chat(triage_model=FixedScorer())
    await chat.say("my back feels strange today and I don't know what to do about it")
    await chat.press("Yes, one of these")
    replies = await chat.press("Numb groin")
    assert kind_of(replies) == ("red_flag", "emergency")


async def test_typed_no_answers_the_screening_question(make_chat) -> None:
    chat = make_chat(triage_model=FixedScorer())
    await chat.say("my back feels strange, what should I avoid with back pain")
    replies = await chat.say("no")
    assert replies[0].topic == "screen_no" and len(replies) >= 2


async def test_a_very_sure_model_gives_the_flag_reply(make_chat) -> None:
    chat = make_chat(triage_model=FixedScorer(0.99))
    replies = await chat.say("something odd is going on with my back and I feel hot and awful")
    assert kind_of(replies) == ("red_flag", "urgent")


async def test_a_sure_model_asks_when_the_message_never_mentions_its_flag(make_chat) -> None:
    # The model points at a fever, but nothing in the message is about a temperature or feeling
    # unwell: the screening question, not a same-day instruction.
    chat = make_chat(triage_model=FixedScorer(0.99))
    replies = await chat.say(
        "I barely leave my bed some days and my back gets stiffer, what small thing would help?"
    )
    assert replies[0].kind is Kind.SCREEN
    await chat.press("Yes, one of these")
    assert kind_of(await chat.press("Fever")) == ("red_flag", "urgent")


@pytest.mark.parametrize(
    "text",
    [
        "kept my wallet in my back pocket all day at the office and one bum cheek went numb and "
        "tingly. took it out and it went away within half an hour. back is fine. piriformis "
        "stretch?",
        "had a fever after my flu jab on monday, gone within a day and I feel normal. my back is "
        "fine. full back routine today?",
        "my legs felt weak and shaky after giving blood this morning, nurse said it's normal. "
        "back is fine. gym tonight?",
        "slipped off the climbing wall onto the big crash mat, landed on my back, totally fine. "
        "usual session tonight?",
        "after a deep sports massage both my legs tingled for about ten minutes, then it went "
        "and hasn't come back. is that normal?",
        # an idiom is not a mention for the model ("took my breath away"); checked and told as
        # having nothing to do with the back; a symptom that cleared up completely
        "my back went into spasm getting out of the car, the worst pain I've ever felt for about "
        "30 seconds, properly took my breath away. now a dull soreness. stretch or rest?",
        "I have a hiatus hernia so I get a burning in my chest after big meals, checked out for "
        "years. Nothing to do with my back, which is fine. Exercises to avoid after eating?",
        "last month I had some numbness in my leg, GP said all fine and it cleared up completely "
        "within a week. symptom free for three weeks. how do I ease back in?",
    ],
)
async def test_a_symptom_that_passed_asks_rather_than_alarms(chat: Chat, text: str) -> None:
    replies = await chat.say(text)
    assert replies[0].kind is not Kind.RED_FLAG, chat.text[:300]


async def test_a_red_flag_without_reassurance_still_gets_its_answer(chat: Chat) -> None:
    replies = await chat.say("my bum went numb this morning and it is still numb, back is agony")
    assert kind_of(replies) == ("red_flag", "emergency")


def test_the_shipped_model_is_scored_per_window(kb) -> None:
    from bot.app import load_triage_model

    model = load_triage_model(kb)
    assert model is not None
    triage = Triage.build(kb.safety, model)
    calm = "I love deadlifts and my back feels great. " * 40
    # length alone does not raise the score
    assert triage.assess(calm).score < 0.35
    assert triage.assess("I've lost all feeling down there and my back is agony").outcome.value in (
        "flag",
        "screen",
    )


# ---------------------------------------------------------------------------- reminders


async def test_reminders_pause_for_a_week_after_an_urgent_reply(chat: Chat, store: MemoryStore):
    chat.now = NOON
    await chat.say("/remind mon wed fri 18:00")
    replies = await chat.say("back pain with a fever and chills since yesterday")
    assert replies[0].urgency == "urgent" and "paused your training reminders" in replies[0].text
    sched = await store.get_reminder(UserKey("test", "u1"))
    assert sched is not None and sched.paused_until == NOON.date() + timedelta(days=7)
    assert sched.next_due_at is not None and sched.next_due_at.date() >= sched.paused_until
    await chat.press("Keep reminders on")
    sched = await store.get_reminder(UserKey("test", "u1"))
    assert sched is not None and sched.paused_until is None


@pytest.mark.parametrize(
    ("text", "level", "lead"),
    [
        ("my wife has a fever and her back is killing her, she's shivering", "urgent", "They need"),
        (
            "my mum has lost a lot of weight without trying and her back aches",
            "soon",
            "They should",
        ),
        (
            "he fell off a ladder and can't feel his legs, his back is bad",
            "emergency",
            "🚨 Call 999 for them",
        ),
    ],
)
async def test_a_red_flag_about_someone_else_says_what_to_do_for_them(
    chat: Chat, store: MemoryStore, text: str, level: str, lead: str
) -> None:
    chat.now = NOON
    await chat.say("/remind mon wed fri 18:00")
    replies = await chat.say(text)
    assert replies[0].urgency == level and lead in replies[0].text.splitlines()[0]
    # Their symptoms are no reason to stop the user's own reminders.
    assert "paused" not in replies[0].text
    sched = await store.get_reminder(UserKey("test", "u1"))
    assert sched is not None and sched.paused_until is None


@pytest.mark.parametrize(
    "text",
    [
        "my dad says I can't control my bladder and my back hurts",
        "my husband noticed I can't feel my groin since my back went",
    ],
)
async def test_the_users_own_red_flag_told_with_a_relative_in_it_is_theirs(
    chat: Chat, text: str
) -> None:
    replies = await chat.say(text)
    assert kind_of(replies) == ("red_flag", "emergency")
    assert replies[0].text.startswith("🚨 Call 999 now")


async def test_soon_level_does_not_pause_reminders(chat: Chat, store: MemoryStore) -> None:
    chat.now = NOON
    await chat.say("/remind mon wed fri 18:00")
    replies = await chat.say("my back hurts and I've lost a lot of weight without trying")
    assert replies[0].urgency == "soon" and "paused" not in replies[0].text


async def test_severe_pain_score_says_when_to_call_111(chat: Chat) -> None:
    [reply, *_] = await chat.say("/pain 9")
    assert "Pain 9/10 noted." in reply.text and "111" in reply.text and "https://" in reply.text
    [reply, *_] = await chat.say("/pain 5")
    assert "111" not in reply.text


async def test_a_rule_hit_the_model_is_sure_about_is_asked_not_alarmed(make_chat) -> None:
    # The model scores 0.01: the rule is not certain, so the screening question comes instead,
    # and "yes" still leads to the emergency reply.
    chat = make_chat(triage_model=FixedScorer(0.01))
    replies = await chat.say("my back hurts and I can't control my bladder")
    assert replies[0].kind is Kind.SCREEN
    await chat.press("Yes, one of these")
    replies = await chat.press("Bladder or bowel")
    assert kind_of(replies) == ("red_flag", "emergency")


async def test_a_doubted_rule_flag_is_not_lost_when_the_screening_was_just_asked(
    make_chat,
) -> None:
    """A rule fires but the model doubts it: the screening question. Asked again within its
    quiet period, the rule's own reply comes instead of an ordinary answer. (In English: the
    model never doubts a message in another language, test_triage_languages.py.)"""
    chat = make_chat(triage_model=FixedScorer(0.01))
    [first] = await chat.say("fever for 2 days and my back hurts, is this normal after gym?")
    assert first.kind is Kind.SCREEN
    [second] = await chat.say("I have a fever and my back aches")
    assert second.kind is Kind.RED_FLAG and second.topic == "fever", second.text[:80]
    assert second.urgency == "urgent"


@pytest.mark.parametrize(
    ("text", "level"),
    [
        (
            "my nan has osteoporosis and had a small slip in the kitchen, her back really hurts",
            "urgent",
        ),
        ("beim Husten my back pain is extreme, viel schlimmer", "urgent"),
        ("he fell out of a tree onto his back and it hurts in the middle", "emergency"),
    ],
)
async def test_slips_falls_and_mixed_language_coughs_get_their_level(
    chat: Chat, text: str, level: str
) -> None:
    replies = await chat.say(text)
    assert kind_of(replies) == ("red_flag", level)


async def test_tagalog_both_legs_numb_is_caught(chat: Chat) -> None:
    replies = await chat.say(
        "sobrang sakit ng likod, parehong binti ko ay namamanhid since kahapon"
    )
    assert replies[0].kind in (Kind.RED_FLAG, Kind.SCREEN)


@pytest.mark.parametrize(
    "text",
    [
        "that new back workout is sick bro, smashed it 3 times this week",
        "Since I started cycling my lower back feels tight by the evening. No numbness in the"
        " saddle area or legs. Is this a bike fit issue?",
        # tired legs the day after hard exercise
        "Did a long hike on Saturday with a heavy pack. Sunday now and my legs feel weak and"
        " tired, lower back a bit stiff. Ok to do a gentle swim?",
        # a lifting cue two sentences away from an achy back is not chest pain
        "On the last reps my lower back rounds and I feel a tight achy feeling the next day. I"
        ' tried "chest up" but it still happens when I\'m tired. Should I drop the weight?',
    ],
)
async def test_slang_and_a_denied_saddle_symptom_are_not_red_flags(chat: Chat, text: str) -> None:
    replies = await chat.say(text)
    assert replies[0].kind not in (Kind.RED_FLAG, Kind.SCREEN), replies[0].text[:120]


@pytest.mark.parametrize(
    "text",
    [
        "no numbness in the saddle area but I can't control my bladder and my back hurts",
        "I was sick and shivery all night with a temperature and my back aches",
        "I kept my chest up on squats and now my chest feels tight and I can't breathe, back"
        " hurts too",
        "Did heavy squats yesterday. Today both my legs feel weak and numb and my back hurts",
        "Ran a marathon on Sunday. Now my left leg is getting weaker and my foot drags",
    ],
)
async def test_a_denied_symptom_does_not_hide_another(chat: Chat, text: str) -> None:
    replies = await chat.say(text)
    assert replies[0].kind is Kind.RED_FLAG, replies[0].text[:120]


def test_a_trip_and_pain_that_got_weaker_are_not_leg_weakness(kb) -> None:
    # The rules alone: the shipped model still scores this message as sure leg weakness
    # (0.87), which is left for the next retrain to judge.
    rules = Triage.build(kb.safety)
    text = (
        "Sciatica in my left leg since a camping trip three weeks ago, physio says disc"
        " irritation. It reached my foot at first, now it's only in my thigh and much weaker."
    )
    assert rules.check(text) == []
    assert [f.id for f in rules.check("I keep tripping over my own feet and my back aches")] == [
        "leg_weakness"
    ]


async def test_a_message_holding_the_models_marker_words_gets_an_answer(chat: Chat) -> None:
    # The model marks sentence and clause breaks with stand-in words; typed with an apostrophe
    # they once survived the check and stopped the reply with an error.
    for text in ("my back qxsentence'qx hurts. what helps?", "my back qxclause'qx hurts a bit"):
        replies = await chat.say(text)
        assert replies and "went wrong" not in replies[0].text, replies[0].text


# Misses read from retired sealed set I (tests/data/redflag_retired_i.jsonl), each fixed in
# safety.yaml: the reply a user gets now.
@pytest.mark.parametrize(
    ("text", "urgency"),
    [
        (
            "Bonjour, j'ai mal au dos depuis trois jours et depuis ce matin j'ai des fourmis dans"
            " les deux jambes, et elles sont faibles, j'ai du mal à marcher.",
            "emergency",
        ),
        (
            "Ciao, all'improvviso ho sentito un dolore fortissimo tra le scapole, come uno"
            " strappo, e non passa.",
            "emergency",
        ),
        ("car flipped on the highway last night, my back hurts a lot. gym tmrw?", "emergency"),
        (
            "I've had this lump between my shoulder blades for about three weeks. It's hard,"
            " doesn't move much, and it seems bigger than when I first found it. I'm assuming"
            " it's a knot in the muscle. Can a massage gun break it up?",
            "urgent",
        ),
        (
            "Back pain for a week, and going to the loo for number twos hurts so much, pushing"
            " causes a bad pain in my lower back. Coughing is the same.",
            "urgent",
        ),
        (
            "Dad had bowel cancer three years ago, they said they got it all. For the last few"
            " weeks he's been complaining about his back and he hasn't done anything to it.",
            "urgent",
        ),
        (
            "Lumbar pain about 6/10. Also nearly didn't make it to the loo for a number two this"
            " morning, zero warning.",
            "emergency",
        ),
    ],
)
async def test_retired_set_i_misses_get_their_level(chat: Chat, text: str, urgency: str) -> None:
    replies = await chat.say(text)
    assert kind_of(replies) == ("red_flag", urgency), replies[0].text[:160]


@pytest.mark.parametrize(
    "text",
    [
        "First leg day in three years yesterday, squats, lunges, RDLs. Today I can barely walk"
        " down the stairs, my hamstrings are screaming and my lower back feels achy like I've"
        " been beaten up. It feels muscular, just sore. Upper body tomorrow or rest?",
        "Watching the football and my heart can't take this, chest tight with nerves 😂 is it ok"
        " to work out late at night?",
        "Just got back from my cousin's wedding, the speeches were so emotional I had a lump in"
        " my throat, and now the post-party crash. Should I do a double session today?",
        "My little one has a fever and has been off nursery, can you pause my plan for a week?",
        "Watching the football, chest tight with nerves, is it ok to train late?",
        "Nearly had a heart attack when the bar actually moved off the floor, 250kg deadlift PR!"
        " How do I know when I'm ready for a meet?",
        "My heart was in my mouth when the exam results came out, my legs turned to jelly"
        " walking to the notice board, but I passed! Where do I start with running?",
        "that horror film sent shivers down my spine",
        "I was so nervous before my driving test that I nearly pooed my pants, honestly. Is"
        " there any way to sit better in the car?",
        "My mate told me that back pain which is worse at night is a serious warning sign. Mine"
        " is the opposite, I sleep like a log, it's only after long meetings that it aches.",
        "I'm 68 and I've had a stiff back for years, wear and tear the doctor said. It's a bit"
        " stiffer this week since the cold weather came in. Is swimming ok?",
        "Preseason started Monday with sprints and hill runs. Now both my thighs and calves are"
        " so sore I can barely walk down the stairs, and my lower back is achy too.",
        "broke my back clearing the loft today (not literally!) just aching",
        "fever pitch at the derby last night, what a match",
        "My physio asked me to keep an eye out for red flags. I haven't had any — no numbness, no"
        " problems with wee or poo, no weakness, no fever, sleeping okay. The back pain is slowly"
        " improving. Just want to know when I can go back to playing tennis.",
        "Had a bowel cancer scare last year — colonoscopy was completely clear, no cancer at all."
        " Now I've got ordinary back ache after two days of decorating. How long will it last?",
        "Our team's back four were a shambles on Saturday and the keeper was numb with cold by"
        " half-time. We lost 4-1 to the bottom side. How do I coach a back line?",
        # a symptom denied after it is named
        "Before you ask: bladder control perfect, no leaks. Back just sore from the climbing wall.",
        "Back only hurts when I bend forward to load the dishwasher. Coughing and sneezing are"
        " fine. Normal?",
        # furniture, pets, warnings and denials
        "The leg of our dining table is wobbly and the screw keeps falling out. Wood glue?",
        "My friend's dog fell off the sofa and has been sorry for himself, but he's eating and"
        " wagging. Vet or wait a day?",
        "Had a cortisone shot in my knee and the GP warned me about signs of infection. I haven't"
        " had a fever and the knee's fine, but my back hurts from limping.",
        "Some people on here talk about bladder issues with back pain - I've had none of that, I"
        " just go a lot because I'm pregnant. Any safe stretches?",
        "Sciatica down my right leg to the calf, diagnosed two weeks ago. No weakness, numbness"
        " hasn't spread anywhere, and bladder's normal. How long before five-a-side?",
        "I was breathless on the stairs with a heavy chest cold last week but that's cleared up,"
        " now only a bit of mid back stiffness",
        "that exam broke my back, so glad its over",
        "the vet says our old labrador's back legs are getting weak, is there a harness that helps",
        "my partner snores much worse when he sleeps on his back, do those pillows work?",
        "half the office is off sick with a chest infection going round, should I work from home",
        "my hot flushes and night sweats are the menopause, HRT has helped; my back just aches from"
        " gardening",
        "our cat has a tumour on her spine, lifting her basket hurts my back a bit, tips?",
        "watched a documentary where a man's back pain turned out to be cancer, mine is from the"
        " gym, it's fine",
        "does sneezing make back pain worse? just curious, mine is nearly better",
        "tripped on the step but didn't even hit the ground, my back's a tiny bit sore",
        "Got a chest cold and the cough is annoying, my upper back aches from all the coughing fits",
    ],
)
async def test_idioms_and_stories_get_no_red_flag(chat: Chat, text: str) -> None:
    replies = await chat.say(text)
    assert replies[0].kind is not Kind.RED_FLAG, replies[0].text[:160]


@pytest.mark.parametrize(
    "text",
    [
        "my back hurt when i coughed back in march when i had covid. all fine now for months,"
        " can i do deadlifts",
        "kidney infection last year gave me awful back pain and a fever, antibiotics sorted it"
        " and i've been fine since",
        "lost feeling in my toes in the snow yesterday, warmed up and they're fine, can i run",
        "Did a 100-mile sportive on Sunday and my bum was numb for about an hour after getting off"
        " the bike. Normal feeling came back fully by the evening. Should I get a new saddle?",
        "my nan had a fall and broke her hip years ago, she's fine now. my back is just stiff"
        " from painting the fence",
        "I've got a soft lump on my lower back that my GP looked at last year and said is a"
        " lipoma, harmless, and it hasn't changed at all since. Is foam rolling ok?",
        "I sat on the loo too long and when I stood up both legs had gone dead and tingly. It"
        " lasted maybe thirty seconds and then was totally normal. Mild backache from work.",
        "My GP asked loads of questions about bladder, bowels, numbness and fever, and I said no"
        " to all of them. She said it's a simple back strain.",
    ],
)
async def test_an_episode_that_is_over_asks_rather_than_alarms(chat: Chat, text: str) -> None:
    replies = await chat.say(text)
    assert replies[0].kind is Kind.SCREEN, replies[0].text[:160]


def test_a_history_of_cancer_is_not_reassured_by_recovery(kb) -> None:
    # "fully recovered" ends an episode, not a history: the cancer flag still answers.
    triage = Triage.build(kb.safety)
    text = "I had breast cancer five years ago and fully recovered, now new back pain for a month"
    assert triage.assess(text).outcome.value == "flag"


async def test_a_doctors_screening_question_reported_is_not_a_symptom(chat: Chat) -> None:
    denied = (
        "When I saw my GP last month she asked if I'd had any trouble peeing or numbness around"
        " my groin. I hadn't, and my back's nearly gone now. When can I go back to the gym?"
    )
    assert (await chat.say(denied))[0].kind is not Kind.RED_FLAG
    said_yes = (
        "My GP asked if I'd had any trouble peeing and I said yes, it's been hard to pee since"
        " my back went."
    )
    assert kind_of(await chat.say(said_yes)) == ("red_flag", "emergency")


@pytest.mark.parametrize(
    "text",
    [
        "dad's got prostate cancer, not me. my back hurts from carrying his wheelchair up stairs",
        "My sister had a kidney infection with back pain; mine is just a pulled muscle from"
        " moving her bed.",
        "If someone has back pain and can't pee, is that an emergency? Asking for a quiz night"
        " question.",
        "The chest pain I had was heartburn, GP did an ECG and it was normal, and it's gone. Back"
        " is just sore from moving boxes.",
        "came off my bike onto grass, a paramedic mate looked me over and I'm fine, bit sore",
        "my aunty had cancer before, my own back is just a strain from moving house",
        "what would a tearing pain in the back mean? it's for a uni assignment, no pain myself",
    ],
)
async def test_someone_elses_illness_or_a_question_about_signs_asks_first(
    chat: Chat, text: str
) -> None:
    # Not an alarm; the screening question still leads to the urgent reply on "Yes".
    [first, *_] = await chat.say(text)
    assert first.kind in (Kind.SCREEN, Kind.FAQ, Kind.SUGGEST, Kind.OUT_OF_SCOPE), first.text[:160]


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # a serious accident is 999 (NHS), not same-day care
        ("horse threw me and I landed flat on my back across a fence post", "emergency"),
        (
            "fell down a full flight of concrete stairs at work an hour ago and whacked my back on"
            " the edge of the steps, it's getting worse",
            "emergency",
        ),
        ("took a massive tackle at rugby, heard a crack, back's been throbbing since", "emergency"),
        # landing on the head, a vehicle throwing a cyclist over its bonnet, both legs now: 999
        (
            "came off the trampoline and landed on my head and neck, my spine hurts and my"
            " fingers tingle",
            "emergency",
        ),
        (
            "a van knocked me off my bike this morning and I went over the bonnet, back is sore",
            "emergency",
        ),
        (
            "sciatica in my left leg for weeks, today the right leg has joined in and both feel"
            " numb",
            "emergency",
        ),
        # a chest infection's cough that stabs the back is the coughing flag's (same day)
        ("chest infection and every time I cough the back pain stabs like a knife", "urgent"),
        # one leg ("my leg's gone weak") is same day; both legs would be 999
        ("my leg's gone weak on me, the right one, ever since I hurt the back lifting", "urgent"),
        # weeks of rest is self-care not working (soon), not pain at rest (same day)
        (
            "My wife's back hasn't improved after 6 weeks of rest and exercises, if anything"
            " she's worse",
            "soon",
        ),
    ],
)
async def test_the_level_follows_what_was_said(chat: Chat, text: str, level: str) -> None:
    assert kind_of(await chat.say(text)) == ("red_flag", level)


@pytest.mark.parametrize(
    "text",
    [
        # "normal" asked about is not a denial, nor a "fine" in another clause
        "my bladder is leaking, is that normal with back pain?",
        "peeing feels fine but I can't feel my bum on the toilet seat since my back went",
        "no problems with my legs but I can't control my bladder since the back pain started",
    ],
)
async def test_a_denial_reaches_only_what_it_denies(chat: Chat, text: str) -> None:
    assert kind_of(await chat.say(text)) == ("red_flag", "emergency")


async def test_a_negated_comma_list_denies_every_item(chat: Chat) -> None:
    denied = "There's no tearing, ripping or sudden pain. It's a gradual ache from gardening."
    assert (await chat.say(denied))[0].kind is not Kind.RED_FLAG
    # without the closing "or", a comma still ends what "no" denies
    said = "no fever, numbness round my bum and groin since my back went"
    assert kind_of(await chat.say(said)) == ("red_flag", "emergency")
