"""The inbox round trip as an operator meets it, on SQLite and PostgreSQL: questions the bot
could not answer go through the real Dialogue into the real SqlStore, `backbot inbox` (the
real CLI entry point) clusters them, `promote` teaches a copy of the knowledge base, and a
fresh Dialogue on that copy answers the same question. Bad input gets one line and exit 2."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot import cli
from bot import kb as kb_module
from bot.app import build_dialogue, housekeeping
from bot.config import DEFAULT_KNOWLEDGE_DIR, Settings
from bot.core.dialogue import Dialogue
from bot.core.ports import Unanswered, UserKey
from bot.core.types import Kind
from bot.storage.memory import MemoryStore
from bot.storage.models import UnansweredQuestion
from bot.storage.store import SqlStore, create_engine
from tests.conftest import Chat
from tests.storage.conftest import count

# Two wordings of one question the knowledge base does not cover (KB pass 7 added an entry on
# back cracking and KB pass 10 one on acupuncture, which earlier pairs asked about).
ASKED_TWICE = ("is reiki good for my back", "does reiki help my back")
DECLINED = "will a copper bracelet help my back"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def kdir(tmp_path: Path) -> Path:
    d = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, d)
    return d


async def cli_on(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the CLI's store at this test's database (its own schema on PostgreSQL): the CLI
    runs in a thread with an event loop of its own, so it gets an engine of its own too."""
    url = store.engine.url.render_as_string(hide_password=False)
    args: dict[str, Any] = {}
    if store.dialect == "postgresql":
        async with store.engine.connect() as conn:
            path = (await conn.execute(text("SHOW search_path"))).scalar_one()
        args = {"server_settings": {"search_path": path}}

    async def open_store(settings: Settings) -> SqlStore:
        return SqlStore(create_engine(url, connect_args=args), retry_delay=0)

    monkeypatch.setattr("bot.app.open_store", open_store)


async def backbot(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`backbot ARGV...` through the real entry point: (exit code, stdout, stderr)."""
    capsys.readouterr()
    rc = await asyncio.to_thread(cli.main, list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


async def test_inbox_round_trip(
    store: SqlStore,
    kdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KNOWLEDGE_DIR", str(kdir))
    await cli_on(store, monkeypatch)
    settings = Settings(_env_file=None, knowledge_dir=kdir)  # type: ignore[call-arg]
    ann = Chat(build_dialogue(store, settings), user="ann", platform="telegram")
    bob = Chat(build_dialogue(store, settings), user="bob", platform="discord")

    # Three questions the bot cannot answer, and two it must not record.
    # "Did you mean" or the honest "not sure which answer fits": both are recorded.
    for chat, question in ((ann, ASKED_TWICE[0]), (bob, ASKED_TWICE[1])):
        [got] = await chat.say(question)
        assert got.kind is Kind.SUGGEST or (
            got.kind is Kind.OUT_OF_SCOPE and got.topic == "unclear"
        )
    [declined] = await ann.say(DECLINED)
    assert declined.kind is Kind.OUT_OF_SCOPE and declined.topic == "unclear"
    assert (await ann.say("how long should I hold a plank?"))[0].kind is Kind.FAQ
    flag = await bob.say("my back hurts and I cant control my bladder since this morning")
    assert flag[0].kind is Kind.RED_FLAG
    assert await count(store, UnansweredQuestion) == 3

    rc, out, err = await backbot(capsys, "inbox", "--json")
    assert rc == 0, err
    listing = json.loads(out)
    assert listing["open"] == 3
    clusters = listing["clusters"]
    assert [[i["text"] for i in c["items"]] for c in clusters] == [list(ASKED_TWICE), [DECLINED]]
    assert [c["count"] for c in clusters] == [2, 1]
    assert clusters[0]["candidates"] and all(0 < c["score"] < 1 for c in clusters[0]["candidates"])
    assert [i["platform"] for i in clusters[0]["items"]] == ["telegram", "discord"]
    assert "ann" not in out and "bob" not in out  # the operator sees no user ids
    massage_id = clusters[1]["id"]

    rc, out, _ = await backbot(capsys, "inbox")
    assert rc == 0
    assert "3 open question(s) in 2 cluster(s)" in out and f'#{massage_id}  ×1  "{DECLINED}"' in out

    faq = kdir / "faq.yaml"
    before = faq.read_text().splitlines(keepends=True)
    rc, out, err = await backbot(capsys, "inbox", "promote", str(massage_id), "relieve_back_pain")
    assert rc == 0, err
    assert "kb check passed" in out
    after = faq.read_text().splitlines(keepends=True)
    [added] = [i for i, line in enumerate(after) if DECLINED in line]
    assert after[:added] + after[added + 1 :] == before  # one line in, nothing else moved
    assert after[added] == f"      - {DECLINED}\n"

    # A fresh Dialogue on the promoted knowledge base answers the same question.
    fresh = Dialogue(kb_module.load(kdir), MemoryStore())
    [answer] = await Chat(fresh).say(DECLINED)
    assert answer.kind is Kind.FAQ and answer.topic == "relieve_back_pain"

    rc, out, _ = await backbot(capsys, "inbox", "--json", "--all")
    listing = json.loads(out)
    assert listing["open"] == 2 and [c["count"] for c in listing["clusters"]] == [2]
    assert [(r["id"], r["status"], r["faq_id"]) for r in listing["resolved"]] == [
        (massage_id, "promoted", "relieve_back_pain")
    ]
    asked_ids = [i["id"] for i in listing["clusters"][0]["items"]]
    rc, out, _ = await backbot(capsys, "inbox", "dismiss", *map(str, asked_ids))
    assert rc == 0 and out.startswith("dismissed")
    rc, out, _ = await backbot(capsys, "inbox")
    assert "The inbox is empty" in out

    # /export shows a user their questions; /forget unlinks them and keeps the questions.
    exported = await store.export(UserKey("telegram", "ann"))
    assert [r["text"] for r in exported["unanswered_questions"]] == [ASKED_TWICE[0], DECLINED]
    assert await store.forget(UserKey("telegram", "ann")) == 2
    assert await store.export(UserKey("telegram", "ann")) == {}
    assert await count(store, UnansweredQuestion) == 3
    assert await count(store, UnansweredQuestion, UnansweredQuestion.user_id.is_(None)) == 2


async def test_user_links_go_after_30_days_on_any_inbox_command_and_in_the_running_bot(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await cli_on(store, monkeypatch)
    now = datetime.now(UTC)

    async def ask(days: float, user: str) -> None:
        at = now - timedelta(days=days)
        await store.record_unanswered(
            Unanswered("q", "suggest", (), "telegram", UserKey("telegram", user), at)
        )

    await ask(31, "old")
    await ask(29, "recent")
    linked = UnansweredQuestion.user_id.is_not(None)
    rc, _, _ = await backbot(capsys, "inbox")
    assert rc == 0
    assert [i.question.user for i in await store.inbox_items()] == [
        None,
        UserKey("telegram", "recent"),
    ]

    await ask(40, "older")
    assert await count(store, UnansweredQuestion, linked) == 2
    chores = asyncio.create_task(housekeeping(store, every=3600))
    try:
        for _ in range(100):
            if await count(store, UnansweredQuestion, linked) == 1:
                break
            await asyncio.sleep(0.02)
    finally:
        chores.cancel()
    assert await count(store, UnansweredQuestion, linked) == 1


async def test_bad_inbox_commands_say_what_is_wrong_in_one_line(
    store: SqlStore,
    kdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KNOWLEDGE_DIR", str(kdir))
    await cli_on(store, monkeypatch)
    await Chat(build_dialogue(store)).say(DECLINED)
    [item] = await store.inbox_items()
    faq = kdir / "faq.yaml"
    pristine = faq.read_bytes()

    async def fails(*argv: str) -> str:
        rc, _, err = await backbot(capsys, "inbox", *argv)
        assert rc == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        assert faq.read_bytes() == pristine
        return err.strip()

    assert await fails("promote", "999", "relieve_back_pain") == (
        "backbot: no inbox item #999 (see `backbot inbox`)"
    )
    assert "no FAQ entry with id 'nope'" in await fails("promote", str(item.id), "nope")
    assert "that is an exercise" in await fails("promote", str(item.id), "plank")
    assert "must be a number, got 'x'" in await fails("dismiss", "x")
    assert "usage: backbot inbox promote ID FAQ_ID" in await fails("promote", str(item.id))
    assert "no inbox item #998" in await fails("dismiss", str(item.id), "998")
    assert (await store.inbox_items())[0].status == "open"  # nothing dismissed by halves

    rc, _, _ = await backbot(capsys, "inbox", "dismiss", str(item.id))
    assert rc == 0
    assert "already dismissed" in await fails("promote", str(item.id), "relieve_back_pain")


def _backbot(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_malformed_knowledge_base_is_never_promoted_into(
    store: SqlStore, kdir: Path, tmp_path: Path
) -> None:
    """The installed command in a subprocess, as an operator runs it."""
    await Chat(build_dialogue(store)).say(DECLINED)
    [item] = await store.inbox_items()
    faq = kdir / "faq.yaml"
    broken = faq.read_text().replace("follow_up: [relieve_back_pain,", "follow_up: [gone,", 1)
    faq.write_text(broken)
    env = {
        "DATABASE_URL": store.engine.url.render_as_string(hide_password=False),
        "KNOWLEDGE_DIR": str(kdir),
    }
    run: Callable[..., Awaitable[subprocess.CompletedProcess[str]]] = asyncio.to_thread
    done = await run(_backbot, env, "inbox", "promote", str(item.id), "relieve_back_pain")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "faq.yaml" in done.stderr and "gone" in done.stderr
    assert faq.read_text() == broken
    assert (await store.inbox_items())[0].status == "open"
    # Listing still works on a broken knowledge base (clusters without synonyms).
    listed = await run(_backbot, env, "inbox", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout)["open"] == 1
