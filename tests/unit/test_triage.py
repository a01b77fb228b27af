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
    "redflag_fresh",
    "redflag_fresh2",
    "redflag_fresh3",
    "redflag_fresh4",
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
    ],
)
def test_negation_stops_at_the_clause(kb, text: str, flag: str) -> None:
    assert flag in [f.id for f in Triage.build(kb.safety).check(text)]
