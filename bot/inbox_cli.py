"""`backbot inbox`: the questions the bot could not answer, grouped, for whoever runs it.

    backbot inbox [--json] [--all]          clusters of similar open questions, top candidates
    backbot inbox promote ID FAQ_ID         add question ID's phrasing to an FAQ entry (kb check)
    backbot inbox dismiss ID [ID ...]       take questions out of the inbox

Every command first drops who asked from questions older than 30 days (so does start-up and
an hourly job of `backbot run`). The knowledge base changes only through `promote`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.core import inbox
from bot.core.ports import Candidate, InboxItem, InboxStore
from bot.core.text import Normalizer
from bot.errors import InboxError, KnowledgeError

logger = logging.getLogger(__name__)

SHOWN_PER_CLUSTER = 3  # phrasings printed per cluster (all of them in --json)


async def run(
    store: InboxStore,
    knowledge_dir: Path,
    action: str | None,
    ids: Sequence[str],
    *,
    as_json: bool = False,
    show_all: bool = False,
    now: datetime | None = None,
) -> int:
    """One `backbot inbox` command on an open store; prints its result, returns the exit code."""
    now = now or datetime.now(UTC)
    await inbox.forget_old_askers(store, now)
    if action is None:
        return await _list(store, knowledge_dir, as_json=as_json, show_all=show_all)
    if action == "promote":
        if len(ids) != 2:
            raise InboxError("usage: backbot inbox promote ID FAQ_ID")
        return await _promote(store, knowledge_dir, _item_id(ids[0]), ids[1], now, as_json)
    if action == "dismiss":
        if not ids:
            raise InboxError("usage: backbot inbox dismiss ID [ID ...]")
        return await _dismiss(store, [_item_id(i) for i in ids], now, as_json)
    raise InboxError(f"unknown inbox command {action!r}: use promote or dismiss")


def _item_id(raw: str) -> int:
    text = raw.lstrip("#")
    if not text.isdigit():
        raise InboxError(f"inbox item id must be a number, got {raw!r}")
    return int(text)


async def _open_item(store: InboxStore, item_id: int) -> InboxItem:
    item = await store.inbox_item(item_id)
    if item is None:
        raise InboxError(f"no inbox item #{item_id} (see `backbot inbox`)")
    if item.status != "open":
        done = f" to {item.faq_id}" if item.faq_id else ""
        raise InboxError(f"inbox item #{item_id} was already {item.status}{done}")
    return item


def _normalizer(knowledge_dir: Path) -> Normalizer:
    """Synonyms of the knowledge base, so "lumbar" and "lower back" cluster together; plain
    words when the knowledge base cannot be read (listing never depends on it)."""
    from bot import kb as kb_module

    try:
        return Normalizer(kb_module.load(knowledge_dir, need_artefact=False).synonyms)
    except KnowledgeError as e:
        logger.warning("inbox: knowledge base unreadable, clustering without synonyms: %s", e)
        return Normalizer({})


async def _list(store: InboxStore, knowledge_dir: Path, *, as_json: bool, show_all: bool) -> int:
    items = await store.inbox_items("open")
    clusters = inbox.cluster(items, _normalizer(knowledge_dir))
    if as_json:
        out = {
            "open": len(items),
            "clusters": [_cluster_json(c) for c in clusters],
        }
        if show_all:
            out["resolved"] = [
                _item_json(i) for i in await store.inbox_items(None) if i.status != "open"
            ]
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    if not items:
        print("The inbox is empty: no unanswered questions.")
    else:
        print(f"{len(items)} open question(s) in {len(clusters)} cluster(s), biggest first:\n")
    for c in clusters:
        first = c.items[0]
        print(f"#{c.id}  ×{c.count}  {_quote(first.question.text)}")
        for other in c.items[1:SHOWN_PER_CLUSTER]:
            print(f"      #{other.id}  {_quote(other.question.text)}")
        if c.count > SHOWN_PER_CLUSTER:
            rest = ", ".join(f"#{i.id}" for i in c.items[SHOWN_PER_CLUSTER:])
            print(f"      and {c.count - SHOWN_PER_CLUSTER} more: {rest}")
        reasons = ", ".join(sorted({i.question.reason for i in c.items}))
        print(f"      got: {reasons}; candidates: {_candidates(c.candidates)}")
    if show_all:
        done = [i for i in await store.inbox_items(None) if i.status != "open"]
        if done:
            print("\nResolved:")
        for i in done:
            to = f" -> {i.faq_id}" if i.faq_id else ""
            print(f"#{i.id}  {i.status}{to}  {_quote(i.question.text)}")
    if items:
        print(
            "\nbackbot inbox promote ID FAQ_ID adds a phrasing to an FAQ entry; "
            "backbot inbox dismiss ID [ID ...] drops questions."
        )
    return 0


async def _promote(
    store: InboxStore,
    knowledge_dir: Path,
    item_id: int,
    faq_id: str,
    now: datetime,
    as_json: bool,
) -> int:
    from bot.core.questions import extract
    from bot.faq_edit import add_alternate

    item = await _open_item(store, item_id)
    text = item.question.text
    ex = extract(text)  # a story's question, not the story
    added = add_alternate(knowledge_dir, faq_id, ex.query if ex.changed else text)
    await store.resolve_inbox_item(item_id, "promoted", faq_id, now)
    if as_json:
        print(
            json.dumps(
                {
                    "promoted": item_id,
                    "faq_id": faq_id,
                    "phrasing": added.phrasing,
                    "file": str(added.path),
                    "line": added.line,
                },
                ensure_ascii=False,
            )
        )
    else:
        print(
            f"#{item_id}: added {_quote(added.phrasing)} to {faq_id} "
            f"({added.path}, line {added.line}); kb check passed. "
            "Restart the bot to use it."
        )
    return 0


async def _dismiss(store: InboxStore, ids: list[int], now: datetime, as_json: bool) -> int:
    for item_id in ids:  # every id checked before any is changed
        await _open_item(store, item_id)
    for item_id in ids:
        await store.resolve_inbox_item(item_id, "dismissed", None, now)
    if as_json:
        print(json.dumps({"dismissed": ids}))
    else:
        print("dismissed " + ", ".join(f"#{i}" for i in ids))
    return 0


def _quote(text: str, limit: int = 100) -> str:
    one = " ".join(text.split())
    return json.dumps(one if len(one) <= limit else one[: limit - 1] + "…", ensure_ascii=False)


def _candidates(cands: Sequence[Candidate]) -> str:
    return ", ".join(f"{c.topic} {c.score:.2f}" for c in cands) or "none"


def _cand_json(cands: Sequence[Candidate]) -> list[dict[str, Any]]:
    return [{"topic": c.topic, "score": c.score} for c in cands]


def _item_json(item: InboxItem) -> dict[str, Any]:
    q = item.question
    return {
        "id": item.id,
        "text": q.text,
        "reason": q.reason,
        "platform": q.platform,
        "asked_at": q.asked_at.isoformat(),
        "candidates": _cand_json(q.candidates),
        "status": item.status,
        "faq_id": item.faq_id,
    }


def _cluster_json(c: inbox.Cluster) -> dict[str, Any]:
    return {
        "id": c.id,
        "count": c.count,
        "candidates": _cand_json(c.candidates),
        "items": [_item_json(i) for i in c.items],
    }
