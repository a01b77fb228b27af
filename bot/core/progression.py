"""Progression as pure functions: each exercise's ladder, and when to step up or down.

A plan item (an exercise at the plan's dose) sits on a ladder of rungs::

    easier variant < fewer reps/time < as planned < more reps/time < one more set < harder variant

built from `exercises.yaml` (`easier`/`harder`, kept only when the plan's equipment allows them)
and from the dose itself. A user's *step* per exercise is an offset from "as planned" (0), kept
in the store; it is clamped to the ladder, so a plan change never points past its ends.

The rules (README "Progression"): a step-up is offered after two weeks on the same steps with at
least 5 of the 6 planned sessions done and no recent pain above 3/10; never more than one step-up
per two weeks; any pain of 7 or more pauses step-ups for two weeks; two such scores in seven days
put the whole plan on the gentle plan; every fourth training week is a lighter week (a set fewer).
Nothing here reads the clock or the store: callers pass the history in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from bot.kb import Exercise, KnowledgeBase

STEP_EVERY = timedelta(days=14)  # at most one step-up per this, and two weeks' training first
PLANNED = 6  # sessions planned in two weeks (3 a week)
NEEDED = 5  # of which this many done
CALM_PAIN = 3  # recent pain at or below this allows a step-up
HIGH_PAIN = 7  # a score from here on pauses step-ups; two in a week mean the gentle plan
RECENT = timedelta(days=7)
PAUSE = timedelta(days=14)
DECLINE_QUIET = timedelta(days=7)  # after "Not yet", the offer waits this long
LIGHTER_EVERY = 4  # every fourth training week is lighter
LIMITING = 2  # check-in: "quite a bit" (2) or "a lot" (3) of daily life held back
MAX_SETS = 5
REPS_STEP, SECONDS_STEP, MINUTES_STEP = 2, 10, 5

# ---------------------------------------------------------------------------------- doses

_DOSE = re.compile(
    r"^(?:(?P<s1>\d+)(?:-(?P<s2>\d+))?\s*×\s*)?(?P<lo>\d+)(?:-(?P<hi>\d+))?"
    r"(?P<unit>\s?(?:s|min)\b)?(?P<rest>.*)$"
)


@dataclass(frozen=True, slots=True)
class Dose:
    """ "2-3 × 8-10 each side" read apart: sets (optional), a count range, its unit, the rest."""

    sets: tuple[int, int] | None
    lo: int
    hi: int
    unit: str  # "" (reps), "s" or "min"
    rest: str = ""

    def render(self) -> str:
        sets = ""
        if self.sets is not None:
            a, b = self.sets
            sets = f"{a} × " if a == b else f"{a}-{b} × "
        count = f"{self.lo}" if self.lo == self.hi else f"{self.lo}-{self.hi}"
        unit = f" {self.unit}" if self.unit else ""
        return f"{sets}{count}{unit}{self.rest}"


def parse_dose(text: str) -> Dose | None:
    """A dose string as written in the knowledge base, or None when it has no count in it."""
    m = _DOSE.match(text.strip())
    if m is None:
        return None
    sets = None
    if m["s1"]:
        sets = (int(m["s1"]), int(m["s2"] or m["s1"]))
    lo = int(m["lo"])
    hi = int(m["hi"] or lo)
    return Dose(sets, lo, hi, (m["unit"] or "").strip(), m["rest"])


def _count_step(d: Dose) -> int:
    return {"s": SECONDS_STEP, "min": MINUTES_STEP}.get(d.unit, REPS_STEP)


def more(d: Dose) -> Dose:
    """More reps, or a longer hold or walk."""
    k = _count_step(d)
    return replace(d, lo=d.lo + k, hi=d.hi + k)


def fewer(d: Dose) -> Dose | None:
    """Fewer reps or a shorter hold; None when that would leave almost nothing."""
    k = _count_step(d)
    if d.lo - k < max(1, k // 2):
        return None
    return replace(d, lo=d.lo - k, hi=d.hi - k)


def add_set(d: Dose) -> Dose | None:
    if d.sets is None or d.sets[1] >= MAX_SETS:
        return None
    return replace(d, sets=(d.sets[0] + 1, d.sets[1] + 1))


def lighter(d: Dose) -> Dose:
    """The lighter week's dose: one set fewer (a range of sets becomes its low end minus one),
    never below one set; a dose without sets stays as it is."""
    if d.sets is None:
        return d
    n = max(1, d.sets[1] - 1)
    return replace(d, sets=(n, n))


def lighter_text(dose: str) -> str:
    d = parse_dose(dose)
    return dose if d is None else lighter(d).render()


# ---------------------------------------------------------------------------------- ladders


@dataclass(frozen=True, slots=True)
class Rung:
    exercise: str  # exercise id
    dose: str
    label: str  # "as planned", "more reps", "harder variant", ...


def _fits(x: Exercise | None, equipment: str) -> bool:
    return x is not None and (equipment in x.equipment or "none" in x.equipment)


def ladder(kb: KnowledgeBase, exercise: str, dose: str, equipment: str) -> tuple[list[Rung], int]:
    """The rungs for one plan item, easiest first, and the index of "as planned"."""
    x = kb.exercises[exercise]
    d = parse_dose(dose)
    count = "time" if d is not None and d.unit else "reps"
    down: list[Rung] = []
    up: list[Rung] = []
    easier = kb.exercises.get(x.easier) if x.easier else None
    if easier is not None and _fits(easier, equipment):
        down.append(Rung(easier.id, easier.dose, "easier variant"))
    if d is not None:
        if (f := fewer(d)) is not None:
            down.append(Rung(exercise, f.render(), f"less {count}"))
        up.append(Rung(exercise, more(d).render(), f"more {count}"))
        if (s := add_set(more(d))) is not None:
            up.append(Rung(exercise, s.render(), "one more set"))
    harder = kb.exercises.get(x.harder) if x.harder else None
    if harder is not None and _fits(harder, equipment):
        up.append(Rung(harder.id, harder.dose, "harder variant"))
    return [*down, Rung(exercise, dose, "as planned"), *up], len(down)


def clamp(step: int, rungs: Sequence[Rung], base: int) -> int:
    """The step, kept on the ladder."""
    return max(-base, min(len(rungs) - 1 - base, step))


def rung_at(kb: KnowledgeBase, exercise: str, dose: str, equipment: str, step: int) -> Rung:
    rungs, base = ladder(kb, exercise, dose, equipment)
    return rungs[base + clamp(step, rungs, base)]


def step_range(
    kb: KnowledgeBase, items: Iterable[tuple[str, str]], equipment: str
) -> tuple[int, int]:
    """The lowest and highest step every one of these (exercise, dose) items can take."""
    lows, highs = [], []
    for ex, dose in items:
        rungs, base = ladder(kb, ex, dose, equipment)
        lows.append(-base)
        highs.append(len(rungs) - 1 - base)
    return (max(lows, default=0), min(highs, default=0))


def plan_items(kb: KnowledgeBase, plan_id: str) -> dict[str, list[str]]:
    """Each exercise of a plan with every dose it has there (it may be in several sessions)."""
    plan = next(p for p in kb.plans if p.id == plan_id)
    out: dict[str, list[str]] = {}
    for s in plan.sessions:
        for i in s.items:
            out.setdefault(i.exercise, []).append(i.dose or kb.exercises[i.exercise].dose)
    return out


def max_step(kb: KnowledgeBase, exercise: str, doses: Sequence[str], equipment: str) -> int:
    """How far up this exercise can go on the shortest of its ladders in a plan."""
    return min(
        (len(r) - 1 - b for r, b in (ladder(kb, exercise, d, equipment) for d in doses)), default=0
    )


def min_step(kb: KnowledgeBase, exercise: str, doses: Sequence[str], equipment: str) -> int:
    return max((-b for _, b in (ladder(kb, exercise, d, equipment) for d in doses)), default=0)


# ---------------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class Reading:
    """One pain reading: a /pain score or a weekly check-in's average."""

    score: int
    at: datetime


@dataclass(frozen=True, slots=True)
class History:
    """What the rules look at, gathered by the caller for one user at one moment."""

    today: date  # the user's local date
    now: datetime
    session_days: tuple[date, ...] = ()
    pain: tuple[Reading, ...] = ()
    last_step_up: date | None = None  # local date of the last step-up
    declined_at: date | None = None  # last "Not yet"
    limiting: bool = False  # the latest check-in: back pain held daily life back a lot
    can_go_up: bool = True  # some exercise of the plan is below the top of its ladder


def flare(pain: Iterable[Reading], now: datetime) -> bool:
    """Two scores of 7 or more within the last seven days: the whole plan goes gentle."""
    return sum(1 for r in pain if r.score >= HIGH_PAIN and now - r.at < RECENT) >= 2


def paused_until(pain: Iterable[Reading], now: datetime) -> datetime | None:
    """When step-ups may start again after the latest score of 7 or more (None: not paused)."""
    high = [r.at for r in pain if r.score >= HIGH_PAIN and now - r.at < PAUSE]
    return max(high) + PAUSE if high else None


def lighter_week(first_session: date | None, today: date) -> bool:
    """Every fourth week counted from the week of the first logged session is lighter."""
    if first_session is None:
        return False
    weeks = (_monday(today) - _monday(first_session)).days // 7
    return weeks % LIGHTER_EVERY == LIGHTER_EVERY - 1


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    why: str  # what holds it back, or what earned it


def readiness(h: History) -> Readiness:
    """Whether to offer a step-up now, and why (not)."""
    if flare(h.pain, h.now):
        return Readiness(False, "two pain scores of 7 or more this week")
    until = paused_until(h.pain, h.now)
    if until is not None:
        return Readiness(False, f"a pain score of 7 or more: step-ups wait until {until:%d %b}")
    if not h.can_go_up:
        return Readiness(False, "every exercise is at the top of its ladder")
    if not h.session_days:
        return Readiness(False, "no sessions logged yet")
    since = _monday(min(h.session_days))  # training weeks, as for the lighter week
    if h.last_step_up is not None:
        since = max(since, h.last_step_up)
    if h.today - since < STEP_EVERY:
        return Readiness(False, "two weeks on the same steps first")
    window_start = h.today - STEP_EVERY
    done = sum(1 for d in set(h.session_days) if window_start <= d < h.today)
    if done < NEEDED:
        return Readiness(
            False, f"{done} of {PLANNED} planned sessions in two weeks ({NEEDED} needed)"
        )
    if any(r.score > CALM_PAIN and h.now - r.at < RECENT for r in h.pain):
        return Readiness(False, f"recent pain above {CALM_PAIN}/10")
    if h.limiting:
        return Readiness(False, "back pain got in the way of daily life this week")
    if h.declined_at is not None and h.today - h.declined_at < DECLINE_QUIET:
        return Readiness(False, "you said not yet")
    return Readiness(True, f"{min(done, PLANNED)} of {PLANNED} sessions and low pain")


def stepped_up(steps: Mapping[str, int], tops: Mapping[str, int]) -> dict[str, int]:
    """Every exercise one step up, none past the top of its ladder."""
    return {ex: min(steps.get(ex, 0) + 1, top) for ex, top in tops.items()}


def stepped_down(steps: Mapping[str, int], exercise: str, bottom: int) -> dict[str, int]:
    """That exercise one step down, not below the bottom of its ladder."""
    return {**steps, exercise: max(steps.get(exercise, 0) - 1, bottom)}
