"""Progression rules (bot.core.progression): ladders from the shipped knowledge base, and the
step-up / step-down rules as properties over random histories (hypothesis)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core import progression as pg
from bot.core.ports import EQUIPMENT
from bot.kb import KnowledgeBase

MONDAY = date(2026, 11, 2)


def _all_doses(kb: KnowledgeBase) -> list[str]:
    plan = [i.dose for p in kb.plans for s in p.sessions for i in s.items if i.dose]
    return sorted(
        {*plan, *(x.dose for x in kb.exercises.values()), *(i.dose or "" for i in kb.warmup)} - {""}
    )


def _plan_items(kb: KnowledgeBase) -> list[tuple[str, str, str]]:
    return sorted(
        {
            (i.exercise, i.dose or kb.exercises[i.exercise].dose, p.equipment)
            for p in kb.plans
            if not p.gentle
            for s in p.sessions
            for i in s.items
        }
    )


# -- doses ---------------------------------------------------------------------------------


def test_every_dose_in_the_knowledge_base_reads_and_renders_back_unchanged(kb) -> None:
    doses = _all_doses(kb)
    assert len(doses) > 50
    for dose in doses:
        d = pg.parse_dose(dose)
        assert d is not None, dose
        assert d.render() == dose


def test_dose_steps_by_example() -> None:
    d = pg.parse_dose("2-3 × 15-30 s each side")
    assert d == pg.Dose((2, 3), 15, 30, "s", " each side")
    assert pg.more(d).render() == "2-3 × 25-40 s each side"
    assert pg.add_set(pg.more(d)).render() == "3-4 × 25-40 s each side"  # type: ignore[union-attr]
    assert pg.fewer(d).render() == "2-3 × 5-20 s each side"  # type: ignore[union-attr]
    assert pg.lighter(d).render() == "2 × 15-30 s each side"
    assert pg.lighter_text("3 × 10, 2 s hold") == "2 × 10, 2 s hold"
    assert pg.lighter_text("1 × 10") == "1 × 10"  # never below one set
    assert pg.lighter_text("8 slow reps") == "8 slow reps"  # no sets: as it is
    assert pg.fewer(pg.parse_dose("2 × 1")) is None  # type: ignore[arg-type]
    assert pg.parse_dose("as long as it feels good") is None


@given(
    sets=st.one_of(st.none(), st.tuples(st.integers(1, 5), st.integers(0, 2))),
    lo=st.integers(1, 60),
    span=st.integers(0, 20),
    unit=st.sampled_from(["", "s", "min"]),
)
def test_lighter_week_takes_sets_only_and_never_below_one(
    sets: tuple[int, int] | None, lo: int, span: int, unit: str
) -> None:
    d = pg.Dose(None if sets is None else (sets[0], sets[0] + sets[1]), lo, lo + span, unit)
    light = pg.lighter(d)
    assert (light.lo, light.hi, light.unit, light.rest) == (d.lo, d.hi, d.unit, d.rest)
    if d.sets is None:
        assert light.sets is None
    else:
        assert light.sets is not None and light.sets[0] == light.sets[1] >= 1
        assert light.sets[1] < d.sets[1] or d.sets[1] == 1
    assert pg.parse_dose(light.render()) == light


# -- ladders -------------------------------------------------------------------------------


def test_every_plan_item_has_a_ladder_with_the_plan_in_the_middle(kb) -> None:
    for ex, dose, equipment in _plan_items(kb):
        rungs, base = pg.ladder(kb, ex, dose, equipment)
        assert rungs[base] == pg.Rung(ex, dose, "as planned")
        assert len(rungs) >= 2, ex  # at least one way to move
        assert len(set(rungs)) == len(rungs)
        for r in rungs:
            x = kb.exercises[r.exercise]
            assert equipment in x.equipment or "none" in x.equipment  # nothing they can't do
        counts = [pg.parse_dose(r.dose) for r in rungs if r.exercise == ex]
        # Along the ladder the same exercise only ever gets more (reps/time, then a set).
        keys = [((c.sets or (1, 1))[1], c.hi) for c in counts if c is not None]
        assert keys == sorted(keys), (ex, dose, [r.dose for r in rungs])


def test_the_plank_ladder(kb) -> None:
    rungs, base = pg.ladder(kb, "plank", "2 × 20 s", "none")
    assert [(r.exercise, r.dose, r.label) for r in rungs] == [
        ("dead_bug", kb.exercises["dead_bug"].dose, "easier variant"),
        ("plank", "2 × 10 s", "less time"),
        ("plank", "2 × 20 s", "as planned"),
        ("plank", "2 × 30 s", "more time"),
        ("plank", "3 × 30 s", "one more set"),
        ("side_plank", kb.exercises["side_plank"].dose, "harder variant"),
    ]
    assert base == 2


def test_a_harder_variant_the_equipment_does_not_allow_is_left_out(kb) -> None:
    # Band pull-apart -> reverse fly needs dumbbells or a gym: not offered with a pull-up bar.
    rungs, _ = pg.ladder(kb, "band_pull_apart", "3 × 12-15", "pullup_bar")
    assert "reverse_fly" not in {r.exercise for r in rungs}
    rungs, _ = pg.ladder(kb, "band_pull_apart", "3 × 12-15", "gym")
    assert "reverse_fly" in {r.exercise for r in rungs}


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=200)
@given(data=st.data(), step=st.integers(-50, 50))
def test_any_stored_step_lands_on_the_ladder(kb, data: st.DataObject, step: int) -> None:
    ex, dose, equipment = data.draw(st.sampled_from(_plan_items(kb)))
    rungs, base = pg.ladder(kb, ex, dose, equipment)
    assert pg.rung_at(kb, ex, dose, equipment, step) in rungs
    assert -base <= pg.clamp(step, rungs, base) <= len(rungs) - 1 - base


@given(
    steps=st.dictionaries(st.sampled_from("abcdef"), st.integers(-3, 3)),
    tops=st.dictionaries(st.sampled_from("abcdef"), st.integers(0, 3), min_size=1),
)
def test_a_step_up_moves_each_exercise_at_most_one_rung_and_never_past_the_top(
    steps: dict[str, int], tops: dict[str, int]
) -> None:
    up = pg.stepped_up(steps, tops)
    assert set(up) == set(tops)
    for ex, n in up.items():
        was = steps.get(ex, 0)
        assert n <= max(tops[ex], was) and n - was <= 1
        assert n == min(was + 1, tops[ex])


@given(step=st.integers(-3, 3), bottom=st.integers(-3, 0))
def test_too_hard_moves_one_rung_down_and_never_below_the_bottom(step: int, bottom: int) -> None:
    down = pg.stepped_down({"plank": step, "bird_dog": 2}, "plank", bottom)
    assert down["bird_dog"] == 2  # only that exercise
    assert down["plank"] == max(step - 1, bottom)


# -- the rules -----------------------------------------------------------------------------


def _at(d: date, hour: int = 18) -> datetime:
    return datetime.combine(d, time(hour), tzinfo=UTC)


def _history(today: date, days: list[date], pain: list[tuple[date, int]] = (), **kw) -> pg.History:  # type: ignore[assignment]
    return pg.History(
        today=today,
        now=_at(today, 9),
        session_days=tuple(days),
        pain=tuple(pg.Reading(s, _at(d)) for d, s in pain),
        **kw,
    )


MWF = [MONDAY + timedelta(days=d) for d in (0, 2, 4, 7, 9, 11)]  # two weeks, Mon/Wed/Fri


def test_two_weeks_of_mon_wed_fri_with_low_pain_earn_the_offer() -> None:
    day15 = MONDAY + timedelta(days=14)
    assert pg.readiness(_history(day15, MWF, [(MONDAY, 2)])).ready
    # One day earlier it is not two weeks yet; with 4 of 6 sessions it is not enough.
    assert not pg.readiness(_history(day15 - timedelta(days=1), MWF[:-1])).ready
    r = pg.readiness(_history(day15, [d for d in MWF if d != MWF[1]][:-1]))
    assert not r.ready and "4 of 6" in r.why
    # 5 of 6 is enough, the first Monday missed: two weeks count from the first week.
    assert pg.readiness(_history(day15, MWF[1:])).ready
    # Five sessions in the first five days are not two weeks of training.
    daily = [MONDAY + timedelta(days=d) for d in range(5)]
    assert not pg.readiness(_history(MONDAY + timedelta(days=6), daily)).ready


def test_pain_holds_the_offer_back() -> None:
    day15 = MONDAY + timedelta(days=14)
    r = pg.readiness(_history(day15, MWF, [(day15 - timedelta(days=2), 4)]))
    assert not r.ready and "above 3" in r.why
    r = pg.readiness(_history(day15, MWF, [(MONDAY + timedelta(days=3), 7)]))
    assert not r.ready and "wait until" in r.why
    # That 7 is 14 days old the day after: step-ups are open again.
    assert pg.readiness(_history(day15 + timedelta(days=1), MWF, [(MONDAY, 7)])).ready
    assert not pg.readiness(_history(day15, MWF, limiting=True)).ready


def test_not_yet_waits_a_week_and_the_top_of_the_ladder_stops_it() -> None:
    day15 = MONDAY + timedelta(days=14)
    assert not pg.readiness(_history(day15, MWF, declined_at=day15 - timedelta(days=6))).ready
    assert pg.readiness(_history(day15, MWF, declined_at=day15 - timedelta(days=7))).ready
    assert not pg.readiness(_history(day15, MWF, can_go_up=False)).ready


def test_two_high_scores_in_seven_days_are_a_flare() -> None:
    now = _at(MONDAY, 9)
    hi = [pg.Reading(7, now - timedelta(days=6)), pg.Reading(8, now - timedelta(hours=1))]
    assert pg.flare(hi, now)
    assert not pg.flare(hi[:1], now)
    assert not pg.flare([pg.Reading(7, now - timedelta(days=8)), hi[1]], now)
    assert not pg.flare([pg.Reading(6, now), pg.Reading(6, now)], now)  # 6 is not high


@given(first=st.dates(date(2024, 1, 1), date(2027, 1, 1)), start=st.integers(0, 400))
def test_exactly_one_week_in_four_is_lighter(first: date, start: int) -> None:
    monday = first - timedelta(days=first.weekday()) + timedelta(weeks=start // 7)
    weeks = [pg.lighter_week(first, monday + timedelta(weeks=k, days=start % 7)) for k in range(4)]
    assert sum(weeks) == 1
    assert not pg.lighter_week(first, first)  # the first week is never lighter
    assert not pg.lighter_week(None, first)


DAY = st.integers(0, 69)  # ten weeks


@settings(max_examples=300)
@given(
    trained=st.sets(DAY, max_size=60),
    pains=st.lists(st.tuples(DAY, st.integers(0, 10)), max_size=20),
    says_yes=st.lists(st.booleans(), min_size=70, max_size=70),
)
def test_step_ups_over_any_ten_weeks_follow_the_rules(
    trained: set[int], pains: list[tuple[int, int]], says_yes: list[bool]
) -> None:
    """Day by day: the user trains (or not), logs pain (or not), and takes or declines each
    offer. However it goes, step-ups are two weeks apart, never within two weeks of a 7+, never
    with recent pain above 3, and never without 5 sessions in the last two weeks."""
    ups: list[date] = []
    declined: date | None = None
    for n in range(70):
        today = MONDAY + timedelta(days=n)
        h = pg.History(
            today=today,
            now=_at(today, 9),
            session_days=tuple(MONDAY + timedelta(days=d) for d in sorted(trained) if d < n),
            pain=tuple(pg.Reading(s, _at(MONDAY + timedelta(days=d))) for d, s in pains if d < n),
            last_step_up=ups[-1] if ups else None,
            declined_at=declined,
        )
        if not pg.readiness(h).ready:
            continue
        if not says_yes[n]:
            declined = today
            continue
        ups.append(today)
        assert all(h.now - r.at >= pg.PAUSE for r in h.pain if r.score >= pg.HIGH_PAIN)
        assert all(r.score <= pg.CALM_PAIN for r in h.pain if h.now - r.at < pg.RECENT)
        assert sum(1 for d in h.session_days if today - timedelta(days=14) <= d) >= pg.NEEDED
        assert not pg.flare(h.pain, h.now)
    assert all((b - a).days >= 14 for a, b in itertools.pairwise(ups))


def test_a_faithful_user_steps_up_every_two_weeks() -> None:
    """The sequence the rules are for: Mon/Wed/Fri, no pain, always yes -> days 14, 28, 42."""
    days = {w * 7 + d for w in range(10) for d in (0, 2, 4)}
    ups: list[date] = []
    for n in range(49):
        today = MONDAY + timedelta(days=n)
        h = pg.History(
            today=today,
            now=_at(today, 9),
            session_days=tuple(MONDAY + timedelta(days=d) for d in sorted(days) if d < n),
            last_step_up=ups[-1] if ups else None,
        )
        if pg.readiness(h).ready:
            ups.append(today)
    assert [(d - MONDAY).days for d in ups] == [14, 28, 42]


@pytest.mark.parametrize("equipment", EQUIPMENT)
def test_every_plan_can_step_up_from_the_start(kb, equipment: str) -> None:
    for plan in (p for p in kb.plans if not p.gentle and p.equipment == equipment):
        items = pg.plan_items(kb, plan.id)
        assert any(pg.max_step(kb, ex, doses, plan.equipment) > 0 for ex, doses in items.items())
