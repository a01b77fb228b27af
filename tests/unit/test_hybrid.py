"""RETRIEVAL=hybrid (bot/core/hybrid.py, bot/phrase_index.py): the vector cache, the bounded
wait for the model, the decline signal, and the real dialogue answering what lexical misses."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.app import build_dialogue, load_kb
from bot.config import Settings
from bot.core.answers import Retriever
from bot.core.hybrid import HybridRetriever, HybridTuning
from bot.core.types import Kind
from bot.phrase_index import PhraseIndex, cache_key, cached_vectors
from bot.storage.memory import MemoryStore
from tests.conftest import Chat

ROOT = Path(__file__).resolve().parents[2]

# dev_questions.jsonl: the lexical retriever answers the first with no_pullup_bar and the second
# with pelvic_girdle_pain_pregnancy; hybrid gets both right.
MISSED = [
    ("can i train my back at home with literally nothing", "home_back_workout"),
    ("is going for walks good for a sore lower back", "walking_for_back"),
]


class FakeEncoder:
    """Letters as dimensions: a text's vector counts its a..z, normalised."""

    def __init__(self, fingerprint: str = "fake/1") -> None:
        self.fingerprint = fingerprint
        self.calls = 0

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), 26), dtype=np.float32)
        for i, t in enumerate(texts):
            for c in t.lower():
                if "a" <= c <= "z":
                    out[i, ord(c) - 97] += 1
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out


PHRASINGS = [("b", "bbb"), ("a", "aaa"), ("a", "abab")]


def test_vector_cache_is_reused_and_rebuilt_when_the_kb_changes(tmp_path: Path) -> None:
    enc = FakeEncoder()
    first, cached = cached_vectors(enc, PHRASINGS, tmp_path)
    assert not cached and enc.calls == 1 and first.shape == (3, 26)
    again, cached = cached_vectors(enc, PHRASINGS, tmp_path)
    assert cached and enc.calls == 1
    np.testing.assert_array_equal(again, first)
    # An edited knowledge base (one phrasing changed) hashes differently: encoded afresh.
    edited = [*PHRASINGS[:2], ("a", "abba")]
    assert cache_key(edited, enc.fingerprint) != cache_key(PHRASINGS, enc.fingerprint)
    vecs, cached = cached_vectors(enc, edited, tmp_path)
    assert not cached and enc.calls == 2
    np.testing.assert_array_equal(vecs, FakeEncoder().encode([t for _, t in edited]))
    # So does another model (or precision): its fingerprint is in the key.
    _, cached = cached_vectors(FakeEncoder("fake/2"), PHRASINGS, tmp_path)
    assert not cached
    assert len(list(tmp_path.glob("kb-vectors-*.npy"))) == 3
    # A corrupt file is rebuilt, not trusted.
    path = tmp_path / f"kb-vectors-{cache_key(PHRASINGS, enc.fingerprint)}.npy"
    path.write_bytes(b"not a numpy file")
    _, cached = cached_vectors(enc, PHRASINGS, tmp_path)
    assert not cached and enc.calls == 3
    assert cached_vectors(enc, PHRASINGS, tmp_path)[1]


def test_index_gives_each_topics_best_phrasing(tmp_path: Path) -> None:
    index = PhraseIndex(PHRASINGS, cache_dir=tmp_path, loader=FakeEncoder)
    assert index.wait(10)
    sims = index.similarities("aaa")
    assert sims is not None
    assert sims["a"] == pytest.approx(1.0) and sims["b"] == pytest.approx(0.0)
    assert index.similarities("aaa") is sims  # memoised


def test_first_message_waits_a_bounded_time_then_lexical(tmp_path: Path) -> None:
    release = threading.Event()

    def slow() -> FakeEncoder:
        release.wait(10)
        return FakeEncoder()

    index = PhraseIndex(PHRASINGS, cache_dir=tmp_path, wait_s=0.05, loader=slow)
    assert index.similarities("aaa") is None  # waited 0.05 s
    assert index.similarities("aaa") is None  # and never again
    release.set()
    assert index.wait(10)
    assert index.similarities("aaa") is not None


def test_a_missing_model_leaves_retrieval_lexical(tmp_path: Path) -> None:
    def broken() -> FakeEncoder:
        raise RuntimeError("no model")

    index = PhraseIndex(PHRASINGS, cache_dir=tmp_path, loader=broken)
    assert not index.wait(10)
    assert index.similarities("aaa") is None and index.error is not None


class Fixed:
    def __init__(self, sims: Mapping[str, float] | None) -> None:
        self.sims = sims

    def similarities(self, text: str) -> Mapping[str, float] | None:
        return self.sims


def _lexical() -> Retriever:
    dialogue = build_dialogue(settings=Settings(_env_file=None, retrieval="lexical"))
    retriever = dialogue.library.retriever
    assert isinstance(retriever, Retriever)
    return retriever


def test_not_ready_is_the_lexical_decision() -> None:
    lex = _lexical()
    hybrid = HybridRetriever(lex, Fixed(None))
    for text in ("how long should i hold a plank", "best pizza in town", "deadlift form"):
        assert hybrid.decide(text) == lex.decide(text)


def test_low_similarity_declines_what_lexical_would_answer() -> None:
    lex = _lexical()
    text = "how long should i hold a plank"
    answer = lex.decide(text).answer
    assert answer is not None
    far = HybridRetriever(lex, Fixed({answer.topic: 0.1}), HybridTuning(decline_below=0.3))
    assert far.decide(text).answer is None and not far.decide(text).suggestions
    near = HybridRetriever(lex, Fixed({answer.topic: 0.8}), HybridTuning(decline_below=0.3))
    got = near.decide(text).answer
    assert got is not None and got.topic == answer.topic


def test_default_mode_never_imports_the_model() -> None:
    env = {k: v for k, v in os.environ.items() if k != "RETRIEVAL"}
    code = (
        "import sys, asyncio\n"
        "from bot.app import build_dialogue\n"
        "from bot.core.types import Incoming\n"
        "d = build_dialogue()\n"
        "asyncio.run(d.handle(Incoming('t', 'u', 'u', text='is deadlifting bad for my back')))\n"
        "assert 'bot.embeddings' not in sys.modules, 'embeddings imported'\n"
        "assert 'bot.phrase_index' not in sys.modules, 'phrase index imported'\n"
        "assert 'bot.core.hybrid' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env, timeout=60)


@pytest.fixture(scope="module")
def hybrid_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    pytest.importorskip("tokenizers")
    pytest.importorskip("safetensors")
    from bot import embeddings

    if not embeddings.available():
        pytest.skip(f"{embeddings.PIP_NAME} is not installed")
    cache = os.environ.get("EMBEDDING_CACHE_DIR") or tmp_path_factory.mktemp("vectors")
    return Settings(_env_file=None, retrieval="hybrid", embedding_cache_dir=Path(cache))


@pytest.mark.parametrize(("text", "topic"), MISSED)
async def test_hybrid_dialogue_answers_what_lexical_misses(
    hybrid_settings: Settings, store: MemoryStore, text: str, topic: str
) -> None:
    lexical = Chat(build_dialogue(store, Settings(_env_file=None, retrieval="lexical")), "lex")
    await lexical.say(text)
    assert lexical.last[0].topic != topic

    dialogue = build_dialogue(store, hybrid_settings, warm=True)
    assert isinstance(dialogue.library.retriever, HybridRetriever)
    chat = Chat(dialogue, "hyb")
    await chat.say(text)
    assert chat.last[0].kind is Kind.FAQ and chat.last[0].topic == topic
    faq = {e.id: e for e in load_kb().faq}
    assert faq[topic].answer.strip()[:40] in chat.text
