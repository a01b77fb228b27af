"""Weekly counts, streaks, pain trend and the chart."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

from PIL import Image

from bot.core import progress
from bot.core.ports import PainEntry

TODAY = date(2026, 11, 25)  # a Wednesday
MONDAY = date(2026, 11, 23)


def week(offset: int, sessions: int) -> list[date]:
    start = MONDAY - timedelta(weeks=offset)
    return [start + timedelta(days=2 * i) for i in range(sessions)]


def test_streaks_count_weeks_that_met_the_goal() -> None:
    days = week(0, 1) + week(1, 3) + week(2, 4) + week(3, 1) + week(4, 3) + week(5, 3) + week(6, 3)
    s = progress.summarize(days, [], TODAY)
    assert s.this_week == 1
    assert s.current_streak == 2  # last week and the week before; this week is not over
    assert s.best_streak == 3  # weeks 4-6 ago
    assert len(s.weeks) == 8 and s.weeks[-1] == (MONDAY, 1)


def test_this_week_counts_once_the_goal_is_met() -> None:
    s = progress.summarize(week(0, 3) + week(1, 3), [], TODAY)
    assert s.current_streak == 2 and s.best_streak == 2


def test_pain_trend_and_text() -> None:
    pain = [
        PainEntry(6, datetime(2026, 10, 1, tzinfo=UTC)),
        PainEntry(3, datetime(2026, 11, 20, tzinfo=UTC)),
    ]
    text = progress.render(progress.summarize(week(0, 1), pain, TODAY))
    assert "1/3" in text and "6 → 3/10" in text and "down" in text


def test_one_pain_score_is_not_a_trend_and_counts_read_naturally() -> None:
    pain = [PainEntry(7, datetime(2026, 11, 24, tzinfo=UTC))]
    text = progress.render(progress.summarize(week(0, 2) + week(1, 3), pain, TODAY))
    assert "Pain: 7/10 (your first score" in text and "→" not in text
    assert "Streak: 1 week meeting" in text and "1 more session to hit" in text
    text = progress.render(progress.summarize([], [], TODAY))
    assert "Streak: 0 weeks meeting" in text and "3 more sessions to hit" in text
    assert "Pain" not in text


def test_chart_is_a_png_with_one_bar_per_week() -> None:
    s = progress.summarize(week(0, 2) + week(3, 3), [], TODAY, chart_weeks=8)
    png = progress.chart_png(s)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(png)).size == (600, 300)
    assert [n for _, n in s.weeks] == [0, 0, 0, 0, 3, 0, 0, 2]
