"""3,000 hostile messages through the real CLI (`backbot ask - --json`) in a subprocess.

Every line in must give one JSON line out with a reply text, exit code 0 and no traceback on
stderr (`ask` catches a crash per line and answers `kind: "error"`, but logs the traceback — so
a crash in the core shows up here as "Traceback" on stderr and an "error" row).

The subprocess runs with a temporary HOME and cwd (no `.env` is read), no platform tokens, and
DATABASE_URL pointing at a temporary SQLite file (`ask` answers from an in-memory store today;
the URL is set so a future change cannot reach a real database).

Wall time on 2 cores: about 35 s for the 3,000 messages (30 of them 10,000 characters, ~220
of 1,000+ characters), most of it in the long lines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile import MAX_LEN, hostile_messages

ROOT = Path(__file__).resolve().parents[2]
N = 3_000


@pytest.mark.timeout(180)
def test_hostile_messages_each_get_one_json_reply(tmp_path: Path) -> None:
    messages = hostile_messages(N)
    assert len(messages) == N
    assert sum(len(m) == MAX_LEN for m in messages) >= 30
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DISCORD_", "DATABASE_URL"))
    }
    env.update(
        HOME=str(tmp_path),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'backbot.db'}",
        PYTHONIOENCODING="utf-8",
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        LOG_LEVEL="WARNING",
    )
    p = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "-", "--json"],
        input="".join(m + "\n" for m in messages).encode("utf-8"),
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=170,
    )
    out = p.stdout.decode("utf-8")
    err = p.stderr.decode("utf-8", errors="replace")
    # Split on '\n' only: JSON keeps U+2028, U+0085 etc. raw, and str.splitlines() would cut there.
    lines = out.split("\n")
    assert lines[-1] == "", "output does not end with a newline"
    lines = lines[:-1]
    assert p.returncode == 0, err[-2000:]
    assert len(lines) == N, f"{len(lines)} replies to {N} messages"
    errors = []
    for i, line in enumerate(lines, 1):
        row = json.loads(line)
        assert isinstance(row, dict), (i, line[:200])
        text = row.get("text")
        assert isinstance(text, str) and text.strip(), (i, messages[i - 1][:200], line[:200])
        if row.get("kind") == "error":
            errors.append(f"#{i} {messages[i - 1][:60]!r}")
    assert "Traceback" not in err, f"{len(errors)} crashed: {errors[:10]}\n{err[-3000:]}"
    assert not errors, errors
