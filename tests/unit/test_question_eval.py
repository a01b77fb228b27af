"""The keyword-scored question sets (written blind to the KB): reading, scoring, no texts shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot import question_eval
from bot.config import Settings

ROWS = [
    {
        "text": "how long should I hold a plank",
        "kind": "question",
        "mention": ["seconds"],
        "style": "short",
    },
    {
        "text": "how long should I hold a plank",
        "kind": "question",
        "mention": ["zebra"],
        "style": "long",
    },
    {"text": "how do i back up my phone", "kind": "off_topic", "mention": [], "style": "short"},
    {"text": "what's my workout today", "kind": "workout", "mention": [], "style": "short"},
]


def test_scores_by_mention_and_never_prints_a_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    assert question_eval.is_question_set(path)
    rows = question_eval.read_rows(path)
    kd = Settings(_env_file=None).knowledge_dir  # type: ignore[call-arg]
    import asyncio

    got = asyncio.run(question_eval.answers([r.text for r in rows], kd))
    m = question_eval.metrics(rows, got)
    assert m["questions_good"] == 0.5  # the right entry, but only one mentions the word
    assert m["questions_short"] == 1.0 and m["questions_long"] == 0.0
    assert m["off_topic_declined"] == 1.0 and m["workout_served"] == 1.0
    assert m["answered_wrong"] == 1 / 3  # the plank answer that does not say "zebra"
    question_eval.eval_command(path, kd)
    out = capsys.readouterr().out
    assert "plank" not in out and "phone" not in out and "questions_good" in out
