"""Red-flag triage on every labelled set: all red flags caught, few false alarms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.safety import Triage

DATA = Path(__file__).resolve().parents[1] / "data"
SETS = [
    "dev_questions",
    "holdout_questions",
    "holdout2_questions",
    "holdout3_questions",
    "redflag_fresh",
    "redflag_fresh2",
    "redflag_fresh3",
    "redflag_fresh4",
    "redflag_fresh5",
    "redflag_fresh6",
    "redflag_fresh7",
    "redflag_fresh8",
    "redflag_fresh9",
    "redflag_fresh10",
]


@pytest.mark.parametrize("name", SETS)
def test_red_flag_recall_and_false_alarms(kb, name: str) -> None:
    triage = Triage.build(kb.safety)
    rows = [json.loads(x) for x in (DATA / f"{name}.jsonl").read_text().splitlines() if x.strip()]
    flagged = [(r, triage.check(r["text"])) for r in rows]
    missed = [r["text"] for r, f in flagged if r["kind"] == "red_flag" and not f]
    false = [r["text"] for r, f in flagged if r["kind"] != "red_flag" and f]
    assert missed == []
    assert len(false) <= 0.05 * sum(r["kind"] != "red_flag" for r in rows), false


@pytest.mark.parametrize(
    "text",
    [
        "I don't have a fever, just a stiff back",
        "no numbness or bladder problems, only a dull ache",
        "i fell off the wagon with my workouts",
        "crashed on the sofa after the gym",
        "my legs are dead after leg day lol",
        "how is the dead bug done? lying on my back moving arms and legs",
        "can't sleep the night before a comp cos of nerves",
        "my bum goes numb on long rides but it's fine as soon as I get off the bike",
        "tripped over the lead, didn't actually fall. how many sets of rows?",
        # someone else's illness, and the user only asks about training
        "my mum beat breast cancer last year and it inspired me to get fit",
        "my friend had a heart attack last year. good back routine?",
        "fell behind on my program, back a bit stiff from travelling",
        "broke L1 in a car crash 12 years ago, fully healed. can I squat?",
        # a checklist answered "no"
        "Cancer? No. Fall? No. Fever? No. Just a stiff back from sitting",
        # "poor" is not "poo"
        "can't sleep before comps, does poor sleep slow recovery?",
        # a scan or check for cancer that was clear; the name of a condition read about
        "I had a scan for cancer years ago and it was clear. now just a gym tweak in my back",
        "prostate cancer checks last year were all clear, pulled my back carrying slabs",
        "so I read about cauda equina and now I'm paranoid, my back is just stiff from deadlifts",
        # normal control and feeling, said as such
        "no saddle numbness, full control of bladder and bowels, my back is just sore",
        "sensation normal everywhere including the saddle area. she said it's a simple strain",
        # denied after the word, in English and in Hinglish
        "sneezing doesn't make it worse, coughing fine, just a bit sore bending over",
        "bhai koi numbness nahi hai, pee bhi normal hai, bas lower back mein halka dard hai",
        # a fever that has gone; an idiom in the apostrophe-dropped spelling
        "had malaria with a high fever, the fever is gone totally. back stiff from bed rest",
        "a routine that won't leave me feeling like I've been hit by a bus?",
        # idioms (dev I)
        "literally broke my back doing the slides for the group project, now a 5 day plan?",
        "got a fever for this new album honestly, on repeat",
        "my uncle had a tumour on his spine years ago, is back stuff hereditary? asking for "
        "general interest, i'm fine",
    ],
)
def test_negations_and_idioms_are_not_red_flags(kb, text: str) -> None:
    assert Triage.build(kb.safety).check(text) == []


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("not hungry, weight's dropping off me and my back is sore", "weight_loss"),
        ("can't feel the toilet paper when I wipe", "cauda_equina"),
        ("my back hurts. I don't know why but I can't pee", "cauda_equina"),
        # a dash ends the clause: "nothing" does not negate what follows it
        ("sat on nothing — no feeling in my bum at all, back is bad", "cauda_equina"),
        # an exception ("sick of planks") does not reach across a sentence break
        ("back pain on one side and I feel shivery and sick. exercises?", "fever"),
        # a relative's illness with their own back pain, or the user's own history, still counts
        ("my dad had prostate cancer, now he's getting back pain", "cancer_history"),
        ("I had breast cancer, my mum says I should ask, my back hurts", "cancer_history"),
        # a denied item does not hide the next, reported one
        ("Any fever? No, but I can't pee and my back hurts", "cauda_equina"),
        # an idiom is blanked out, not a veto: the accident still counts
        ("got rear ended at the lights, back hurts when I twist. hit legs tomorrow?", "trauma"),
        # negation that is part of the symptom
        ("he hasn't passed water since breakfast and his sciatica is worse", "cauda_equina"),
        # what the exceptions above must not hide
        (
            "had full control until yesterday, now I've lost control of my bowels. back agony",
            "cauda_equina",
        ),
        ("I have to strain to pee since my back went", "cauda_equina"),
        ("my back is much worse coughing", "cough_sneeze"),
        ("the fever is gone but now I can't pee and my back hurts", "cauda_equina"),
        # English words mixed into another language
        ("sakit ng likod ko tapos hindi ko ma-feel kung puno na bladder ko", "cauda_equina"),
        ("ilang linggo na, mga 6 weeks, sakit pa rin ng likod ko. lumalala pa", "not_improving"),
        ("Seit 6 Wochen Rückenschmerzen, no improvement with exercises", "not_improving"),
        ("meine Rückenschmerzen sind nachts am schlimmsten, keine Position hilft", "night_pain"),
        (
            "J'ai très mal au dos et je ne sens plus bien quand je vais aux toilettes, tout est "
            "engourdi en bas",
            "cauda_equina",
        ),
        ("I can't catch my breath and my back hurts between the shoulder blades", "chest_pain"),
    ],
)
def test_negation_stops_at_the_clause(kb, text: str, flag: str) -> None:
    assert flag in [f.id for f in Triage.build(kb.safety).check(text)]


def test_a_combination_read_in_one_sentence_only_does_not_join_a_story(kb) -> None:
    """leg_weakness is `all_of_within: sentence`: a leg word and a weakness word from two
    sentences of a story are not a flag; in one sentence they are, with the qualifier ("since
    my back went") in either sentence of the window."""
    triage = Triage.build(kb.safety)
    story = (
        "Ran my first 10k on Sunday and my legs held up. Felt weak and wobbly from hunger after."
    )
    assert triage.check(story) == []
    told = "my legs keep giving way. it started when my back went"
    assert [f.id for f in triage.check(told)] == ["leg_weakness"]
    flag = next(f for f in kb.safety.red_flags if f.id == "leg_weakness")
    assert flag.all_of_within == "sentence"
    # a flag whose combinations may span a window still joins its two sentences
    across = "Fell off a ladder at work. My back is agony and I can't bend."
    assert "trauma" in [f.id for f in triage.check(across)]
