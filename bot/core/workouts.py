"""Today's workout: deterministic per user and date, fitted to level, equipment and pain."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date

from bot.kb import Exercise, KnowledgeBase, Plan, Session

GENTLE_PAIN = 6  # a pain score at or above this gets the gentle plan

# When no plan matches the user's equipment exactly, use one that needs less kit.
_FALLBACK = {
    "gym": ("gym", "dumbbells", "pullup_bar", "none"),
    "dumbbells": ("dumbbells", "none"),
    "pullup_bar": ("pullup_bar", "none"),
    "none": ("none",),
}
_LEVELS = ("beginner", "intermediate", "advanced")


@dataclass(frozen=True, slots=True)
class WorkoutItem:
    exercise: Exercise
    dose: str
    note: str = ""  # how progression changed it: "more reps", "harder variant of Plank"
    base: str = ""  # the plan's exercise id when progression swapped in a variant

    @property
    def plan_exercise(self) -> str:
        return self.base or self.exercise.id


@dataclass(frozen=True, slots=True)
class Workout:
    """One session to do today."""

    plan: Plan
    session: Session
    items: tuple[WorkoutItem, ...]
    warmup: tuple[WorkoutItem, ...]
    gentle: bool
    minutes: int | None = None  # a short version of the session, fitted to these minutes


def pick_plan(kb: KnowledgeBase, level: str, equipment: str, gentle: bool) -> Plan:
    """The plan for a level and equipment (or the gentle plan on pain days)."""
    if gentle:
        return next(p for p in kb.plans if p.gentle)
    regular = [p for p in kb.plans if not p.gentle]
    levels = [level, *reversed(_LEVELS[: _LEVELS.index(level)])] if level in _LEVELS else []
    for lv in [*levels, *_LEVELS]:
        for eq in _FALLBACK.get(equipment, ("none",)):
            for p in regular:
                if p.level in (lv, "any") and p.equipment == eq:
                    return p
    return regular[0] if regular else next(p for p in kb.plans if p.gentle)


def session_index(user_seed: str, day: date, sessions: int) -> int:
    """Rotate A/B/C by date, offset per user so a group does not all get the same session."""
    offset = zlib.crc32(user_seed.encode()) % sessions
    return (day.toordinal() + offset) % sessions


def todays_workout(
    kb: KnowledgeBase,
    *,
    user_seed: str,
    day: date,
    level: str,
    equipment: str,
    pain: int | None,
    force_gentle: bool = False,
    shift: int = 0,
    minutes: int | None = None,
) -> Workout:
    """Today's session; `shift` moves along the rotation ("a different one"); `minutes`
    makes a short version of it: the first warm-up move and as many of the session's
    exercises, in order, as fit (about four minutes each, at least two)."""
    gentle = force_gentle or (pain is not None and pain >= GENTLE_PAIN)
    plan = pick_plan(kb, level, equipment, gentle)
    n = len(plan.sessions)
    session = plan.sessions[(session_index(user_seed, day, n) + shift) % n]
    items = tuple(
        WorkoutItem(kb.exercises[i.exercise], i.dose or kb.exercises[i.exercise].dose)
        for i in session.items
    )
    warm = tuple(
        WorkoutItem(kb.exercises[i.exercise], i.dose or kb.exercises[i.exercise].dose)
        for i in kb.warmup
    )
    if minutes is not None:
        keep = max(2, (minutes - 2) // MINUTES_PER_EXERCISE)
        return Workout(plan, session, items[:keep], warm[:1], gentle, minutes)
    return Workout(plan, session, items, warm, gentle)


MINUTES_PER_EXERCISE = 4  # sets, rests and changing over, for one exercise of a session


EQUIPMENT_NAMES = {
    "none": "no equipment",
    "dumbbells": "dumbbells",
    "pullup_bar": "pull-up bar",
    "gym": "gym",
}


def headline(w: Workout) -> str:
    """'session B — Pull and hinge', or 'gentle session A — …' on a pain day."""
    gentle = "gentle " if w.gentle else ""
    return f"{gentle}session {w.session.id} — {w.session.title}"


def render(w: Workout) -> str:
    """A phone-sized workout card."""
    head = f"**Today: {headline(w)}**"
    if w.minutes is not None:
        head = f"**Today, {w.minutes}-minute version: {headline(w)}**"
    if w.gentle:
        sub = "Easy movement for a sore back. Move slowly, stay in a pain-free range."
    else:
        sub = f"{w.plan.level.capitalize()}, {EQUIPMENT_NAMES.get(w.plan.equipment, '')}."
    warm = ", ".join(f"{i.exercise.name} {i.dose}" for i in w.warmup)
    lines = [head, sub, f"Warm-up: {warm}" if warm else ""]
    lines += [
        f"{n}. {i.exercise.name} — {i.dose}" + (f" ({i.note})" if i.note else "")
        for n, i in enumerate(w.items, 1)
    ]
    lines.append("Stop any move that causes sharp or spreading pain.")
    return "\n".join(x for x in lines if x)


def _label_list(label: str, items: list[str]) -> str:
    """'Cue: keep hips level; move slowly' — one line, items kept apart."""
    parts = [i.strip().rstrip(".") for i in items]
    # "Keep hips level; move slowly": later items start lower-case (but not "RDL", "L-sit")
    parts[1:] = [p[0].lower() + p[1:] if p[1:2].islower() else p for p in parts[1:]]
    return f"{label}: " + "; ".join(parts)


def render_exercise(x: Exercise, cite: str) -> str:
    """How to do one exercise, short enough for a phone."""
    steps = "\n".join(f"{n}. {s}" for n, s in enumerate(x.steps, 1))
    parts = [
        f"**{x.name}** — {x.dose}",
        steps,
        _label_list("Cue", x.cues),
        _label_list("Avoid", x.mistakes),
    ]
    return "\n".join(p for p in (*parts, cite) if p)
