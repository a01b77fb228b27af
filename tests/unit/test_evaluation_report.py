"""`kb eval` reporting: topic confusion and the confident-wrong rate."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.evaluation import Case, Outcome, confident_wrong, eval_command, metrics, topic_confusion


def _o(
    kind: str, topics: tuple[str, ...], got: str, topic: str | None, score: float | None
) -> Outcome:
    return Outcome(Case("q", kind, topics), got, topic, score)


OUTCOMES = [
    _o("faq", ("plank",), "faq", "plank", 0.9),  # right
    _o("faq", ("plank",), "faq", "side_plank", 0.7),  # confidently wrong
    _o("faq", ("plank",), "faq", "side_plank", 0.6),  # again
    _o("faq", ("heat",), "suggest", "ice", 0.46),  # wrong, but only suggested
    _o("faq", ("heat",), "out_of_scope", None, None),
    _o("out_of_scope", (), "faq", "plank", 0.55),  # answered something we do not cover
    _o("out_of_scope", (), "out_of_scope", None, None),
    _o("red_flag", (), "red_flag", "cauda_equina", 1.0),  # not retrieval's
]


def test_confident_wrong_needs_another_topic_at_the_threshold() -> None:
    assert [confident_wrong(o, 0.5) for o in OUTCOMES] == [
        False,
        True,
        True,
        False,
        False,
        True,
        False,
        False,
    ]
    assert not confident_wrong(_o("faq", ("a",), "faq", "b", 0.49), 0.5)
    assert metrics(OUTCOMES)["confident_wrong"] == pytest.approx(3 / 7)


def test_topic_confusion_counts_expected_to_got() -> None:
    assert topic_confusion(OUTCOMES).most_common() == [
        (("plank", "faq:side_plank"), 2),
        (("heat", "suggest:ice"), 1),
        (("heat", "out_of_scope"), 1),
    ]


def test_eval_prints_the_new_lines_and_keeps_top1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "q.jsonl"
    f.write_text(
        '{"text": "how long should i hold a plank", "kind": "faq", "topic": "plank_hold_time"}\n'
        '{"text": "is heat or ice better for back pain", "kind": "faq", "topic": "plank_hold_time"}\n',
        encoding="utf-8",
    )
    eval_command(f, Settings(_env_file=None).knowledge_dir)  # type: ignore[call-arg]
    out = capsys.readouterr().out
    assert "  top1 " in out
    assert "confident_wrong" in out
    assert "topic confusion (expected -> got), top 15:" in out
    assert "    plank_hold_time -> faq:heat_or_ice: 1" in out
