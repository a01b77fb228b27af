"""Collect every labelled message in tests/data into knowledge/red_flag_examples.jsonl.

    python tools/build_red_flag_examples.py [--exclude redflag_fresh10 ...]

The examples train the red-flag second opinion (bot/second_opinion.py). A set that has not yet
been measured on first contact must be excluded, or its score would mean nothing: measure it
with `backbot kb eval`, then rebuild with it included.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
OUT = ROOT / "knowledge" / "red_flag_examples.jsonl"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exclude", nargs="*", default=[], help="set names to leave out")
    args = ap.parse_args()
    seen: dict[str, bool] = {}
    used = []
    for path in sorted(DATA.glob("*.jsonl")):
        if path.stem in args.exclude:
            continue
        used.append(path.stem)
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                # A text labelled a red flag anywhere stays a red flag.
                text = " ".join(row["text"].split())
                seen[text] = seen.get(text, False) or row["kind"] == "red_flag"
    with OUT.open("w", encoding="utf-8") as f:
        for text, flag in seen.items():
            f.write(json.dumps({"text": text, "red_flag": flag}, ensure_ascii=False) + "\n")
    print(f"{OUT.relative_to(ROOT)}: {len(seen)} examples ({sum(seen.values())} red flags)")
    print("from: " + ", ".join(used))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
