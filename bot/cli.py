"""The `backbot` command: run, chat, ask, kb check, kb eval, inbox, triage build, db upgrade,
bench.

Platform libraries, SQLAlchemy and Pillow are imported only by the subcommands that need
them, so `backbot ask "hi"` starts fast.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Settings, load_settings
from bot.errors import BackbotError
from bot.logs import setup_logging

if TYPE_CHECKING:
    from bot.core.types import Reply

logger = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="backbot", description="backbot — a back-training coach.")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")
    sub.add_parser("run", help="run the bot on every platform with a token (console if none)")
    chat = sub.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--user", default=None, help="console user id (default: your login)")
    ask = sub.add_parser("ask", help="answer one message, or one per stdin line with '-'")
    ask.add_argument("text", help="the message, or - to read one message per line from stdin")
    ask.add_argument("--json", action="store_true", help="print one JSON object per message")
    ask.add_argument("--user", default="cli", help="user id for the conversation")
    kb = sub.add_parser("kb", help="knowledge base tools")
    kb_sub = kb.add_subparsers(dest="kb_cmd", metavar="KB_COMMAND", required=True)
    check = kb_sub.add_parser("check", help="validate the knowledge base's *.yaml")
    check.add_argument("--dir", type=Path, default=None, help="knowledge directory")
    kb_sub.add_parser(
        "literals", help="write the red-flag rules' literal analysis (knowledge/rule_literals.json)"
    )
    ev = kb_sub.add_parser("eval", help="score retrieval and triage on a JSONL question set")
    ev.add_argument("file", type=Path)
    ev.add_argument("--dir", type=Path, default=None, help="knowledge directory")
    ev.add_argument("--misses", type=int, default=40, help="how many misses to list")
    ib = sub.add_parser("inbox", help="questions the bot could not answer: list, promote, dismiss")
    ib.add_argument(
        "action", nargs="?", choices=("promote", "dismiss"), help="promote ID FAQ_ID, dismiss ID"
    )
    ib.add_argument("ids", nargs="*", metavar="ID", help="inbox item id(s), then the FAQ id")
    ib.add_argument("--json", action="store_true", help="print JSON for scripts")
    ib.add_argument("--all", action="store_true", help="also list promoted and dismissed ones")
    ib.add_argument("--dir", type=Path, default=None, help="knowledge directory")
    tr = sub.add_parser("triage", help="red-flag model tools")
    tr_sub = tr.add_subparsers(dest="triage_cmd", metavar="TRIAGE_COMMAND", required=True)
    tb = tr_sub.add_parser("build", help="train the red-flag model from knowledge/ and save it")
    tb.add_argument("--dir", type=Path, default=None, help="knowledge directory")
    db = sub.add_parser("db", help="database tools")
    db_sub = db.add_subparsers(dest="db_cmd", metavar="DB_COMMAND", required=True)
    db_sub.add_parser("upgrade", help="apply migrations to DATABASE_URL")
    dc = sub.add_parser("discord", help="Discord tools")
    dc_sub = dc.add_subparsers(dest="discord_cmd", metavar="DISCORD_COMMAND", required=True)
    dc_sub.add_parser("sync", help="push the slash commands to Discord now (once per deploy)")
    bench = sub.add_parser("bench", help="benchmarks that print figures")
    bench_sub = bench.add_subparsers(dest="bench_cmd", metavar="BENCH", required=True)
    ba = bench_sub.add_parser(
        "answers", help="per-message latency and RSS of the `backbot run` pipeline"
    )
    ba.add_argument("--entries", type=int, default=10_000)
    ba.add_argument("--queries", type=int, default=10_000)
    ba.add_argument("--users", type=int, default=2_000)
    br = bench_sub.add_parser("retrieval", help="the retriever alone, shipped KB and 50k entries")
    br.add_argument("--entries", type=int, default=50_000)
    br.add_argument("--queries", type=int, default=2_000)
    bench_sub.add_parser("triage", help="red-flag triage cost per message, model load, cold start")
    bl = bench_sub.add_parser("long", help="Dialogue.handle on 10,000-character messages, by shape")
    bl.add_argument("--length", type=int, default=10_000)
    bl.add_argument("--runs", type=int, default=15, help="messages per shape")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        setup_logging(settings.log_level, settings.secrets(), settings.log_format)
        return _dispatch(args, settings)
    except BackbotError as e:
        print(f"backbot: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`backbot kb eval ... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    cmd = args.cmd or "run"
    if cmd == "run":
        return _run(settings)
    if cmd == "chat":
        return asyncio.run(_chat(settings, args.user))
    if cmd == "ask":
        return asyncio.run(_ask(settings, args.text, args.json, args.user))
    if cmd == "kb":
        from bot import evaluation

        if args.kb_cmd == "check":
            return evaluation.check_command(args.dir or settings.knowledge_dir)
        if args.kb_cmd == "literals":
            from bot.config import DEFAULT_KNOWLEDGE_DIR

            return evaluation.literals_command(DEFAULT_KNOWLEDGE_DIR)
        return evaluation.eval_command(args.file, args.dir or settings.knowledge_dir, args.misses)
    if cmd == "inbox":
        return asyncio.run(_inbox(settings, args))
    if cmd == "triage":
        return _triage_build(args.dir or settings.knowledge_dir)
    if cmd == "db":
        from bot.storage.store import upgrade

        upgrade(settings.database_url)
        print("database is at the latest schema")
        return 0
    if cmd == "discord":
        from bot.app import sync_discord

        return asyncio.run(sync_discord(settings))
    if cmd == "bench":
        from bot import bench

        if args.bench_cmd == "triage":
            return bench.triage(settings)
        if args.bench_cmd == "retrieval":
            return bench.retrieval(settings, entries=args.entries, queries=args.queries)
        if args.bench_cmd == "long":
            return bench.long_messages(settings, length=args.length, runs=args.runs)
        return bench.answers(settings, entries=args.entries, queries=args.queries, users=args.users)
    return 2


async def _inbox(settings: Settings, args: argparse.Namespace) -> int:
    from bot import inbox_cli
    from bot.app import open_store

    # Migration chatter at INFO would bury the listing (warnings and errors still show).
    logging.getLogger().setLevel(max(logging.WARNING, logging.getLogger().level))
    store = await open_store(settings)
    try:
        return await inbox_cli.run(
            store,
            args.dir or settings.knowledge_dir,
            args.action,
            args.ids,
            as_json=args.json,
            show_all=args.all,
        )
    finally:
        await store.close()


def _triage_build(directory: Path) -> int:
    import time

    from bot import kb
    from bot.triage_train import build

    start = time.perf_counter()
    path, model = build(kb.load(directory, need_artefact=False))
    print(
        f"{path}: {len(model.classes)} classes, {len(model.vocabulary)} features, "
        f"trained on {model.meta['rows']} rows in {time.perf_counter() - start:.1f} s"
    )
    return 0


def _run(settings: Settings) -> int:
    if settings.telegram_token is None and settings.discord_token is None:
        if sys.stdin.isatty():
            print("No TELEGRAM_TOKEN or DISCORD_TOKEN set: opening the console chat.")
            return asyncio.run(_chat(settings, None))
        print(
            "backbot: no platform token: set TELEGRAM_TOKEN and/or DISCORD_TOKEN "
            "(or run `backbot chat` in a terminal)",
            file=sys.stderr,
        )
        return 2
    from bot.app import run_platforms

    asyncio.run(run_platforms(settings))
    return 0


async def _chat(settings: Settings, user: str | None) -> int:
    # Start-up logs (alembic logs at import) would interleave with the conversation.
    logging.getLogger().setLevel(max(logging.WARNING, logging.getLogger().level))
    from bot.adapters.console import ConsoleChat, ConsoleSender
    from bot.app import build_dialogue, open_store
    from bot.scheduler import ReminderScheduler

    store = await open_store(settings)
    scheduler = None
    try:
        dialogue = build_dialogue(store, settings)
        chat = ConsoleChat(dialogue.handle, user_id=user)
        # Reminders set in the console arrive in the console while it is open.
        scheduler = ReminderScheduler(settings, store, dialogue, {"console": ConsoleSender(chat)})
        await scheduler.start()
        await chat.run()
    finally:
        if scheduler is not None:
            await scheduler.stop()
        await store.close()
    return 0


def reply_json(replies: list[Reply]) -> dict[str, object]:
    """The `ask --json` contract: the first reply's kind/topic/score, all text and buttons."""
    from bot.adapters.render import to_plain

    first = replies[0] if replies else None
    out: dict[str, object] = {
        "kind": str(first.kind) if first else "out_of_scope",
        "topic": first.topic if first else None,
        "score": first.score if first else None,
        "text": "\n\n".join(to_plain(r.text) for r in replies),
        "buttons": [b.label for r in replies for b in r.buttons],
    }
    if first is not None and first.urgency is not None:
        out["urgency"] = first.urgency
    return out


async def _ask(settings: Settings, text: str, as_json: bool, user: str) -> int:
    from bot.adapters.render import to_plain
    from bot.app import build_dialogue
    from bot.core.flood import FloodGate
    from bot.core.types import Incoming

    # One user asking a whole file of questions is not a flood.
    dialogue = build_dialogue(settings=settings, flood=FloodGate(limit=1_000_000))
    lines = sys.stdin if text == "-" else [text]
    for line in lines:
        line = line.rstrip("\n")
        if text == "-" and not line.strip():
            continue
        try:
            replies = await dialogue.handle(Incoming("cli", user, user, text=line))
        except Exception:  # one broken line must never end the run: say so, go on
            logger.exception("ask: a message could not be answered")
            replies = []
            if as_json:
                print(
                    json.dumps(
                        {
                            "kind": "error",
                            "topic": None,
                            "score": None,
                            "text": "Sorry, something went wrong with that message.",
                            "buttons": [],
                        }
                    ),
                    flush=True,
                )
                continue
        if as_json:
            print(json.dumps(reply_json(replies), ensure_ascii=False), flush=True)
        else:
            for r in replies:
                print(to_plain(r.text))
                for b in r.buttons:
                    print(f"  [{b.label}]")
    return 0
