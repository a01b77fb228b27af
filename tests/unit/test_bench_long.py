"""`backbot bench long` runs end to end at tiny sizes (figures only; no timed asserts)."""

from __future__ import annotations

import random

import pytest

from bot import bench
from bot.config import Settings


def test_bench_long_runs_and_prints(capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert bench.long_messages(settings, length=200, runs=2, profile_runs=1) == 0
    out = capsys.readouterr().out
    for shape in bench.long_shapes(200, random.Random(0)):
        assert shape in out
    assert "short (60 chars)" in out and "p95 ms" in out
    assert "top 8 by cumulative" in out and "ncalls" in out


def test_long_shapes_have_the_asked_length() -> None:
    for name, make in bench.long_shapes(10_000, random.Random(0)).items():
        assert len(make()) == 10_000, name
    assert len(bench.SHORT_MESSAGE) == 60
