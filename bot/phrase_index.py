"""The knowledge base's phrasings as sentence vectors: the `Similarity` port of
bot/core/hybrid.py, for RETRIEVAL=hybrid. Only bot/app.py builds one, and only in that mode.

The model (bot/embeddings.py) loads in a background thread, started by the first message that
needs it (so `backbot ask "hi"` never loads it) or at start-up by `backbot run`. A message that
arrives before it is ready waits for it at most `wait_s`, once per process; after that, messages
get None (the core then decides lexically) until the model is in.

Encoding every phrasing takes seconds, so the vectors are cached on disk, one .npy file named by
a hash of the phrasings and the encoder's fingerprint: editing the knowledge base or changing
the model makes a new file, never a stale answer. A process that has to build the vectors waits
for them at exit (the thread is not a daemon), so the next start finds them.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from bot.kb import KnowledgeBase

logger = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
QUERY_MEMO = 64  # a message is often decided twice (its question, then the whole message)


class Encoder(Protocol):
    fingerprint: str  # changes whenever the vectors it gives would

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> F32: ...


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "backbot"


def load_minilm() -> Encoder:
    from bot.embeddings import MiniLM

    return MiniLM.load()


def cache_key(phrasings: Sequence[tuple[str, str]], fingerprint: str) -> str:
    h = hashlib.sha256(fingerprint.encode())
    for topic, text in phrasings:
        h.update(b"\x00" + topic.encode() + b"\x01" + text.encode())
    return h.hexdigest()[:24]


def cached_vectors(
    encoder: Encoder, phrasings: Sequence[tuple[str, str]], cache_dir: Path | None
) -> tuple[F32, bool]:
    """The phrasings' vectors from the cache, or encoded (and cached); and whether they were
    read from the cache. An unreadable or unwritable cache only costs the encoding."""
    path = None
    if cache_dir is not None:
        path = cache_dir / f"kb-vectors-{cache_key(phrasings, encoder.fingerprint)}.npy"
        try:
            vecs = np.load(path, allow_pickle=False)
            if vecs.shape == (len(phrasings), vecs.shape[1]) and vecs.dtype == np.float32:
                return vecs, True
            logger.warning("embedding cache %s has the wrong shape: rebuilding", path)
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as e:
            logger.warning("embedding cache %s unreadable (%s): rebuilding", path, e)
    vecs = encoder.encode([t for _, t in phrasings])
    if path is not None:
        tmp: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                np.save(f, vecs, allow_pickle=False)
            os.replace(tmp, path)
        except OSError as e:
            logger.warning("embedding cache %s not written (%s)", path, e)
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
    return vecs, False


class PhraseIndex:
    """`Similarity` over (topic, phrasing) pairs; see the module docstring."""

    def __init__(
        self,
        phrasings: Sequence[tuple[str, str]],
        *,
        cache_dir: Path | None = None,
        wait_s: float = 3.0,
        loader: Callable[[], Encoder] = load_minilm,
    ) -> None:
        # Grouped by topic, so a topic's best phrasing is one np.maximum.reduceat.
        self._phrasings = sorted(phrasings, key=lambda p: p[0])
        topics = [t for t, _ in self._phrasings]
        self._starts = np.array(
            [i for i, t in enumerate(topics) if i == 0 or t != topics[i - 1]], dtype=np.intp
        )
        self._topics = [topics[i] for i in self._starts.tolist()]
        self._cache_dir = cache_dir
        self._wait_s = wait_s
        self._loader = loader
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._waited = False
        self._encoder: Encoder | None = None
        self._vectors: F32 | None = None
        self._memo: OrderedDict[str, dict[str, float]] = OrderedDict()
        self.error: str | None = None
        self.from_cache: bool | None = None

    def start(self) -> None:
        """Load the model and the vectors in the background (once)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._load, name="phrase-index")
                self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Start loading if not yet, and wait for it; whether it is usable."""
        self.start()
        self._ready.wait(timeout)
        return self.ready

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self._vectors is not None

    def _load(self) -> None:
        try:
            encoder = self._loader()
            self._vectors, self.from_cache = cached_vectors(
                encoder, self._phrasings, self._cache_dir
            )
            self._encoder = encoder
        except Exception as e:  # a missing or broken model: lexical retrieval, and say so
            self.error = f"{type(e).__name__}: {e}"
            logger.warning("sentence embeddings unavailable, retrieval stays lexical: %s", e)
        finally:
            self._ready.set()

    def similarities(self, text: str) -> Mapping[str, float] | None:
        if not self._ready.is_set():
            self.start()
            if self._waited or not self._ready.wait(self._wait_s):
                if not self._waited:
                    logger.info("embedding model not ready after %.1f s: lexical", self._wait_s)
                self._waited = True
                return None
        if self._encoder is None or self._vectors is None:
            return None
        hit = self._memo.get(text)
        if hit is not None:
            return hit
        sims = self._vectors @ self._encoder.encode([text])[0]
        best = np.maximum.reduceat(sims, self._starts)
        out = dict(zip(self._topics, best.tolist(), strict=True))
        with self._lock:
            self._memo[text] = out
            while len(self._memo) > QUERY_MEMO:
                self._memo.popitem(last=False)
        return out


def kb_phrasings(kb: KnowledgeBase) -> list[tuple[str, str]]:
    """Every FAQ question and alternate, every exercise name and alias, with its topic."""
    out: list[tuple[str, str]] = []
    for e in kb.faq:
        out += [(e.id, e.question), *((e.id, a) for a in e.alternates)]
    for x in kb.exercises.values():
        out += [(x.id, n) for n in (x.name, *x.aliases)]
    return out
