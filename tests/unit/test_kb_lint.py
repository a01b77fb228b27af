"""The first-sentence lint of `kb check`: a bare "Yes."/"No." the answer later takes back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot import kb as kb_module
from bot.cli import main
from bot.config import DEFAULT_KNOWLEDGE_DIR
from bot.kb import FaqEntry, bare_opener_contradictions


def _entry(answer: str, id: str = "x") -> FaqEntry:
    return FaqEntry(id=id, question="q?", alternates=["a", "b", "c"], answer=answer, sources=["s"])


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (
            "No. Crunches aren't back therapy. If your back is fine, occasional crunches are OK.",
            '"occasional"',
        ),
        ("Yes. Walk daily, but stop if leg pain gets worse.", '"but"'),
        (
            "Usually no.\nThey load the spine. However, light ones can be fine.",
            '"However", "can be fine"',
        ),
        ("No! It usually helps to rest.", '"usually"'),
    ],
)
def test_flags_a_bare_opener_taken_back_later(answer: str, words: str) -> None:
    [(entry, _, got)] = bare_opener_contradictions([_entry(answer)])
    assert entry == "x" and got == words


@pytest.mark.parametrize(
    "answer",
    [
        "Yes. Walking is one of the best ways to stay active.",  # nothing taken back
        "Yes, for most people, but build up slowly.",  # the condition is in the first sentence
        "Usually yes. It usually helps.",  # "usually" after "Usually yes" repeats, not reverses
        "Not always. But often.",  # not a bare yes/no
        "Nobody knows, but try it.",
    ],
)
def test_leaves_answers_that_say_the_condition_first(answer: str) -> None:
    assert bare_opener_contradictions([_entry(answer)]) == []


def test_kb_check_prints_a_warning_and_still_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path / "kb"
    shutil.copytree(DEFAULT_KNOWLEDGE_DIR, d)
    faq = d / "faq.yaml"
    text = faq.read_text(encoding="utf-8")
    kb = kb_module.load(d)
    first = kb.faq[0]
    # Rewrite the first entry's answer through YAML so the file stays valid.
    data = yaml.safe_load(text)
    data["entries"][0]["answer"] = "No. It is not needed. However, some people like it."
    faq.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert main(["kb", "check", "--dir", str(d)]) == 0
    out = capsys.readouterr().out
    assert "knowledge base OK" in out
    assert f'WARNING faq.yaml: {first.id}: answer opens with a bare "No."' in out
