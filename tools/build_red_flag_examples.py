"""Collect every labelled message in tests/data into knowledge/red_flag_examples.jsonl.

    python tools/build_red_flag_examples.py [--exclude redflag_fresh10 ...]

The examples train the red-flag model (bot/triage_train.py; `backbot triage build` turns them
into knowledge/red_flag_model.npz). Only the sets directly in tests/data are read: the sealed sets
in tests/data/sealed/ never are. A set that has not yet been measured on first contact must be
excluded, or its score would mean nothing: measure it with `backbot kb eval`, then rebuild.
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
    seen: dict[str, dict[str, object]] = {}
    used = []
    for path in sorted(DATA.glob("*.jsonl")):
        if path.stem in args.exclude:
            continue
        used.append(path.stem)
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                # A text labelled a red flag anywhere stays a red flag (with its flag id).
                text = " ".join(row["text"].split())
                flag = row["kind"] == "red_flag"
                prev = seen.get(text)
                if prev is None or (flag and not prev["red_flag"]):
                    seen[text] = {
                        "text": text,
                        "red_flag": flag,
                        "topic": row.get("topic") if flag else None,
                        "set": path.stem,
                    }
    with OUT.open("w", encoding="utf-8") as f:
        for row in seen.values():
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    n_flags = sum(bool(r["red_flag"]) for r in seen.values())
    print(f"{OUT.relative_to(ROOT)}: {len(seen)} examples ({n_flags} red flags)")
    print("from: " + ", ".join(used))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
