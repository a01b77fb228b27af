"""Build the red-flag model from the knowledge base (`backbot triage build`).

Classes: "none" and one per red flag. Examples: every labelled message in
knowledge/red_flag_examples.jsonl, plus our own FAQ phrasings and exercise names as ordinary
messages, plus every *sentence* of the ordinary messages on its own: at run time each window
(one or two sentences) is scored and the highest score counts, so the model must see ordinary
sentences as ordinary whatever length the message around them had. A second pass adds, for each
red-flag message of several sentences, its most red-flag-like window as an extra example of
that flag (multiple-instance learning), so the model learns the sentence that carries the flag
rather than the story around it.

scikit-learn is used only here; the shipped artefact is scored by bot/core/triage_model.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.core.safety import sentences, windows
from bot.core.triage_model import NONE_CLASS, TriageModel, features
from bot.kb import KnowledgeBase, RedFlagExample

C = 8.0  # inverse regularisation; chosen by leave-one-set-out (tools/triage_loso.py)
MIN_DF = 2


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    label: str  # NONE_CLASS or a red-flag id


def ordinary_phrasings(kb: KnowledgeBase) -> list[str]:
    """Our own FAQ phrasings and exercise names: everyday back talk that is not a red flag."""
    return [
        *(a for e in kb.faq for a in (e.question, *e.alternates)),
        *(a for x in kb.exercises.values() for a in (x.name, *x.aliases)),
    ]


def training_rows(examples: Sequence[RedFlagExample], ordinary: Sequence[str]) -> list[Labelled]:
    rows: list[Labelled] = []
    for e in examples:
        label = e.topic if e.red_flag and e.topic else NONE_CLASS
        rows.append(Labelled(e.text, label))
        if not e.red_flag:
            parts = sentences(e.text)
            if len(parts) > 1:
                rows.extend(Labelled(s, NONE_CLASS) for s in parts)
    rows.extend(Labelled(t, NONE_CLASS) for t in ordinary)
    return rows


def _fit(rows: Sequence[Labelled]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(analyzer=features, sublinear_tf=True, min_df=MIN_DF, dtype=np.float32),
        LogisticRegression(C=C, max_iter=3000),
    )
    # Ordinary messages weigh as much, in total, as all red flags together (not one ninth, as
    # "balanced" over nine classes would make them): unsure wording stays near 0.5, not above.
    n_none = sum(r.label == NONE_CLASS for r in rows)
    n_flag = len(rows) - n_none
    weights = [n_flag / max(1, n_none) if r.label == NONE_CLASS else 1.0 for r in rows]
    model.fit(
        [r.text for r in rows], [r.label for r in rows], logisticregression__sample_weight=weights
    )
    return model


def _to_model(pipeline: Any, meta: dict[str, object]) -> TriageModel:
    vec, lr = pipeline.steps[0][1], pipeline.steps[1][1]
    vocab = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
    classes = tuple(str(c) for c in lr.classes_)
    coef, intercept = lr.coef_, lr.intercept_
    if len(classes) == 2:  # scikit-learn keeps one row for two classes: make it a softmax pair
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return TriageModel(
        vocabulary={v: i for i, v in enumerate(vocab)},
        idf=vec.idf_.astype(np.float32),
        coef=np.ascontiguousarray(coef.astype(np.float32).T),
        intercept=intercept.astype(np.float32),
        classes=classes,
        meta=meta,
    )


def train(examples: Sequence[RedFlagExample], ordinary: Sequence[str]) -> TriageModel:
    """Two passes: messages and ordinary sentences, then each flag's best window added."""
    rows = training_rows(examples, ordinary)
    first = _to_model(_fit(rows), {})
    extra = []
    for e in examples:
        if e.red_flag and e.topic and len(sentences(e.text)) > 1:
            best = max(windows(e.text), key=lambda w: first.score([w])[0])
            extra.append(Labelled(best, e.topic))
    digest = hashlib.sha256(
        json.dumps([(e.text, e.red_flag, e.topic) for e in examples]).encode()
        + json.dumps(list(ordinary)).encode()
    ).hexdigest()[:16]
    meta: dict[str, object] = {
        "examples": len(examples),
        "rows": len(rows) + len(extra),
        "C": C,
        "min_df": MIN_DF,
        "sha": digest,
    }
    return _to_model(_fit([*rows, *extra]), meta)


def save(model: TriageModel, path: Path) -> None:
    vocab = sorted(model.vocabulary, key=model.vocabulary.__getitem__)
    with path.open("wb") as f:
        np.savez_compressed(
            f,
            vocabulary=np.array(vocab),
            idf=model.idf,
            coef=np.ascontiguousarray(model.coef.T),
            intercept=model.intercept,
            classes=np.array(model.classes),
            meta=np.array(json.dumps(model.meta, sort_keys=True)),
        )


def build(kb: KnowledgeBase) -> tuple[Path, TriageModel]:
    """Train on the knowledge base's examples and write the artefact safety.yaml names."""
    if kb.model_path is None or not kb.red_flag_examples:
        raise ValueError("safety.yaml configures no model (model: artefact/examples)")
    model = train(kb.red_flag_examples, ordinary_phrasings(kb))
    save(model, kb.model_path)
    return kb.model_path, model
