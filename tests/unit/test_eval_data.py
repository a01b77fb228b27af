"""Validate the evaluation sets in tests/data (dev_questions.jsonl, holdout_questions.jsonl).

The ids below are a copy of the contract in the team notes (kb_ids.md), kept here on purpose:
the eval data must not be written against the knowledge base's own phrasings, so this test
checks it against the agreed id list, not against bot/knowledge/*.yaml.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
DEV = DATA_DIR / "dev_questions.jsonl"
HOLDOUT = DATA_DIR / "holdout_questions.jsonl"
HOLDOUT2 = DATA_DIR / "holdout2_questions.jsonl"
HOLDOUT3 = DATA_DIR / "holdout3_questions.jsonl"
SETS = [DEV, HOLDOUT, HOLDOUT2, HOLDOUT3]
SET_IDS = ["dev", "holdout", "holdout2", "holdout3"]

KINDS = frozenset(
    {"faq", "red_flag", "workout", "reminder", "progress", "smalltalk", "out_of_scope", "command"}
)

FAQ_IDS = frozenset(
    {
        "back_pain_prevalence",
        "best_back_workout",
        "aerobic_vs_resistance",
        "low_impact_exercise",
        "regular_exercise_benefits",
        "exercise_frequency",
        "posture_benefits",
        "core_strength_benefits",
        "injury_prevention",
        "relieve_back_pain",
        "avoid_with_back_pain",
        "special_considerations",
        "exercise_when_pain",
        "pain_during_exercise",
        "soreness_vs_injury",
        "when_see_doctor",
        "warm_up",
        "stretching_back",
        "proper_form",
        "bracing_core",
        "neutral_spine",
        "listen_to_body",
        "rest_between_sets",
        "sets_and_reps",
        "progressive_overload",
        "rest_days",
        "beginner_start",
        "home_back_workout",
        "no_pullup_bar",
        "dumbbell_back_workout",
        "gym_back_workout",
        "workout_duration",
        "deadlift_safe_back",
        "deadlift_vs_rdl",
        "cant_do_pullup",
        "pullup_vs_chinup",
        "pullup_grip_width",
        "lat_pulldown_vs_pullup",
        "behind_neck_pulldown",
        "rows_types",
        "plank_hold_time",
        "plank_variations",
        "side_plank_benefits",
        "crunches_back_pain",
        "back_extension_safe",
        "good_morning_safe",
        "shoulder_press_back",
        "push_ups_back",
        "yoga_for_back",
        "pilates_for_back",
        "swimming_for_back",
        "walking_for_back",
        "running_back_pain",
        "lifting_technique",
        "twisting_back",
        "sitting_posture",
        "sleeping_position",
        "heat_or_ice",
        "painkillers",
        "sciatica_exercise",
        "herniated_disc_exercise",
        "pregnancy_back_exercise",
        "older_adults",
        "weight_belt",
        "back_muscles_anatomy",
        "upper_vs_lower_back",
        "chronic_back_pain",
        "stiff_back_morning",
        "back_pain_after_workout",
        "physio_vs_trainer",
    }
)

EXERCISE_IDS = frozenset(
    {
        "deadlift",
        "romanian_deadlift",
        "pull_up",
        "chin_up",
        "band_assisted_pull_up",
        "negative_pull_up",
        "bent_over_row",
        "inverted_row",
        "dumbbell_row",
        "lat_pulldown",
        "back_extension",
        "push_up",
        "incline_push_up",
        "plank",
        "side_plank",
        "good_morning",
        "shoulder_press",
        "bird_dog",
        "dead_bug",
        "glute_bridge",
        "cat_cow",
        "childs_pose",
        "side_bend",
        "superman",
        "reverse_fly",
        "band_pull_apart",
        "knee_to_chest",
        "pelvic_tilt",
        "wall_angel",
        "brisk_walk",
    }
)

RED_FLAG_IDS = frozenset(
    {
        "cauda_equina",
        "leg_weakness",
        "fever",
        "trauma",
        "weight_loss",
        "cancer_history",
        "night_pain",
        "chest_pain",
    }
)

# Every id a faq line may name: FAQ entries and exercises ("how do I do a ...").
TOPIC_IDS = FAQ_IDS | EXERCISE_IDS

# A list topic is for a genuinely ambiguous question; more than this share means the set is soft.
MAX_LIST_SHARE = 0.10
MAX_LIST_LEN = 3


def normalize(text: str) -> str:
    """Key for duplicate detection: case and runs of whitespace do not make a new message."""
    return re.sub(r"\s+", " ", text).strip().casefold()


def topics_of(row: dict[str, Any]) -> list[str]:
    """The acceptable topic ids of a row, as a list (empty when it has none)."""
    topic = row.get("topic")
    if isinstance(topic, str):
        return [topic]
    if isinstance(topic, list):
        return [t for t in topic if isinstance(t, str)]
    return []


def check_row(row: Any) -> list[str]:
    """Return the problems with one parsed line (empty list when it is valid)."""
    if not isinstance(row, dict):
        return ["line is not a JSON object"]
    errors: list[str] = []
    unknown = set(row) - {"text", "kind", "topic"}
    if unknown:
        errors.append(f"unknown keys {sorted(unknown)}")
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        errors.append("text must be a non-empty string")
    kind = row.get("kind")
    if kind not in KINDS:
        errors.append(f"kind {kind!r} is not one of {sorted(KINDS)}")
        return errors
    topic = row.get("topic")
    if kind in ("faq", "red_flag"):
        allowed = TOPIC_IDS if kind == "faq" else RED_FLAG_IDS
        if isinstance(topic, str):
            if topic not in allowed:
                errors.append(f"unknown {kind} topic {topic!r}")
        elif isinstance(topic, list) and kind == "faq":
            if not 2 <= len(topic) <= MAX_LIST_LEN:
                errors.append(f"topic list must have 2..{MAX_LIST_LEN} ids, got {len(topic)}")
            if len(set(map(str, topic))) != len(topic):
                errors.append("topic list repeats an id")
            for t in topic:
                if not isinstance(t, str) or t not in allowed:
                    errors.append(f"unknown faq topic {t!r} in list")
        else:
            errors.append(
                f"{kind} needs a topic id string (faq may use a short list), got {topic!r}"
            )
    elif topic is not None:
        errors.append(f"kind {kind} must not carry a topic, got {topic!r}")
    return errors


def load(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Parse a JSONL file; return the valid-looking rows and every problem found."""
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            errors.append(f"{path.name}:{lineno}: blank line")
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{path.name}:{lineno}: not JSON ({exc})")
            continue
        problems = check_row(row)
        errors.extend(f"{path.name}:{lineno}: {p}" for p in problems)
        if isinstance(row, dict):
            rows.append(row)
    logger.debug("loaded %s rows from %s", len(rows), path)
    return rows, errors


def duplicates(texts: list[str]) -> list[str]:
    """Texts that occur more than once after normalization."""
    counts = Counter(normalize(t) for t in texts)
    return sorted(t for t, n in counts.items() if n > 1)


# --- the validator itself must be able to say no -------------------------------------------


@pytest.mark.parametrize(
    "row",
    [
        {"text": "", "kind": "faq", "topic": "plank_hold_time"},
        {"text": "plank?", "kind": "faqs", "topic": "plank_hold_time"},
        {"text": "plank?", "kind": "faq"},
        {"text": "plank?", "kind": "faq", "topic": "plank_time"},
        {"text": "plank?", "kind": "faq", "topic": ["plank_hold_time"]},
        {"text": "plank?", "kind": "faq", "topic": ["plank", "plank", "side_plank"]},
        {"text": "plank?", "kind": "faq", "topic": ["plank", "nope"]},
        {"text": "peed myself", "kind": "red_flag", "topic": "plank"},
        {"text": "peed myself", "kind": "red_flag", "topic": ["cauda_equina", "fever"]},
        {"text": "hi", "kind": "smalltalk", "topic": "greeting"},
        {"text": "hi", "kind": "smalltalk", "extra": 1},
        ["not", "an", "object"],
    ],
)
def test_check_row_rejects_bad_rows(row: Any) -> None:
    assert check_row(row), f"validator accepted {row!r}"


@pytest.mark.parametrize(
    "row",
    [
        {"text": "plank how long", "kind": "faq", "topic": "plank_hold_time"},
        {"text": "bird dog?", "kind": "faq", "topic": "bird_dog"},
        {"text": "sore", "kind": "faq", "topic": ["soreness_vs_injury", "back_pain_after_workout"]},
        {"text": "fell off a ladder", "kind": "red_flag", "topic": "trauma"},
        {"text": "workout pls", "kind": "workout"},
    ],
)
def test_check_row_accepts_good_rows(row: dict[str, Any]) -> None:
    assert check_row(row) == []


def test_duplicates_ignore_case_and_spacing() -> None:
    assert duplicates(["Plank  how long", "plank how long", "hi"]) == ["plank how long"]
    assert duplicates(["help", "/help"]) == []


# --- the data files ------------------------------------------------------------------------


@pytest.mark.parametrize("path", SETS, ids=SET_IDS)
def test_file_is_valid(path: Path) -> None:
    rows, errors = load(path)
    assert errors == []
    assert rows


@pytest.mark.parametrize("path", SETS, ids=SET_IDS)
def test_no_duplicates_within_file(path: Path) -> None:
    rows, _ = load(path)
    assert duplicates([r["text"] for r in rows]) == []


def test_no_duplicates_across_files() -> None:
    texts = [{normalize(r["text"]) for r in load(path)[0]} for path in SETS]
    shared = {t for i, a in enumerate(texts) for b in texts[i + 1 :] for t in a & b}
    assert sorted(shared) == []


@pytest.mark.parametrize(
    ("path", "minimum"),
    [(DEV, 280), (HOLDOUT, 100), (HOLDOUT2, 100), (HOLDOUT3, 100)],
    ids=SET_IDS,
)
def test_size_and_every_kind_present(path: Path, minimum: int) -> None:
    rows, _ = load(path)
    assert len(rows) >= minimum
    assert {r["kind"] for r in rows} == KINDS


@pytest.mark.parametrize("path", SETS, ids=SET_IDS)
def test_list_topics_are_rare(path: Path) -> None:
    rows, _ = load(path)
    faq = [r for r in rows if r["kind"] == "faq"]
    listed = [r for r in faq if isinstance(r.get("topic"), list)]
    assert len(listed) <= MAX_LIST_SHARE * len(faq)


@pytest.mark.parametrize("path", SETS, ids=SET_IDS)
def test_every_red_flag_is_covered(path: Path) -> None:
    rows, _ = load(path)
    seen = {t for r in rows if r["kind"] == "red_flag" for t in topics_of(r)}
    assert sorted(RED_FLAG_IDS - seen) == []


def test_dev_covers_every_faq_twice_and_every_exercise_once() -> None:
    rows, _ = load(DEV)
    counts = Counter(t for r in rows if r["kind"] == "faq" for t in topics_of(r))
    assert sorted(i for i in FAQ_IDS if counts[i] < 2) == []
    assert sorted(i for i in EXERCISE_IDS if counts[i] < 1) == []
