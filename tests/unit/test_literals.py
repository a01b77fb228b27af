"""The literal prefilter of red-flag rules is sound: it never skips a sentence a rule matches;
and the batched model scores every window exactly as one at a time."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import safety
from bot.core.literals import Scanner, occurs, requirement, satisfied

DATA = Path(__file__).parents[1] / "data"


def _met(pattern: re.Pattern[str], text: str) -> bool:
    """Every clause of the pattern's requirement has a token that occurs in `text`."""
    req = requirement(pattern)
    assert req is not None, pattern.pattern
    return all(any(occurs(t, text) for t in clause) for clause in req)


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (r"\b(numb\w*|tingl\w*) (\w+ ){0,3}groin\b", "numbness in my groin"),
        (r"\bno (control|feeling) down there\b", "no feeling down there"),
        (r"\b(can t|cant) (pee|wee)\b", "i cant wee"),
        (r"\bback (pain)?\b", "back pain"),
        (r"\b(fell|fallen|falling|fall) (off|from)\b", "i fell off"),
        (r"\d+ ?(kmh|mph)\b", "at 50mph"),
        (r"^(?=.*\b(chilly|cold)\b)(?=.*\bwarm\w* up)", "cold but warming up"),
        (r"(?<!\bt )(wakes? me|woke me)", "it woke me"),
        (r"\b(skin )?(round|around) (my |the )?(bum|back)\b", "skin round the bum"),
        (r"x(?:\bfoo)", "x foo"),  # (never matches; nothing to check)
    ],
)
def test_every_match_meets_the_requirement(pattern: str, text: str) -> None:
    p = re.compile(pattern)
    if p.search(text):
        assert _met(p, text)
    assert requirement(p) is not None


def test_finite_parts_are_read_whole_and_word_starts_marked() -> None:
    # The parser factors "fell|fall" into "f" then "ell|all": the clause is the words again.
    assert frozenset({"^fell off", "^fall off"}) in (
        requirement(re.compile(r"\b(fell|fall) off\b")) or ()
    )
    # After \d a word does not start: "50mph" holds "mph" only as a part of a word.
    req = requirement(re.compile(r"\d+ ?mph\b"))
    assert req is not None and all("~mph" in c for c in req)
    # Under re.ASCII, \b is not the scanner's word boundary.
    req = requirement(re.compile(r"\bnumb", re.ASCII))
    assert req == (frozenset({"~numb"}),)


def test_nothing_required_gives_none() -> None:
    assert requirement(re.compile(r"\w+\d")) is None
    assert requirement(re.compile("numb", re.IGNORECASE)) is None
    assert requirement(re.compile(r"(?i:numb)")) is None


# Patterns with the constructs the reader handles, tried on random texts of their own words.
_PATTERNS = [
    r"\b(numb\w*|tingl\w*) (\w+ ){0,3}groin\b",
    r"\b(fell|fallen|falling|fall) (off|of|from)\b",
    r"\d+ ?(km ?h|kmh|mph)\b",
    r"(?<!\bt )(wakes? me|woke me)",
    r"\b(i m|im|is) ?(5\d|6\d)\b",
    r"^(?=.*\b(cold|icy)\b)(?=.*\bwarm\w* (up|back))",
    r"\b(skin )?(round|around) (my |the )?(bum|back)\b",
    r"(^|[ .])x?numb(ness)?\b",
    r"\bback\b(?! pain)",
    r"[ab]\bc",
    r"\bno ?(feel\w*|control)",
]
_WORDS = ["numb", "numbness", "tingling", "groin", "fell", "fall", "off", "of", "from", "50",
          "5", "kmh", "km", "h", "mph", "t", "wakes", "woke", "me", "i", "m", "im", "is", "55",
          "cold", "icy", "warm", "warming", "up", "back", "skin", "round", "around", "my",
          "the", "bum", "pain", "x", "xnumb", "a", "b", "c", "no", "feel", "control", "nofeel"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(_WORDS), max_size=12), st.lists(st.sampled_from(" .-"), max_size=12)
)
def test_prefilter_is_sound_on_random_texts(words: list[str], seps: list[str]) -> None:
    text = "".join(w + (seps[i] if i < len(seps) else " ") for i, w in enumerate(words))
    patterns = [re.compile(p) for p in _PATTERNS]
    reqs = [requirement(p) for p in patterns]
    tokens = {t for r in reqs for c in r or () for t in c}
    scanner = Scanner(tokens)
    found = scanner.present(text)
    assert scanner.tokens(found) == {t for t in tokens if occurs(t, text)}
    for p, req in zip(patterns, reqs, strict=True):
        if req is not None and p.search(text):
            assert satisfied(req, {t for t in tokens if occurs(t, text)}), (p.pattern, text)
            expanded = scanner.expand(req)
            assert expanded is not None and satisfied(expanded, found), (p.pattern, text)


def _texts() -> list[str]:
    out = []
    for f in sorted(DATA.glob("*.jsonl")):
        for line in f.read_text().splitlines():
            t = json.loads(line).get("text")
            if t:
                out.append(t)
    return out


def test_prefilter_never_skips_a_sentence_a_rule_could_start_in(triage: safety.Triage) -> None:
    index = triage._index
    sentences = [f for t in _texts() for s in safety.sentences(t) for f in safety._spellings(s)]
    for s in sentences:
        allowed = index.starts(index.scanner.present(s))
        for j, p in enumerate(index.start_patterns):
            if p.search(s):
                assert j in allowed, (p.pattern, s)


def test_batched_model_scores_equal_window_by_window(triage: safety.Triage) -> None:
    model = triage.model
    assert model is not None and hasattr(model, "score")
    for t in _texts()[::7]:
        one = model.score(list(safety.windows(t)))  # type: ignore[attr-defined]
        batch = model.score_sentences(safety.sentences(t))
        assert batch[0] == pytest.approx(one[0], abs=1e-9) and batch[1] == one[1]


@pytest.mark.parametrize(
    "sentences",
    [
        ["my back hurts", "my back hurts"],  # every feature in both sentences of the pair
        ["back pain back", "pain", "pain"],  # the joining bigram also inside a sentence
        ["no numbness", "", "numbness in my groin"],  # an empty sentence between
        ["I can't pee", "cant pee cant pee", "can't feel my legs"],
        ["numb"],
        ["", ""],
    ],
)
def test_batched_pairs_equal_window_by_window(triage: safety.Triage, sentences: list[str]) -> None:
    """A pair window's score from its sentences' sums, corrected for what they share, is the
    one scoring the joined window gives."""
    model = triage.model
    assert model is not None and hasattr(model, "probabilities")
    windows = [*sentences, *(f"{a} {b}" for a, b in itertools.pairwise(sentences))]
    one = model.score(windows)  # type: ignore[attr-defined]
    batch = model.score_sentences(sentences)
    assert batch[0] == pytest.approx(one[0], abs=1e-12) and batch[1] == one[1]


@pytest.fixture(scope="module")
def triage() -> safety.Triage:
    from bot.app import build_dialogue

    return build_dialogue().triage


def test_scanner_finds_exactly_the_tokens_that_occur() -> None:
    tokens = {"^pain", "^pain ", "~ain", "^back pain", "~es", "~ by ", "^numb", "^b", "~x"}
    scanner = Scanner(tokens)
    for text in [*_texts()[::5], "", "back pain by the sea", "painpain", "numbness by ", "xb"]:
        t = text.lower()
        assert scanner.tokens(scanner.present(t)) == {s for s in tokens if occurs(s, t)}, t
    assert Scanner(set()).present("anything") == set()


def test_short_texts_are_scanned_as_the_trie_regex_scans(triage: safety.Triage) -> None:
    scanner = Scanner(t for p in triage._index.needs for c in requirement(p) or () for t in c)
    find = scanner._compile()
    texts = [*_texts()[::4], "", "x", "back", "numbness in both legs", "ünd numb", "a_b numb"]
    for t in texts:
        f = t.lower()
        assert scanner._walk(f) == set(find(f)), f
    assert scanner._find is None  # (compiled only for a long text)
    scanner.present("back " * 30)
    assert scanner._find is not None


def test_rule_scanner_agrees_with_one_token_at_a_time(triage: safety.Triage) -> None:
    index = triage._index
    tokens = {t for p in index.needs for c in requirement(p) or () for t in c}
    for t in _texts()[::3]:
        for s in safety.sentences(t):
            for f in safety._spellings(s):
                found = index.scanner.tokens(index.scanner.present(f))
                assert found == {x for x in tokens if occurs(x, f)}


@pytest.mark.timeout(400)
def test_every_rule_pattern_matches_only_where_its_requirement_is_met(
    triage: safety.Triage,
) -> None:
    """The per-pattern prefilter triage uses on sentences and on windows is sound. (Every third
    labelled text: texts x patterns grows with both, ~100 s on a busy 2-core machine.)"""
    texts = []
    for t in _texts()[::3]:
        ss = safety.sentences(t)
        texts += [f for s in ss for f in safety._spellings(s)]
        for a, b in itertools.pairwise(ss):
            window = safety._CLAUSE_BREAK.sub(f" {safety._CLAUSE} ", f"{a} {b}".lower())
            texts += list(safety._spellings(window))
    scanner = triage._index.scanner
    found = {f: scanner.present(f) for f in texts}
    for p, req in triage._index.needs.items():
        if req is None:
            continue
        for f in texts:
            if not satisfied(req, found[f]):
                assert not p.search(f), (p.pattern, f)


def test_shipped_literal_cache_holds_every_rule_as_analysed_now(triage: safety.Triage) -> None:
    """bot/knowledge/rule_literals.json is current (else: `backbot kb literals`): every rule
    pattern is in it, with what the analysis gives today."""
    from bot.core import literals

    cached = literals.read_cache(literals.CACHE_FILE)
    assert cached, "rule_literals.json is missing or from another version of the analysis"
    for p in triage.rule_patterns():
        assert cached.get(literals.cache_key(p), "missing") == literals.analyse(p), p.pattern


def test_literal_cache_is_read_back_and_never_trusted_stale(tmp_path: Path) -> None:
    from bot.core import literals

    patterns = [re.compile(r"\b(fell|fall) off\b"), re.compile(r"\w+\d"), re.compile("numb")]
    path = tmp_path / "cache.json"
    assert literals.write_cache(patterns, path) == 3
    back = literals.read_cache(path)
    assert back == {literals.cache_key(p): literals.analyse(p) for p in patterns}
    # Another version of the analysis wrote it: nothing is read.
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "analysis": "0" * 16}))
    assert literals.read_cache(path) == {}
    path.write_text("not json")
    assert literals.read_cache(path) == {}
    # An entry is found by its pattern's text and flags only.
    assert literals.cache_key(re.compile("numb")) != literals.cache_key(re.compile("numbs"))
    assert literals.cache_key(re.compile("numb")) != literals.cache_key(re.compile("(?a)numb"))
