"""The command line, run as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def backbot(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, cwd: Path | None = None
):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DISCORD_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=cwd or ROOT,
        timeout=60,
    )


def test_ask_json_reads_one_message_per_line() -> None:
    lines = [
        "how long should I hold a plank",
        "my back hurts and I can't control my bladder",
        "",
        "best pizza in town",
        "hi",
    ]
    p = backbot("ask", "-", "--json", stdin="\n".join(lines) + "\n")
    assert p.returncode == 0, p.stderr
    rows = [json.loads(x) for x in p.stdout.splitlines()]
    assert len(rows) == 4
    for row in rows:
        assert set(row) - {"urgency"} == {"kind", "topic", "score", "text", "buttons"}
        assert isinstance(row["buttons"], list)
    assert rows[0]["kind"] == "faq" and rows[0]["topic"] == "plank_hold_time"
    assert isinstance(rows[0]["score"], float)
    assert rows[1]["kind"] == "red_flag"
    assert rows[2]["kind"] == "out_of_scope" and rows[2]["topic"] is None
    assert rows[3]["kind"] == "smalltalk"


def test_ask_plain_text() -> None:
    p = backbot("ask", "how do I do a dead bug")
    # Plain text spells each source's link out: its name, then the URL in brackets.
    assert p.returncode == 0 and re.search(r"Sources?: .+ \(https://", p.stdout), p.stdout


def test_unknown_flag_is_a_usage_error() -> None:
    p = backbot("ask", "hi", "--frobnicate")
    assert p.returncode == 2 and "usage:" in p.stderr and "Traceback" not in p.stderr


def test_bad_setting_is_one_line_naming_it() -> None:
    p = backbot("ask", "hi", env={"DEFAULT_TIMEZONE": "Mars/Olympus"})
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0 and "DEFAULT_TIMEZONE" in p.stderr


def test_run_without_tokens_or_terminal_names_the_settings(tmp_path: Path) -> None:
    p = backbot("run", stdin="", cwd=tmp_path)
    assert p.returncode == 2
    assert (
        "TELEGRAM_TOKEN" in p.stderr and "DISCORD_TOKEN" in p.stderr and "Traceback" not in p.stderr
    )


def test_chat_console_transcript_persists(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/chat.db"}
    p = backbot("chat", "--user", "ana", stdin="#5\n/done\nquit\n", env=env)
    assert p.returncode == 0, p.stderr
    assert "backbot" in p.stdout and "[#1]" in p.stdout and "Logged" in p.stdout
    p2 = backbot("chat", "--user", "ana", stdin="/done\n", env=env)
    assert "already logged" in p2.stdout


@pytest.mark.parametrize("name", ["kb", "db", "bench"])
def test_group_commands_need_a_subcommand(name: str) -> None:
    p = backbot(name)
    assert p.returncode == 2 and "usage:" in p.stderr


def test_unreachable_database_is_one_line_with_the_password_masked() -> None:
    env = {"DATABASE_URL": "postgresql+asyncpg://bob:hunter2@127.0.0.1:1/backbot"}
    p = backbot("chat", stdin="", env=env)
    assert p.returncode == 2
    assert "DATABASE_URL" in p.stderr and "hunter2" not in p.stderr + p.stdout
    assert "Traceback" not in p.stderr and p.stderr.strip().count("\n") == 0


def test_output_cut_short_by_the_reader_is_not_a_traceback() -> None:
    # `backbot ask - | head -1`: the reader goes away, then the next answer has nowhere to go.
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "ask", "-"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write("hi\n")
    proc.stdin.flush()
    assert proc.stdout.readline()
    proc.stdout.close()
    proc.stdin.write("how long should I hold a plank\n")
    proc.stdin.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141
    assert "Traceback" not in err and "Exception ignored" not in err, err
