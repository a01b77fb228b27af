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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bot import kb as kb_module

if TYPE_CHECKING:
    from bot.core.dialogue import Dialogue
    from bot.core.types import Reply

T = TypeVar("T")

TOP_CONFUSIONS = 15
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
    lints = [*kb_module.warnings(kb), *_literal_cache_warnings(kb)]
    for w in lints:
        print(f"WARNING {w}")
    if lints:
        print(f"WARNING {len(lints)} warning(s) (not failures)")
    return 0


def _literal_cache_warnings(kb: kb_module.KnowledgeBase) -> list[str]:
    """The red-flag rules compiled as triage uses them, and whether the shipped analysis of
    their literals covers them (else every start analyses the rest again)."""
    from bot.core import literals
    from bot.core.safety import Triage

    patterns = Triage.build(kb.safety).rule_patterns()
    cached = literals.read_cache(literals.CACHE_FILE)
    missing = sum(literals.cache_key(p) not in cached for p in patterns)
    if not missing:
        return []
    return [
        f"{literals.CACHE_FILE.name}: {missing} of {len(patterns)} rule patterns not in it, "
        "analysed at every start (run `backbot kb literals` on the shipped knowledge base)"
    ]


def literals_command(directory: Path) -> int:
    """`backbot kb literals`: write the analysis of the rules' literals that starts read."""
    from bot.core import literals
    from bot.core.safety import Triage

    kb = kb_module.load(directory)
    n = literals.write_cache(Triage.build(kb.safety).rule_patterns())
    print(f"{literals.CACHE_FILE}: {n} rule patterns")
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
        if self.case.kind == "red_flag":  # the red-flag reply, or the screening question
            return self.kind in ("red_flag", "screen")
        if self.case.kind == "command":  # help has a kind of its own; a new user's first
            # pain score is answered with the consent question before it is stored
            return self.kind in ("command", "help") or self.topic == "consent"
        return self.kind == self.case.kind


def _read_jsonl(path: Path, what: str, make: Callable[[Any], T]) -> list[T]:
    """One `make(row)` per non-blank JSON line; a bad line stops with its file and number."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(make(json.loads(line)))
        except (ValueError, KeyError, TypeError) as e:
            raise SystemExit(f"{path}:{n}: not a valid {what} line ({e})") from None
    return out


def _case(row: Any) -> Case:
    topic = row.get("topic")
    topics = tuple(topic) if isinstance(topic, list) else (topic,) if topic else ()
    return Case(row["text"], row["kind"], topics)


def read_cases(path: Path) -> list[Case]:
    return _read_jsonl(path, "eval", _case)


def eval_dialogue(knowledge_dir: Path) -> Dialogue:
    """The real Dialogue on `knowledge_dir`, with no flood gate: an evaluation set is one
    fast sender."""
    from bot.app import build_dialogue
    from bot.config import Settings
    from bot.core.flood import FloodGate

    settings = Settings(_env_file=None, knowledge_dir=knowledge_dir)  # type: ignore[call-arg]
    # RETRIEVAL=hybrid: every message of the set decided with the model loaded.
    return build_dialogue(settings=settings, flood=FloodGate(limit=1_000_000), warm=True)


async def _first_replies(texts: list[str], knowledge_dir: Path, prefix: str) -> list[Reply | None]:
    """The first reply to each text, each sent by a new user through the real Dialogue."""
    from bot.core.types import Incoming

    dialogue = eval_dialogue(knowledge_dir)
    out: list[Reply | None] = []
    for i, text in enumerate(texts):
        user = f"{prefix}{i}"
        replies = await dialogue.handle(Incoming("eval", user, user, text=text))
        out.append(replies[0] if replies else None)
    return out


async def run_cases(cases: list[Case], knowledge_dir: Path) -> list[Outcome]:
    firsts = await _first_replies([c.text for c in cases], knowledge_dir, "u")
    out = []
    for c, first in zip(cases, firsts, strict=True):
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
    asked = faq + oos  # the messages retrieval decides on
    return {
        "top1": rate(faq, [o.correct for o in faq]),
        "oos_rejection": rate(oos, [o.kind == "out_of_scope" for o in oos]),
        "red_flag_recall": rate(rf, [o.kind in ("red_flag", "screen") for o in rf]),
        "red_flag_fp": rate(not_rf, [o.kind == "red_flag" for o in not_rf]),
        "overall": rate(outcomes, [o.correct for o in outcomes]),
        "confident_wrong": rate(asked, [confident_wrong(o) for o in asked]),
    }


def answer_threshold() -> float:
    """The score at or above which retrieval answers (the shipped tuning)."""
    from bot.core.answers import Tuning

    return Tuning().answer_at


def confident_wrong(o: Outcome, threshold: float | None = None) -> bool:
    """Answered with an entry other than the expected one, at or above the answer threshold:
    the user gets a wrong answer with no "did you mean" to catch it."""
    at = answer_threshold() if threshold is None else threshold
    return (
        o.kind == "faq" and o.topic not in o.case.topics and o.score is not None and o.score >= at
    )


def topic_confusion(outcomes: list[Outcome]) -> Counter[tuple[str, str]]:
    """(expected topic, got) for every missed FAQ message; `got` is the topic answered or
    suggested, else the reply kind."""
    out: Counter[tuple[str, str]] = Counter()
    for o in outcomes:
        if o.case.kind == "faq" and not o.correct:
            got = f"{o.kind}:{o.topic}" if o.topic and o.kind in ("faq", "suggest") else o.kind
            out["/".join(o.case.topics) or "?", got] += 1
    return out


def eval_command(path: Path, knowledge_dir: Path, show_misses: int = 40) -> int:
    if _is_triage_set(path):
        return triage_eval_command(path, knowledge_dir)
    from bot import question_eval

    if question_eval.is_question_set(path):
        return question_eval.eval_command(path, knowledge_dir)
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
    asked = sum(o.case.kind in ("faq", "out_of_scope") for o in outcomes)
    wrong = sum(confident_wrong(o) for o in outcomes if o.case.kind in ("faq", "out_of_scope"))
    print(
        f"  {'confident_wrong':16s} {m['confident_wrong']:6.1%}  ({wrong}/{asked} FAQ and "
        f"out-of-scope messages answered with another topic at score >= {answer_threshold():.2f})"
    )
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
        topics = topic_confusion(outcomes)
        if topics:
            print(f"  topic confusion (expected -> got), top {TOP_CONFUSIONS}:")
            for (want, got), n in topics.most_common(TOP_CONFUSIONS):
                print(f"    {want} -> {got}: {n}")
        for o in misses[:show_misses]:
            want = "/".join(o.case.topics) or o.case.kind
            got = f"{o.kind}:{o.topic}" if o.topic else o.kind
            score = f" {o.score:.2f}" if o.score is not None else ""
            print(f"  - {o.case.text[:70]!r}: want {want}, got {got}{score}")
    sys.stdout.flush()
    return 0 if ok else 1


# ---------------------------------------------------------------------------------- triage sets

# Gates for a triage set (issue "Triage v2"): every red flag gets the red-flag reply or the
# screening question; few false red-flag replies; little screening of ordinary pain.
TRIAGE_GATES = {
    "recall": (">=", 1.00),
    "false_flag_pain": ("<=", 0.03),
    "false_flag_other": ("<=", 0.005),
    "screen_pain": ("<=", 0.15),
}
# "Ordinary pain": everyday back pain and training soreness. Everything else: idioms, near
# misses (a red-flag word that is not a red flag), training and off-topic questions.
PAIN_CATEGORIES = frozenset({"ordinary_pain", "doms"})
LEVELS = ("emergency", "urgent", "soon")


@dataclass(frozen=True, slots=True)
class TriageCase:
    text: str
    red_flag: bool
    urgency: str | None
    category: str


def _is_triage_set(path: Path) -> bool:
    first = next((x for x in path.read_text(encoding="utf-8").splitlines() if x.strip()), "")
    try:
        return "urgency" in json.loads(first)
    except ValueError:
        return False


def read_triage_cases(path: Path) -> list[TriageCase]:
    return _read_jsonl(
        path,
        "triage",
        lambda row: TriageCase(
            row["text"], row["kind"] == "red_flag", row["urgency"], row["category"]
        ),
    )


async def run_triage(
    cases: list[TriageCase], knowledge_dir: Path
) -> list[tuple[TriageCase, str, str | None]]:
    """(case, reply kind, urgency) for every message, each through Dialogue.handle as a new user."""
    firsts = await _first_replies([c.text for c in cases], knowledge_dir, "t")
    return [
        (c, str(first.kind) if first else "none", first.urgency if first else None)
        for c, first in zip(cases, firsts, strict=True)
    ]


def triage_metrics(results: list[tuple[TriageCase, str, str | None]]) -> dict[str, float]:
    def rate(rows: list[tuple[TriageCase, str, str | None]], ok: Callable[..., bool]) -> float:
        return sum(ok(r) for r in rows) / len(rows) if rows else 0.0

    flags = [r for r in results if r[0].red_flag]
    pain = [r for r in results if not r[0].red_flag and r[0].category in PAIN_CATEGORIES]
    other = [r for r in results if not r[0].red_flag and r[0].category not in PAIN_CATEGORIES]
    m = {
        "recall": rate(flags, lambda r: r[1] in ("red_flag", "screen")),
        "flagged": rate(flags, lambda r: r[1] == "red_flag"),
        "level_exact": rate(flags, lambda r: r[1] == "red_flag" and r[2] == r[0].urgency),
        "false_flag_pain": rate(pain, lambda r: r[1] == "red_flag"),
        "false_flag_other": rate(other, lambda r: r[1] == "red_flag"),
        "false_emergency": rate(pain + other, lambda r: r[1] == "red_flag" and r[2] == "emergency"),
        "screen_pain": rate(pain, lambda r: r[1] == "screen"),
        "screen_other": rate(other, lambda r: r[1] == "screen"),
    }
    return m


def triage_eval_command(path: Path, knowledge_dir: Path) -> int:
    """Scores a triage set. Never prints a message of a sealed set: its misses must not be read."""
    cases = read_triage_cases(path)
    results = asyncio.run(run_triage(cases, knowledge_dir))
    m = triage_metrics(results)
    flags = [r for r in results if r[0].red_flag]
    pain = [r for r in results if not r[0].red_flag and r[0].category in PAIN_CATEGORIES]
    other = [r for r in results if not r[0].red_flag and r[0].category not in PAIN_CATEGORIES]
    print(
        f"{path}: {len(cases)} messages: {len(flags)} red flags, {len(pain)} ordinary pain, "
        f"{len(other)} other"
    )
    ok = True
    for name, (sign, target) in TRIAGE_GATES.items():
        good = m[name] >= target if sign == ">=" else m[name] <= target
        ok &= good
        print(
            f"  {name:18s} {m[name]:6.1%}  gate {sign} {target:.1%}  {'ok' if good else 'MISSED'}"
        )
    for name in ("flagged", "level_exact", "false_emergency", "screen_other"):
        print(f"  {name:18s} {m[name]:6.1%}")
    for level in LEVELS:
        rows = [r for r in flags if r[0].urgency == level]
        got = Counter(r[2] if r[1] == "red_flag" else r[1] for r in rows)
        caught = sum(r[1] in ("red_flag", "screen") for r in rows)
        detail = ", ".join(f"{k} {n}" for k, n in sorted(got.items(), key=lambda kv: str(kv[0])))
        print(f"  {level:9s} {caught}/{len(rows)} caught; given: {detail}")
    sys.stdout.flush()
    return 0 if ok else 1
