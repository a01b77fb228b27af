"""`backbot kb check` and `backbot kb eval`: validate the knowledge base, score the dialogue core.

The eval set is JSONL, one message per line: {"text", "kind", "topic"?}. Every message goes
through the real `Dialogue.handle` as a fresh user, so routing, triage, intents, retrieval and
thresholds are all measured together.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot import kb as kb_module

TARGETS = {
    "top1": 0.90,
    "oos_rejection": 0.90,
    "red_flag_recall": 1.00,
    "red_flag_fp": 0.05,
}


def check_command(directory: Path) -> int:
    problems = kb_module.check(directory)
    if problems:
        print(f"knowledge base in {directory}: {len(problems)} problem(s)")
        for p in problems:
            print(f"  {p}")
        return 1
    kb = kb_module.load(directory)
    alternates = sum(len(e.alternates) for e in kb.faq)
    print(
        f"knowledge base OK: {len(kb.faq)} FAQ entries ({alternates} alternates), "
        f"{len(kb.exercises)} exercises, {len(kb.plans)} plans, "
        f"{len(kb.safety.red_flags)} red flags, {len(kb.sources)} sources"
    )
    return 0


@dataclass(frozen=True, slots=True)
class Case:
    text: str
    kind: str
    topics: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    case: Case
    kind: str
    topic: str | None
    score: float | None

    @property
    def correct(self) -> bool:
        if self.case.kind == "faq":
            return self.kind == "faq" and self.topic in self.case.topics
        if self.case.kind == "red_flag":
            return self.kind == "red_flag"
        return self.kind == self.case.kind


def read_cases(path: Path) -> list[Case]:
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            topic = row.get("topic")
            topics = tuple(topic) if isinstance(topic, list) else (topic,) if topic else ()
            cases.append(Case(row["text"], row["kind"], topics))
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise SystemExit(f"{path}:{n}: not a valid eval line ({e})") from None
    return cases


async def run_cases(cases: list[Case], knowledge_dir: Path) -> list[Outcome]:
    from bot.app import build_dialogue
    from bot.config import Settings
    from bot.core.flood import FloodGate
    from bot.core.types import Incoming

    settings = Settings(_env_file=None, knowledge_dir=knowledge_dir)  # type: ignore[call-arg]
    dialogue = build_dialogue(settings=settings, flood=FloodGate(limit=1_000_000))
    out = []
    for i, c in enumerate(cases):
        replies = await dialogue.handle(Incoming("eval", f"u{i}", f"u{i}", text=c.text))
        first = replies[0] if replies else None
        out.append(
            Outcome(
                c,
                str(first.kind) if first else "none",
                first.topic if first else None,
                first.score if first else None,
            )
        )
    return out


def metrics(outcomes: list[Outcome]) -> dict[str, float]:
    def rate(sel: list[Outcome], ok: list[bool]) -> float:
        return sum(ok) / len(sel) if sel else 1.0

    faq = [o for o in outcomes if o.case.kind == "faq"]
    oos = [o for o in outcomes if o.case.kind == "out_of_scope"]
    rf = [o for o in outcomes if o.case.kind == "red_flag"]
    not_rf = [o for o in outcomes if o.case.kind != "red_flag"]
    return {
        "top1": rate(faq, [o.correct for o in faq]),
        "oos_rejection": rate(oos, [o.kind == "out_of_scope" for o in oos]),
        "red_flag_recall": rate(rf, [o.kind == "red_flag" for o in rf]),
        "red_flag_fp": rate(not_rf, [o.kind == "red_flag" for o in not_rf]),
        "overall": rate(outcomes, [o.correct for o in outcomes]),
    }


def eval_command(path: Path, knowledge_dir: Path, show_misses: int = 40) -> int:
    cases = read_cases(path)
    outcomes = asyncio.run(run_cases(cases, knowledge_dir))
    m = metrics(outcomes)
    kinds = Counter(c.kind for c in cases)
    print(
        f"{path}: {len(cases)} messages ({', '.join(f'{k} {n}' for k, n in kinds.most_common())})"
    )
    ok = True
    for name, target in TARGETS.items():
        good = m[name] <= target if name == "red_flag_fp" else m[name] >= target
        ok &= good
        sign = "<=" if name == "red_flag_fp" else ">="
        print(
            f"  {name:16s} {m[name]:6.1%}  target {sign} {target:.0%}  {'ok' if good else 'MISSED'}"
        )
    print(f"  {'overall':16s} {m['overall']:6.1%}  (every kind)")
    per_kind = {
        k: sum(o.correct for o in outcomes if o.case.kind == k) / n for k, n in kinds.items()
    }
    print("  per kind: " + ", ".join(f"{k} {v:.0%}" for k, v in sorted(per_kind.items())))
    misses = [o for o in outcomes if not o.correct]
    if misses:
        print(f"misses ({len(misses)}):")
        confusion = Counter((o.case.kind, o.kind) for o in misses)
        print(
            "  confusion (expected -> got): "
            + ", ".join(f"{a}->{b} {n}" for (a, b), n in confusion.most_common())
        )
        for o in misses[:show_misses]:
            want = "/".join(o.case.topics) or o.case.kind
            got = f"{o.kind}:{o.topic}" if o.topic else o.kind
            score = f" {o.score:.2f}" if o.score is not None else ""
            print(f"  - {o.case.text[:70]!r}: want {want}, got {got}{score}")
    sys.stdout.flush()
    return 0 if ok else 1
