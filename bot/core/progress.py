"""Progress: sessions this week against the goal, streaks of weeks that met it, pain trend, chart."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

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


# Charts are drawn with Pillow, not matplotlib: matplotlib added ~35 MB to the bot's RSS on the
# first /progress (its modules, fonts and caches), about a sixth of `backbot run` after 10,000
# messages (tests/bench/bench_run_rss.py); Pillow adds ~7 MB. Drawn at SCALE times the size and
# scaled down, so lines and text are smooth.
SCALE = 2
_GREEN, _GREY, _RED, _BLUE, _INK, _GRID = (
    "#2e7d32",
    "#90a4ae",
    "#c62828",
    "#1565c0",
    "#263238",
    "#e0e0e0",
)


class _Canvas:
    """A white PNG of `width` x `height` pixels with a plot area and its two y scales."""

    def __init__(self, width: int, height: int, box: tuple[int, int, int, int]) -> None:
        from PIL import Image, ImageDraw  # imported here, lazily: only /progress draws

        self.size = (width, height)
        self.image = Image.new("RGB", (width * SCALE, height * SCALE), "white")
        self.draw = ImageDraw.Draw(self.image)
        self.left, self.top, self.right, self.bottom = box  # the plot area, in output pixels

    def font(self, size: int) -> Any:
        from PIL import ImageFont

        return ImageFont.load_default(size=size * SCALE)

    def x(self, i: float, n: int) -> float:
        """The centre of slot i of n across the plot area."""
        return self.left + (i + 0.5) * (self.right - self.left) / max(n, 1)

    def y(self, v: float, lo: float, hi: float) -> float:
        return self.bottom - (v - lo) / (hi - lo) * (self.bottom - self.top)

    def line(self, points: Sequence[tuple[float, float]], color: str, width: float = 1.5) -> None:
        pts = [(x * SCALE, y * SCALE) for x, y in points]
        self.draw.line(pts, fill=color, width=round(width * SCALE), joint="curve")

    def dashed(self, y: float, color: str, dash: float = 6.0) -> None:
        x = float(self.left)
        while x < self.right:
            self.line([(x, y), (min(x + dash, self.right), y)], color, 1.2)
            x += 2 * dash

    def rect(self, box: tuple[float, float, float, float], color: str) -> None:
        self.draw.rectangle(tuple(v * SCALE for v in box), fill=color)

    def marker(self, x: float, y: float, color: str, square: bool) -> None:
        r = 3.5 * SCALE
        box = (x * SCALE - r, y * SCALE - r, x * SCALE + r, y * SCALE + r)
        (self.draw.rectangle if square else self.draw.ellipse)(box, fill=color)

    def text(
        self, xy: tuple[float, float], text: str, size: int, anchor: str, color: str = _INK
    ) -> None:
        pos = (xy[0] * SCALE, xy[1] * SCALE)
        self.draw.text(pos, text, fill=color, font=self.font(size), anchor=anchor)

    def vertical_text(self, xy: tuple[float, float], text: str, size: int) -> None:
        """Text reading bottom to top, centred on `xy` (a y-axis label)."""
        from PIL import Image, ImageDraw

        font = self.font(size)
        w, h = (int(v) + 2 for v in font.getbbox(text)[2:])
        label = Image.new("RGB", (w, h), "white")
        ImageDraw.Draw(label).text((0, 0), text, fill=_INK, font=font)
        label = label.rotate(90, expand=True)
        self.image.paste(label, (int(xy[0] * SCALE - h / 2), int(xy[1] * SCALE - w / 2)))

    def y_ticks(self, ticks: list[float], lo: float, hi: float, *, right: bool = False) -> None:
        for v in ticks:
            y = self.y(v, lo, hi)
            if not right:
                self.line([(self.left, y), (self.right, y)], _GRID, 0.8)
            x = self.right + 4 if right else self.left - 4
            self.text((x, y), f"{v:g}", 8, "lm" if right else "rm")

    def x_labels(self, labels: list[str]) -> None:
        for i, label in enumerate(labels):
            self.text((self.x(i, len(labels)), self.bottom + 4), label, 7, "mt")

    def frame(self) -> None:
        box = [
            (self.left, self.top),
            (self.right, self.top),
            (self.right, self.bottom),
            (self.left, self.bottom),
            (self.left, self.top),
        ]
        self.line(box, _INK, 0.8)

    def legend(self, entries: list[tuple[str, str, str]]) -> None:
        """(label, colour, kind) in the plot's upper left; kind: dashed, circle or square."""
        x, y = self.left + 8, self.top + 9
        for label, color, kind in entries:
            if kind == "dashed":
                self.line([(x, y), (x + 7, y)], color, 1.2)
                self.line([(x + 11, y), (x + 18, y)], color, 1.2)
            else:
                self.line([(x, y), (x + 18, y)], color)
                self.marker(x + 9, y, color, kind == "square")
            self.text((x + 24, y), label, 7, "lm")
            y += 12

    def png(self) -> bytes:
        from PIL import Image

        buf = io.BytesIO()
        self.image.resize(self.size, Image.Resampling.LANCZOS).save(buf, format="PNG")
        return buf.getvalue()


def _ticks(hi: float) -> list[float]:
    """Whole-number ticks from 0 to `hi`, at most about 8 of them."""
    step = max(1, math.ceil(hi / 8))
    return [float(v) for v in range(0, int(hi) + 1, step)]


def chart_png(s: Summary) -> bytes:
    """A bar chart of sessions per week (600 x 300 PNG bytes), the weekly goal dashed."""
    c = _Canvas(600, 300, (52, 28, 585, 262))
    counts = [n for _, n in s.weeks]
    top = max([*counts, s.goal]) + 1
    c.y_ticks(_ticks(top), 0, top)
    n = len(counts)
    half = 0.4 * (c.right - c.left) / max(n, 1)
    for i, count in enumerate(counts):
        if count:
            color = _GREEN if count >= s.goal else _GREY
            c.rect((c.x(i, n) - half, c.y(count, 0, top), c.x(i, n) + half, c.bottom), color)
    c.dashed(c.y(s.goal, 0, top), _RED)
    c.frame()
    c.x_labels([d.strftime("%d %b") for d, _ in s.weeks])
    c.legend([(f"goal {s.goal}/week", _RED, "dashed")])
    c.text((c.left + (c.right - c.left) / 2, 14), f"Back sessions, last {n} weeks", 11, "mm")
    c.vertical_text((14, (c.top + c.bottom) / 2), "sessions", 9)
    return c.png()


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
    """A small line chart of the weekly check-ins (600 x 250 PNG bytes): average pain (0-10,
    left scale) and confidence (1-5, right scale)."""
    c = _Canvas(600, 250, (44, 28, 552, 212))
    n = len(checkins)
    c.y_ticks([0, 2, 4, 6, 8, 10], 0, 10)
    c.y_ticks([1, 2, 3, 4, 5], 0.5, 5.5, right=True)
    pain = [(c.x(i, n), c.y(k.pain, 0, 10)) for i, k in enumerate(checkins) if k.pain is not None]
    conf = [
        (c.x(i, n), c.y(k.confidence, 0.5, 5.5))
        for i, k in enumerate(checkins)
        if k.confidence is not None
    ]
    for points, color, square in ((pain, _RED, False), (conf, _BLUE, True)):
        if len(points) > 1:
            c.line(points, color)
        for x, y in points:
            c.marker(x, y, color, square)
    c.frame()
    c.x_labels([k.week.strftime("%d %b") for k in checkins])
    c.legend([("pain (0-10)", _RED, "circle"), ("confidence (1-5)", _BLUE, "square")])
    c.text((c.left + (c.right - c.left) / 2, 14), "Weekly check-ins", 11, "mm")
    c.vertical_text((12, (c.top + c.bottom) / 2), "pain", 9)
    c.vertical_text((588, (c.top + c.bottom) / 2), "confidence", 9)
    return c.png()
