"""Collect every labelled message in tests/data into bot/knowledge/red_flag_examples.jsonl.

    python tools/build_red_flag_examples.py [--exclude redflag_fresh10 ...]

The examples train the red-flag model (bot/triage_train.py; `backbot triage build` turns them
into bot/knowledge/red_flag_model.npz). Only the sets directly in tests/data are read: the sealed sets
in tests/data/sealed/ never are. A set that has not yet been measured on first contact must be
excluded, or its score would mean nothing: measure it with `backbot kb eval`, then rebuild.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
OUT = ROOT / "bot" / "knowledge" / "red_flag_examples.jsonl"


# Sets written in the sealed-set format (kind "ordinary"/"red_flag", urgency, category) name a
# symptom category rather than a flag id; this is the flag each category belongs to.
CATEGORY_FLAG = {
    **dict.fromkeys(
        ("bladder", "bowel", "saddle_numbness", "sexual", "sexual_dysfunction", "cauda_equina"),
        "cauda_equina",
    ),
    **dict.fromkeys(("both_legs", "one_leg", "one_leg_weakness", "foot_drop"), "leg_weakness"),
    **dict.fromkeys(("chest", "breathless", "tearing"), "chest_pain"),
    **dict.fromkeys(
        ("major_trauma", "minor_trauma_osteoporosis", "minor_fall_bone_risk", "steroids"), "trauma"
    ),
    **dict.fromkeys(("not_improving", "age"), "not_improving"),
    "fever": "fever",
    "cancer_history": "cancer_history",
    "night_pain": "night_pain",
    "weight_loss": "weight_loss",
    "cough_sneeze": "cough_sneeze",
    "lump": "lump",
}


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
                        "topic": (row.get("topic") or CATEGORY_FLAG[row["category"]])
                        if flag
                        else None,
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
