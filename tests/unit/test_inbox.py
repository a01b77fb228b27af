"""The unanswered-question inbox in the core: what the Dialogue records (and what it never
does), how questions cluster, and the one-line insertion into faq.yaml."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot import kb as kb_module
from bot.app import build_dialogue
from bot.config import DEFAULT_KNOWLEDGE_DIR
from bot.core import inbox
from bot.core.ports import Candidate, InboxItem, Unanswered, UserKey
from bot.core.types import Incoming, Kind, Reply
from bot.errors import KnowledgeError, StorageUnavailable
from bot.faq_edit import _check_then_replace, add_alternate, insert_alternate
from bot.storage.memory import MemoryStore
from tests.conftest import Chat

CRACK = ("does cracking your back cause arthritis", "does cracking my back cause arthritis")
DECLINED = "will a copper bracelet help my back"


def recorded(store: MemoryStore) -> list[Unanswered]:
    return [i.question for i in store.inbox.values()]


# -- what gets recorded ----------------------------------------------------------------------


async def test_did_you_mean_and_a_decline_about_the_back_are_recorded_with_candidates() -> None:
    store = MemoryStore()
    chat = Chat(build_dialogue(store), platform="telegram")
    [suggest] = await chat.say(CRACK[0])
    assert suggest.kind is Kind.SUGGEST
    [declined] = await chat.say(DECLINED)
    assert declined.kind is Kind.OUT_OF_SCOPE and declined.topic == "unclear"
    first, second = recorded(store)
    assert (first.text, first.reason, first.platform) == (CRACK[0], "suggest", "telegram")
    assert first.user == UserKey("telegram", "u1")
    # Candidates are what retrieval ranked, with scores, the suggested topic first.
    assert first.candidates[0] == Candidate(suggest.topic or "", suggest.score or 0.0)
    assert second.reason == "declined" and len(second.candidates) == 3
    assert all(0 < c.score < 0.5 for c in second.candidates)


async def test_answered_questions_red_flags_and_screened_messages_are_not_recorded() -> None:
    store = MemoryStore()
    chat = Chat(build_dialogue(store))
    [answer] = await chat.say("how long should I hold a plank?")
    assert answer.kind is Kind.FAQ and answer.score is not None and answer.score >= 0.55
    [flag, *_] = await chat.say("my back hurts and I cant control my bladder since this morning")
    assert flag.kind is Kind.RED_FLAG
    [screen] = await chat.say("back pain with a mild fever, which exercise is best")
    assert screen.kind is Kind.SCREEN
    # The kept question is answered now, on a button press (an answer or "did you mean"):
    # what a button brings is never recorded.
    after = await chat.press("No, none")
    assert {Kind.SUGGEST, Kind.FAQ} & {r.kind for r in after}
    await chat.say("what's the best pizza recipe")  # out of scope, not about the back
    assert recorded(store) == []


async def test_a_low_confidence_answer_is_recorded() -> None:
    store = MemoryStore()
    chat = Chat(build_dialogue(store))
    [reply] = await chat.say("is cracking my back harmful")
    assert reply.kind is Kind.FAQ and reply.score is not None and reply.score < 0.55
    [q] = recorded(store)
    assert q.reason == "low_confidence" and q.candidates[0].topic == reply.topic


async def test_recording_waits_until_the_replies_are_delivered() -> None:
    store = MemoryStore()
    dialogue = build_dialogue(store)
    async with dialogue.turn(Incoming("test", "u1", "u1", text=DECLINED)) as replies:
        assert replies[0].kind is Kind.OUT_OF_SCOPE
        assert store.inbox == {}  # still delivering: nothing written yet
    assert [q.text for q in recorded(store)] == [DECLINED]


class NoInbox(MemoryStore):
    async def record_unanswered(self, question: Unanswered) -> None:
        raise StorageUnavailable("database unavailable (test)")


async def test_an_inbox_that_cannot_be_written_never_costs_the_answer() -> None:
    [reply] = await Chat(build_dialogue(NoInbox())).say(DECLINED)
    assert reply.kind is Kind.OUT_OF_SCOPE and reply.topic == "unclear"


async def test_forget_unlinks_and_export_shows_inbox_questions() -> None:
    store = MemoryStore()
    await Chat(build_dialogue(store)).say(DECLINED)
    key = UserKey("test", "u1")
    exported = await store.export(key)
    assert [r["text"] for r in exported["unanswered_questions"]] == [DECLINED]
    assert "user" not in exported  # they only asked: nothing else is stored about them
    assert await store.forget(key) == 1
    assert await store.export(key) == {}
    [q] = recorded(store)
    assert q.text == DECLINED and q.user is None


async def test_old_questions_forget_who_asked() -> None:
    store = MemoryStore()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    for days in (31, 29):
        q = Unanswered("q", "suggest", (), "test", UserKey("test", "u1"), now - timedelta(days))
        await store.record_unanswered(q)
    assert await inbox.forget_old_askers(store, now) == 1
    assert [i.question.user for i in await store.inbox_items()] == [None, UserKey("test", "u1")]


# -- clusters ---------------------------------------------------------------------------------


def _item(i: int, text: str, *cands: tuple[str, float]) -> InboxItem:
    at = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(minutes=i)
    q = Unanswered(text, "suggest", tuple(Candidate(t, s) for t, s in cands), "test", None, at)
    return InboxItem(i, q)


def test_similar_questions_cluster_and_sharing_only_back_does_not() -> None:
    items = [
        _item(1, "is it bad to crack my back", ("a", 0.4), ("b", 0.3)),
        _item(2, "can a massage gun help my back", ("c", 0.3)),
        _item(3, "should i crack my own back", ("b", 0.45)),
        _item(4, "is a massage gun good for back pain", ("c", 0.35)),
        _item(5, "can cracking my back cause damage", ("a", 0.5)),
        _item(6, "my back is itchy"),
    ]
    clusters = inbox.cluster(items)
    assert [[i.id for i in c.items] for c in clusters] == [[1, 3, 5], [2, 4], [6]]
    assert [(c.id, c.count) for c in clusters] == [(1, 3), (2, 2), (6, 1)]
    # Offered by most members first, each at its best score.
    assert clusters[0].candidates == (Candidate("a", 0.5), Candidate("b", 0.45))
    assert clusters[2].candidates == ()


# -- faq.yaml edits ---------------------------------------------------------------------------

FAQ = """\
# a comment that must stay
entries:
  - id: first   # trailing comment
    question: First?
    alternates:
      - one
      - "two: quoted"
      - >-
        three folded
        over lines
    answer: |-
      Yes.
    sources: [s]

  - id: second
    question: Second?
    alternates: [x, y, z]
    answer: No.
    sources: [s]
"""


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_insertion_adds_one_line_after_the_last_alternate_and_keeps_every_other_byte(
    newline: str,
) -> None:
    source = FAQ.replace("\n", newline)
    new, line = insert_alternate(source, "first", "what's it: #1 or not")
    lines, before = new.splitlines(keepends=True), source.splitlines(keepends=True)
    assert line == 11 and lines[: line - 1] + lines[line:] == before
    assert lines[line - 1] == '      - "what\'s it: #1 or not"' + newline
    alts = yaml.safe_load(new)["entries"][0]["alternates"]
    assert alts == ["one", "two: quoted", "three folded over lines", "what's it: #1 or not"]
    plain, _ = insert_alternate(source, "first", "is it ok")
    assert "      - is it ok" + newline in plain


def test_insertion_refuses_what_it_cannot_do_cleanly() -> None:
    with pytest.raises(KnowledgeError, match="no entry with id 'third'"):
        insert_alternate(FAQ, "third", "x")
    with pytest.raises(KnowledgeError, match="second: no block list of alternates"):
        insert_alternate(FAQ, "second", "x")


@pytest.fixture
def kdir(tmp_path: Path) -> Path:
    d = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, d)
    return d


def test_a_change_that_fails_kb_check_leaves_the_file_untouched(kdir: Path) -> None:
    path = kdir / "faq.yaml"
    before = path.read_bytes()
    broken = before.decode().replace("follow_up: [relieve_back_pain,", "follow_up: [nowhere,", 1)
    with pytest.raises(KnowledgeError, match=r"kb check failed.*left unchanged") as e:
        _check_then_replace(kdir, path, broken)
    assert "nowhere" in str(e.value)
    assert path.read_bytes() == before


def test_add_alternate_refuses_duplicates_and_exercises(kdir: Path) -> None:
    before = (kdir / "faq.yaml").read_bytes()
    with pytest.raises(KnowledgeError, match="already a phrasing of back_pain_prevalence"):
        add_alternate(kdir, "relieve_back_pain", "Is back pain common?")
    with pytest.raises(KnowledgeError, match="that is an exercise"):
        add_alternate(kdir, "plank", "x y z")
    with pytest.raises(KnowledgeError, match="at most 200"):
        add_alternate(kdir, "relieve_back_pain", "word " * 60)
    assert (kdir / "faq.yaml").read_bytes() == before
    added = add_alternate(kdir, "relieve_back_pain", "  can a  massage gun help my back ")
    assert added.phrasing == "can a massage gun help my back"
    kb = kb_module.load(kdir)
    alternates = next(e for e in kb.faq if e.id == "relieve_back_pain").alternates
    assert alternates[-1] == "can a massage gun help my back"


def test_reason_of_each_reply_kind() -> None:
    assert inbox.reason(Reply("?", kind=Kind.SUGGEST)) == "suggest"
    assert inbox.reason(Reply("?", kind=Kind.OUT_OF_SCOPE, topic="unclear")) == "declined"
    assert inbox.reason(Reply("?", kind=Kind.OUT_OF_SCOPE)) is None  # not about the back
    assert inbox.reason(Reply("a", kind=Kind.FAQ, topic="t", score=0.54)) == "low_confidence"
    assert inbox.reason(Reply("a", kind=Kind.FAQ, topic="t", score=0.55)) is None
    assert inbox.reason(Reply("a", kind=Kind.FAQ, topic="t")) is None  # a button's answer
    assert inbox.reason(Reply("!", kind=Kind.RED_FLAG)) is None
