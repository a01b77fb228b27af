"""Knowledge-base validation: every kind of error names its file and entry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot import kb as kb_module
from bot.cli import main
from bot.config import DEFAULT_KNOWLEDGE_DIR
from bot.errors import KnowledgeError


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    d = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, d)
    return d


def edit(d: Path, name: str, fn) -> None:
    path = d / name
    data = yaml.safe_load(path.read_text())
    fn(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def test_shipped_kb_is_valid_and_big_enough(kb) -> None:
    assert kb_module.check(DEFAULT_KNOWLEDGE_DIR) == []
    assert len(kb.faq) >= 60
    assert all(len(e.alternates) >= 3 for e in kb.faq)
    assert {
        "cauda_equina",
        "leg_weakness",
        "fever",
        "trauma",
        "weight_loss",
        "cancer_history",
        "night_pain",
    } <= {r.id for r in kb.safety.red_flags}
    levels = {(p.level, p.equipment) for p in kb.plans if not p.gentle}
    assert {
        (lv, eq) for lv in ("beginner", "intermediate", "advanced") for eq in ("none", "gym")
    } <= levels


def test_every_claim_has_a_resolvable_source(kb) -> None:
    for e in kb.faq:
        assert e.sources and all(s in kb.sources for s in e.sources), e.id
    for x in kb.exercises.values():
        assert x.sources, x.id


@pytest.mark.parametrize(
    ("file", "mutate", "expect"),
    [
        ("faq.yaml", lambda d: d["entries"][0].update(colour="red"), "unknown key"),
        ("faq.yaml", lambda d: d["entries"].append(dict(d["entries"][0])), "duplicate id"),
        (
            "faq.yaml",
            lambda d: d["entries"][0].update(follow_up=["no_such_entry"]),
            "follow_up 'no_such_entry'",
        ),
        ("faq.yaml", lambda d: d["entries"][0].update(sources=[]), "sources"),
        (
            "smalltalk.yaml",
            lambda d: d["intents"][0].update(buttons=["no_such_entry"]),
            "button 'no_such_entry'",
        ),
        (
            "safety.yaml",
            lambda d: d["model"].update(needs=["(unclosed"]),
            "not a valid regex",
        ),
        (
            "safety.yaml",
            lambda d: d.update(button="no_such_entry"),
            "'no_such_entry' is not a known entry",
        ),
        (
            "faq.yaml",
            lambda d: d["entries"][0].update(sources=["nowhere"]),
            "unknown source 'nowhere'",
        ),
        ("faq.yaml", lambda d: d["entries"][0].update(answer="x" * 2000), "answer"),
        ("faq.yaml", lambda d: d["entries"][0].update(alternates=["one"]), "alternates"),
        (
            "exercises.yaml",
            lambda d: d["exercises"][0].update(easier="levitation"),
            "variant 'levitation'",
        ),
        (
            "plans.yaml",
            lambda d: d["plans"][0]["sessions"][0]["items"].append({"exercise": "ghost"}),
            "unknown exercise 'ghost'",
        ),
        (
            "safety.yaml",
            lambda d: d["red_flags"][0].update(patterns=["(unclosed"]),
            "not a valid regex",
        ),
        ("sources.yaml", lambda d: d["sources"][0].update(url="http://insecure"), "https"),
        # a level's words in another level's message: a same-day flag must not say "999"
        (
            "safety.yaml",
            lambda d: next(f for f in d["red_flags"] if f["id"] == "fever").update(
                message="Call 999 now."
            ),
            "urgent message uses emergency wording",
        ),
        (
            "safety.yaml",
            lambda d: d["red_flags"][0].update(patterns=["%no_such_concept%"]),
            "unknown concept %no_such_concept%",
        ),
        (
            "safety.yaml",
            lambda d: d["screening"]["items"][0].update(flag="ghost"),
            "unknown flag ghost",
        ),
        ("safety.yaml", lambda d: d["levels"].pop("soon"), "level 'soon' has no header"),
    ],
)
def test_validation_errors_name_file_and_entry(kb_dir: Path, file, mutate, expect) -> None:
    first_id = {
        "faq.yaml": "entries",
        "exercises.yaml": "exercises",
        "plans.yaml": "plans",
        "safety.yaml": None,
        "sources.yaml": "sources",
        "smalltalk.yaml": "intents",
    }[file]
    entry_id = yaml.safe_load((kb_dir / file).read_text())[first_id][0]["id"] if first_id else None
    edit(kb_dir, file, mutate)
    problems = kb_module.check(kb_dir)
    assert problems, "the broken KB passed validation"
    hit = [p for p in problems if p.startswith(file) and expect in p]
    assert hit, problems
    if entry_id:
        assert any(entry_id in p for p in hit), hit
    with pytest.raises(KnowledgeError):
        kb_module.load(kb_dir)


def test_gentle_plan_must_be_pain_safe(kb_dir: Path, kb) -> None:
    unsafe = next(x.id for x in kb.exercises.values() if not x.pain_safe)

    def mutate(d):
        gentle = next(p for p in d["plans"] if p.get("gentle"))
        gentle["sessions"][0]["items"].append({"exercise": unsafe})

    edit(kb_dir, "plans.yaml", mutate)
    assert any("not pain_safe" in p for p in kb_module.check(kb_dir))


def test_malformed_yaml_names_the_line(kb_dir: Path) -> None:
    (kb_dir / "faq.yaml").write_text("entries:\n  - id: x\n    question: [unclosed\n")
    problems = kb_module.check(kb_dir)
    assert any(p.startswith("faq.yaml") and "line" in p for p in problems), problems


def test_missing_file(kb_dir: Path) -> None:
    (kb_dir / "smalltalk.yaml").unlink()
    assert any(p.startswith("smalltalk.yaml") and "missing" in p for p in kb_module.check(kb_dir))


def test_kb_check_command_exit_codes(kb_dir: Path, capsys) -> None:
    assert main(["kb", "check", "--dir", str(kb_dir)]) == 0
    assert "knowledge base OK" in capsys.readouterr().out
    edit(kb_dir, "faq.yaml", lambda d: d["entries"][0].update(colour="red"))
    assert main(["kb", "check", "--dir", str(kb_dir)]) == 1
    out = capsys.readouterr().out
    assert "faq.yaml" in out and "unknown key" in out
