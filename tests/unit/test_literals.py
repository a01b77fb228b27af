"""The literal prefilter of red-flag rules is sound: it never skips a sentence a rule matches;
and the batched model scores every window exactly as one at a time."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from bot.core import safety
from bot.core.literals import prefilter, required

DATA = Path(__file__).parents[1] / "data"


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        (r"\b(numb\w*|tingl\w*) (\w+ ){0,3}groin\b", "numbness in my groin", True),
        (r"\bno (control|feeling) down there\b", "no feeling down there", True),
        (r"\b(can t|cant) (pee|wee)\b", "i cant wee", True),
        (r"\bback (pain)?\b", "back pain", True),
    ],
)
def test_every_match_contains_a_required_literal(pattern: str, text: str, matches: bool) -> None:
    p = re.compile(pattern)
    lits = required(p)
    assert lits is not None
    assert bool(p.search(text)) is matches
    assert any(lit in text for lit in lits)


def test_nothing_required_gives_none() -> None:
    assert required(re.compile(r"\w+\d")) is None
    assert required(re.compile("numb", re.IGNORECASE)) is None
    assert prefilter([re.compile("numb"), re.compile(r"\w")]) is None


def _texts() -> list[str]:
    out = []
    for f in sorted(DATA.glob("*.jsonl")):
        for line in f.read_text().splitlines():
            t = json.loads(line).get("text")
            if t:
                out.append(t)
    return out


def test_prefilter_never_skips_a_sentence_a_rule_could_start_in(triage: safety.Triage) -> None:
    sentences = [f for t in _texts() for s in safety.sentences(t) for f in safety._spellings(s)]
    for c in triage._compiled:
        assert c.literals is not None, c.flag.id  # every shipped flag has a prefilter
        for s in sentences:
            if c.anywhere.search(s):
                assert any(lit in s for lit in c.literals), (c.flag.id, s)


def test_batched_model_scores_equal_window_by_window(triage: safety.Triage) -> None:
    model = triage.model
    assert model is not None and hasattr(model, "score")
    for t in _texts()[::7]:
        one = model.score(list(safety.windows(t)))  # type: ignore[attr-defined]
        batch = model.score_sentences(safety.sentences(t))
        assert batch[0] == pytest.approx(one[0], abs=1e-9) and batch[1] == one[1]


@pytest.fixture(scope="module")
def triage() -> safety.Triage:
    from bot.app import build_dialogue

    return build_dialogue().triage


def test_scanner_finds_exactly_the_strings_a_substring_test_finds() -> None:
    from bot.core.literals import Scanner

    strings = {"pain", "pain ", "ain", "back pain", "es", " by ", "numb", "b", "x"}
    scanner = Scanner(strings)
    for text in [*_texts()[::5], "", "back pain by the sea", "painpain", "numbness by "]:
        t = text.lower()
        assert scanner.present(t) == {s for s in strings if s in t}, t
    assert Scanner(set()).present("anything") == set()


def test_rule_scanner_agrees_with_substring_tests(triage: safety.Triage) -> None:
    index = triage._index
    strings = set().union(*(v for v in index.needs.values() if v is not None))
    for t in _texts()[::3]:
        for s in safety.sentences(t):
            for f in safety._spellings(s):
                assert index.scanner.present(f) == {x for x in strings if x in f}


def test_every_rule_pattern_matches_only_where_its_literals_occur(triage: safety.Triage) -> None:
    """The per-pattern prefilter triage uses on sentences and on windows is sound."""
    texts = []
    for t in _texts()[::2]:
        ss = safety.sentences(t)
        texts += [f for s in ss for f in safety._spellings(s)]
        for a, b in itertools.pairwise(ss):
            window = safety._CLAUSE_BREAK.sub(f" {safety._CLAUSE} ", f"{a} {b}".lower())
            texts += list(safety._spellings(window))
    for p, lits in triage._index.needs.items():
        if lits is None:
            continue
        for f in texts:
            if p.search(f):
                assert any(x in f for x in lits), (p.pattern, f)
