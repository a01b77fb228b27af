"""Progress: sessions this week against the goal, streaks of weeks that met it, pain trend, chart."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.core.ports import CheckIn, PainEntry

WEEKLY_GOAL = 3


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True, slots=True)
class Summary:
    this_week: int
    goal: int
    current_streak: int
    best_streak: int
    weeks: tuple[tuple[date, int], ...]  # (Monday, sessions) oldest first
    pain_first: int | None
    pain_last: int | None
    pain_scores: int = 0


def summarize(
    session_days: Sequence[date],
    pain: Sequence[PainEntry],
    today: date,
    *,
    chart_weeks: int = 8,
    goal: int = WEEKLY_GOAL,
) -> Summary:
    """Weekly counts and streaks. The current week counts toward the streak once it meets the goal."""
    per_week: dict[date, int] = {}
    for d in session_days:
        per_week[week_start(d)] = per_week.get(week_start(d), 0) + 1
    this = week_start(today)
    # Current streak: consecutive goal-meeting weeks ending last week (plus this week if met).
    streak = 1 if per_week.get(this, 0) >= goal else 0
    w = this - timedelta(weeks=1)
    while per_week.get(w, 0) >= goal:
        streak += 1
        w -= timedelta(weeks=1)
    best = run = 0
    if per_week:
        w = min(per_week)
        while w <= this:
            run = run + 1 if per_week.get(w, 0) >= goal else 0
            best = max(best, run)
            w += timedelta(weeks=1)
    weeks = tuple(
        (this - timedelta(weeks=k), per_week.get(this - timedelta(weeks=k), 0))
        for k in range(chart_weeks - 1, -1, -1)
    )
    scores = [p.score for p in sorted(pain, key=lambda p: p.at)]
    return Summary(
        this_week=per_week.get(this, 0),
        goal=goal,
        current_streak=streak,
        best_streak=max(best, streak),
        weeks=weeks,
        pain_first=scores[0] if scores else None,
        pain_last=scores[-1] if scores else None,
        pain_scores=len(scores),
    )


def _n(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def render(s: Summary) -> str:
    lines = [
        f"**This week: {s.this_week}/{s.goal} sessions**",
        f"Streak: {_n(s.current_streak, 'week')} meeting the goal (best: {s.best_streak}).",
    ]
    if s.pain_last is not None and s.pain_first is not None:
        if s.pain_scores < 2:
            lines.append(f"Pain: {s.pain_last}/10 (your first score; log more to see a trend).")
        else:
            trend = (
                "down"
                if s.pain_last < s.pain_first
                else "up"
                if s.pain_last > s.pain_first
                else "steady"
            )
            lines.append(
                f"Pain: {s.pain_first} → {s.pain_last}/10 over {_n(s.pain_scores, 'score')} "
                f"({trend})."
            )
    if s.this_week < s.goal:
        lines.append(f"{_n(s.goal - s.this_week, 'more session')} to hit this week's goal.")
    return "\n".join(lines)


def chart_png(s: Summary) -> bytes:
    """A bar chart of sessions per week (PNG bytes). matplotlib is imported here, lazily."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(6, 3), dpi=100)
    ax = fig.add_subplot()
    labels = [d.strftime("%d %b") for d, _ in s.weeks]
    counts = [n for _, n in s.weeks]
    colors = ["#2e7d32" if n >= s.goal else "#90a4ae" for n in counts]
    # Numeric positions with text labels: plotting strings makes matplotlib log at INFO.
    ax.bar(range(len(counts)), counts, color=colors, tick_label=labels)
    ax.axhline(s.goal, color="#c62828", linestyle="--", linewidth=1, label=f"goal {s.goal}/week")
    ax.set_ylabel("sessions")
    ax.set_title(f"Back sessions, last {len(s.weeks)} weeks")
    ax.set_ylim(0, max([*counts, s.goal]) + 1)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# ---------------------------------------------------------------------------------- check-ins

INTERFERENCE_WORDS = ("not at all", "a little", "quite a bit", "a lot")


def render_checkins(checkins: Sequence[CheckIn]) -> str:
    """One line on the weekly check-ins: first → latest pain and confidence, and daily life."""
    pains = [c.pain for c in checkins if c.pain is not None]
    confs = [c.confidence for c in checkins if c.confidence is not None]
    lives = [c.interference for c in checkins if c.interference is not None]
    parts = []
    if pains:
        parts.append(
            f"pain {pains[0]} → {pains[-1]}/10" if len(pains) > 1 else f"pain {pains[0]}/10"
        )
    if confs:
        parts.append(
            f"confidence {confs[0]} → {confs[-1]}/5"
            if len(confs) > 1
            else f"confidence {confs[0]}/5"
        )
    if lives:
        parts.append(f"pain in the way of daily life: {INTERFERENCE_WORDS[lives[-1]]}")
    return f"Check-ins ({len(checkins)}): " + ", ".join(parts) + "." if parts else ""


def checkin_chart_png(checkins: Sequence[CheckIn]) -> bytes:
    """A small line chart of the weekly check-ins: average pain (0-10) and confidence (1-5)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 2.5), dpi=100)
    ax = fig.add_subplot()
    labels = [c.week.strftime("%d %b") for c in checkins]
    xs = list(range(len(checkins)))
    pain = [(x, c.pain) for x, c in zip(xs, checkins, strict=True) if c.pain is not None]
    conf = [
        (x, c.confidence) for x, c in zip(xs, checkins, strict=True) if c.confidence is not None
    ]
    if pain:
        ax.plot(*zip(*pain, strict=True), color="#c62828", marker="o", label="pain (0-10)")
    ax.set_ylim(0, 10)
    ax.set_ylabel("pain")
    right = ax.twinx()
    if conf:
        right.plot(*zip(*conf, strict=True), color="#1565c0", marker="s", label="confidence (1-5)")
    right.set_ylim(0.5, 5.5)
    right.set_ylabel("confidence")
    ax.set_xticks(xs, labels)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title("Weekly check-ins")
    fig.legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
