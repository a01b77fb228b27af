"""Scoring a sealed question set, written by someone who has seen neither the knowledge base nor
the code: so it names no topic ids. Each row says what a good answer mentions instead.

Row: {"text", "kind": "question" | "off_topic" | "workout", "mention": [words], "style":
"short" | "long"}. A question is answered well when the reply is an answer (FAQ entry or a
workout) whose text contains one of the `mention` words; an off-topic message is declined;
a workout request gets a workout. When the first reply is the red-flag screening question, the
user answers "No" and the answer after it is scored. Never prints a message: the misses of a
sealed set must not be read.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.types import Kind, Reply

ANSWERS = (Kind.FAQ, Kind.WORKOUT)
DECLINES = (Kind.OUT_OF_SCOPE, Kind.SMALLTALK)


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    kind: str
    mention: tuple[str, ...]
    style: str


def is_question_set(path: Path) -> bool:
    first = next((x for x in path.read_text(encoding="utf-8").splitlines() if x.strip()), "")
    try:
        return "mention" in json.loads(first)
    except ValueError:
        return False


def read_rows(path: Path) -> list[Row]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r: dict[str, Any] = json.loads(line)
            rows.append(
                Row(r["text"], r["kind"], tuple(m.lower() for m in r["mention"]), r["style"])
            )
    return rows


async def answers(texts: list[str], knowledge_dir: Path) -> list[tuple[Reply | None, bool]]:
    """The answer to each text from a new user (after "No" to a screening question), and
    whether the screening question was asked."""
    from bot.core.types import Incoming
    from bot.evaluation import eval_dialogue

    dialogue = eval_dialogue(knowledge_dir)
    out: list[tuple[Reply | None, bool]] = []
    for i, text in enumerate(texts):
        user = f"q{i}"
        replies = await dialogue.handle(Incoming("eval", user, user, text=text))
        screened = bool(replies) and replies[0].kind is Kind.SCREEN
        if screened:
            no = next(b.action for b in replies[0].buttons if b.label.startswith("No"))
            replies = (await dialogue.handle(Incoming("eval", user, user, action=no)))[1:]
        out.append((replies[0] if replies else None, screened))
    return out


def good(row: Row, reply: Reply | None) -> bool:
    if reply is None:
        return row.kind == "off_topic"
    if row.kind == "question":
        text = reply.text.lower()
        return reply.kind in ANSWERS and any(m in text for m in row.mention)
    if row.kind == "off_topic":
        return reply.kind in DECLINES
    return reply.kind is Kind.WORKOUT


def metrics(rows: list[Row], got: list[tuple[Reply | None, bool]]) -> dict[str, float]:
    def rate(pairs: list[tuple[Row, tuple[Reply | None, bool]]]) -> float:
        return sum(good(r, g[0]) for r, g in pairs) / len(pairs) if pairs else 0.0

    pairs = list(zip(rows, got, strict=True))
    q = [p for p in pairs if p[0].kind == "question"]
    m = {
        "questions_good": rate(q),
        "questions_short": rate([p for p in q if p[0].style == "short"]),
        "questions_long": rate([p for p in q if p[0].style == "long"]),
        "questions_declined": (
            sum(g[0] is not None and g[0].kind in DECLINES for _, g in q) / len(q) if q else 0.0
        ),
        "questions_suggest": (
            sum(g[0] is not None and g[0].kind is Kind.SUGGEST for _, g in q) / len(q) if q else 0
        ),
        "off_topic_declined": rate([p for p in pairs if p[0].kind == "off_topic"]),
        "workout_served": rate([p for p in pairs if p[0].kind == "workout"]),
        "screened": sum(g[1] for _, g in pairs) / len(pairs) if pairs else 0.0,
        # "Confident wrong" for sets that name no topic: a question or an off-topic message
        # given an FAQ answer that mentions none of what a good answer would.
        "answered_wrong": (
            sum(g[0] is not None and g[0].kind is Kind.FAQ and not good(r, g[0]) for r, g in qo)
            / len(qo)
            if (qo := [p for p in pairs if p[0].kind in ("question", "off_topic")])
            else 0.0
        ),
    }
    return m


def eval_command(path: Path, knowledge_dir: Path) -> int:
    rows = read_rows(path)
    got = asyncio.run(answers([r.text for r in rows], knowledge_dir))
    m = metrics(rows, got)
    kinds = Counter(r.kind for r in rows)
    styles = Counter(r.style for r in rows)
    print(f"{path}: {len(rows)} messages ({dict(kinds)}; {dict(styles)})")
    for name, value in m.items():
        print(f"  {name:20s} {value:6.1%}")
    given = Counter(str(g[0].kind) if g[0] else "none" for r, g in zip(rows, got, strict=True))
    print("  reply kinds: " + ", ".join(f"{k} {n}" for k, n in sorted(given.items())))
    sys.stdout.flush()
    return 0
