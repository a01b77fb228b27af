"""The misses of a readable question set (never a sealed one): what was asked, what a good answer
mentions, and what the bot replied.

    python tools/question_misses.py tests/data/dev3_questions.jsonl [--width 160]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.question_eval import answers, good, read_rows  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", type=Path)
    ap.add_argument("--width", type=int, default=160)
    args = ap.parse_args()
    if "sealed" in args.file.resolve().parts:
        print("refusing: the misses of a sealed set must not be read", file=sys.stderr)
        return 2
    rows = read_rows(args.file)
    got = asyncio.run(answers([r.text for r in rows], Settings().knowledge_dir))
    w = args.width
    for row, (reply, screened) in zip(rows, got, strict=True):
        if good(row, reply):
            continue
        said = f"{reply.kind}: {reply.text[:w]!r}" if reply else "no reply"
        print(f"- [{row.kind}/{row.style}{' screened' if screened else ''}] {row.text[-w:]!r}")
        print(f"    mention {list(row.mention)} -> {said}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
